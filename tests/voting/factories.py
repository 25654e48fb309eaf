"""Vote test factories: a campaign in its vote phase with proposals on the ballots, built
through the same services as the app (proposal → feasibility review → published answer →
vote opened by the tick)."""

from __future__ import annotations

from dataclasses import dataclass

from civic.accounts.models import User
from civic.budgeting import services as budget
from civic.budgeting.models import Campaign, Envelope, Proposal
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.review import services as review
from civic.territory import services as territory
from tests.budgeting.factories import make_campaign, make_proposal, set_phase
from tests.conftest import make_user


@dataclass
class VoteSetup:
    """What a vote test needs: the campaign, its two envelopes and their ballots."""

    campaign: Campaign
    city: Envelope
    quartier: Envelope
    city_options: list[Proposal]
    quartier_options: list[Proposal]
    voter: User  # an eligible resident of the quartier


def make_vote(*, ballot_format: str = "approval", city_costs=(30_000_00, 12_000_00, 9_000_00),
              quartier_costs=(20_000_00, 8_000_00), phase: Phase = Phase.VOTE,
              tag: str = "", **campaign_overrides) -> VoteSetup:
    """A campaign in its vote phase; costs are the validated costs, in cents. ``tag``
    keeps the accounts and service of two setups in one database apart."""
    voter = make_user(f"votante{tag}@example.org")
    coord = make_user(f"coord-vote{tag}@example.org", roles=("coordinator",))
    svc = territory.save_service(None, None, name=f"Études techniques du vote{tag}",
                                 slug=f"voirie-vote{tag}", email=None)
    agent = make_user(f"agent-vote{tag}@example.org", roles=(("agent", svc.id),))
    campaign_overrides.setdefault("max_choices", 2)
    campaign = make_campaign(Phase.SUBMISSION, ballot_format=ballot_format,
                             **campaign_overrides)
    made: list[tuple[Proposal, int]] = []
    for i, cost in enumerate(city_costs):
        made.append((make_proposal(voter, campaign, quartier_id=None,
                                   title=f"Projet ville {i + 1}",
                                   estimated_cost_cents=cost), cost))
    for i, cost in enumerate(quartier_costs):
        made.append((make_proposal(voter, campaign, title=f"Projet quartier {i + 1}",
                                   estimated_cost_cents=cost), cost))
    for proposal, cost in made:
        review.assign_services(coord, proposal, [svc.id])
        verdict = review.VerdictData("feasible", "Faisable.", cost, 4)
        review.record_feasibility(agent, review.reviews_of(proposal)[0], verdict)
    review.publish_answers(coord, campaign, [p.id for p, _ in made])
    db.session.commit()
    set_phase(campaign, Phase.VOTE)
    budget.tick()
    db.session.commit()
    if phase is not Phase.VOTE:
        set_phase(campaign, phase)
    city = campaign.envelope_for(None)
    quartier = campaign.envelope_for(voter.quartier_id)
    votable = budget.votable_proposals(campaign)
    return VoteSetup(campaign, city, quartier, votable[city], votable[quartier], voter)
