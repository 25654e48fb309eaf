"""Counting a campaign's vote from the database, publishing the results and the ballots.

The rule is the campaign's ``counting_rule``; everything else about it is fixed here and
shown on the campaign page before the vote opens (``declared_rule``):

- utility: cost (greedy ranks by votes or points; MES counts a project's satisfaction as
  its cost times the voter's points);
- MES is completed the way Aarau and Wieliczka do: *add1* (every voter's share is raised by
  one euro at a time while the outcome stays within the budget), then a *greedy completion*
  with the money MES left (``add1-greedy``);
- ties are broken by the chain ``more-votes,fewer-euros,id``: the project with more votes
  (or points), then the cheaper one, then the older proposal (smaller number); a project
  nobody voted for is never funded.

Determinism: the input is the multiset of ballots of the envelope (read grouped by their
canonical text, so no row order can leak in) with the projects and the budget; the output
is canonical JSON (sorted keys, no spaces), so the same input gives the same bytes. The
input digest is documented in :func:`input_digest` so that anyone holding the published
ballot list can recompute it.

Services validate, change state and flush; the caller commits (STYLE.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from civic.accounts.models import User
from civic.audit import audit
from civic.budgeting.models import Campaign, Envelope, Proposal
from civic.budgeting.services import BudgetError, transition
from civic.budgeting.states import Phase, ProposalStatus
from civic.counting.api import Outcome, ProjectResult, count
from civic.counting.compare import compare, comparison_json
from civic.counting.model import Ballot as CBallot
from civic.counting.model import CountingError, Instance, Profile, Project
from civic.extensions import db
from civic.timeutil import utcnow
from civic.voting.ballots import MalformedChoices, chain, parse_choices
from civic.voting.models import Ballot, CountRun

S = ProposalStatus
UTILITY = "cost"
TIE_BREAK = "more-votes,fewer-euros,id"
COMPLETION = {"greedy": "none", "mes": "add1-greedy"}
# The rule shown next to the campaign's own, for the greedy-vs-MES comparison.
OTHER_RULE = {"greedy": "mes", "mes": "greedy"}
# Published lists and breakdowns: fewer than this many ballots or people are withheld.
MIN_PUBLISHED = 5
# Statuses of proposals that were on a ballot (before and after the count).
ON_BALLOT = (S.FEASIBLE.value, S.SELECTED.value, S.WINNER.value, S.NOT_WINNER.value,
             S.REALISED.value)

RULE_TITLES = {"greedy": _l("Greedy: most votes first, while money remains"),
               "mes": _l("Method of Equal Shares")}
COMPLETION_TITLES = {
    "none": _l("none"),
    "add1-greedy": _l("every voter's share is raised one euro at a time while the outcome "
                      "stays within the budget (add1), then the money left funds the most "
                      "voted projects that still fit (greedy completion)"),
}
TIE_BREAK_TITLE = _l("the project with more votes (or points), then the cheaper one, then "
                     "the older proposal (smaller number); a project nobody voted for is "
                     "never funded")
# The engine's reason codes (civic.counting.api.REASONS), for residents.
REASON_TITLES = {
    "funded": _l("Funded: it fitted in what was left of the budget."),
    "funded_mes": _l("Funded by equal shares: its supporters could pay for it together."),
    "funded_completion": _l("Funded by the greedy completion, with the money equal shares "
                            "left."),
    "funded_free": _l("Funded first: it costs nothing and has supporters."),
    "did_not_fit": _l("Not funded: it cost more than what was left of the budget."),
    "supporters_could_not_afford": _l("Not funded: its supporters had too little of their "
                                      "share left to pay for it."),
    "below_threshold": _l("Not funded: fewer votes than the minimum required."),
    "funded_comparison": _l("Funded: more voters preferred the greedy outcome to equal "
                            "shares."),
    "free_not_counted": _l("Not funded by equal shares: it costs nothing, so it brings no "
                           "satisfaction under cost utility."),
    "no_supporters": _l("Not funded: nobody voted for it."),
}


class CountError(BudgetError):
    """A count or a publication that cannot be done now (translated message)."""


@dataclass(frozen=True)
class DeclaredRule:
    """The counting rule of a campaign, as published before the vote."""

    rule: str
    utility: str
    completion: str
    tie_break: str

    @property
    def title(self) -> str:
        """The rule's translated name."""
        return str(RULE_TITLES.get(self.rule, self.rule))

    @property
    def completion_title(self) -> str:
        """The completion, explained."""
        return str(COMPLETION_TITLES.get(self.completion, self.completion))

    @property
    def tie_break_title(self) -> str:
        """The tie-break chain, explained."""
        return str(TIE_BREAK_TITLE)


def declared_rule(campaign: Campaign) -> DeclaredRule:
    """The full counting rule of a campaign (shown on its page before the vote)."""
    rule = campaign.counting_rule if campaign.counting_rule in COMPLETION else "greedy"
    return DeclaredRule(rule, UTILITY, COMPLETION[rule], TIE_BREAK)


# ---------------------------------------------------------------- building the election

@dataclass
class Election:
    """One envelope's election read from the database, ready for the counting engine."""

    instance: Instance
    profile: Profile
    proposals: dict[str, Proposal]  # engine project id -> proposal
    groups: list[tuple[str, int]]  # (canonical choices, number of ballots), sorted
    ballots: int


def ballot_proposals(envelope: Envelope) -> list[Proposal]:
    """The proposals that were on this envelope's ballot (feasible, answer published, cost
    validated), whatever the count later made of them; by id."""
    campaign = envelope.campaign
    rows = db.session.execute(
        select(Proposal).where(Proposal.campaign_id == campaign.id,
                               Proposal.status.in_(ON_BALLOT),
                               Proposal.answer_published_at.is_not(None),
                               Proposal.validated_cost_cents.is_not(None))
        .order_by(Proposal.id)).scalars()
    return [p for p in rows if campaign.envelope_for(p.quartier_id) is envelope]


def ballot_groups(envelope: Envelope) -> list[tuple[str, int]]:
    """The envelope's ballots as (canonical choices, how many), sorted by choices. The
    database groups them: a million ballots come back as a few thousand rows."""
    rows = db.session.execute(
        select(Ballot.choices, func.count()).where(Ballot.envelope_id == envelope.id)
        .group_by(Ballot.choices)).all()
    return sorted((c, int(n)) for c, n in rows)


def build_election(envelope: Envelope, labels: dict[int, str] | None = None) -> Election:
    """The counting engine's Instance and Profile for an envelope.

    ``labels`` renames projects (proposal id -> engine id; the Pabulib ids of an imported
    campaign); by default the engine id is the proposal number. Identical ballots share
    one Ballot object, so a million ballots cost a million pointers, not a million objects.
    """
    campaign = envelope.campaign
    proposals = ballot_proposals(envelope)
    label = {p.id: (labels or {}).get(p.id, str(p.id)) for p in proposals}
    cumulative = campaign.ballot_format == "cumulative"
    vote_type = "cumulative" if cumulative else "approval"
    try:
        instance = Instance(
            budget=envelope.amount_cents,
            projects=tuple(Project(label[p.id], int(p.validated_cost_cents or 0))
                           for p in proposals),
            vote_type=vote_type)
    except CountingError as exc:
        raise CountError(_("These projects cannot be counted: %(reason)s",
                           reason=str(exc))) from exc
    groups = ballot_groups(envelope)
    ballots: list[CBallot] = []
    total = 0
    for text, n in groups:
        try:
            choices = parse_choices(text)
        except MalformedChoices as exc:
            raise CountError(_("A stored ballot is malformed (%(reason)s): the count "
                               "stops.", reason=str(exc))) from exc
        unknown = [pid for pid in choices if pid not in label]
        if unknown:
            raise CountError(_("A ballot names project %(id)s, which is not on this "
                               "envelope's ballot: the count stops.", id=unknown[0]))
        ids = tuple(label[pid] for pid in sorted(choices))
        points = tuple(choices[pid] for pid in sorted(choices)) if cumulative else None
        ballot = CBallot(projects=ids, points=points)
        ballots.extend([ballot] * n)
        total += n
    profile = Profile(ballots=tuple(ballots), vote_type=vote_type)
    return Election(instance, profile, {label[p.id]: p for p in proposals}, groups, total)


def input_digest(election: Election, rule: DeclaredRule) -> str:
    """sha256 of the canonical input: one JSON header line (sorted keys, no spaces) with
    the budget in cents, the projects [[id, cost in cents]…] and the rule, then one line
    ``<count> <choices>`` per distinct ballot, sorted by choices."""
    header = {"budget_cents": election.instance.budget,
              "projects": [[p.id, p.cost] for p in election.instance.projects],
              "vote_type": election.instance.vote_type, "rule": rule.rule,
              "utility": rule.utility, "completion": rule.completion,
              "tie_break": rule.tie_break}
    h = hashlib.sha256(canonical(header).encode())
    for text, n in election.groups:
        h.update(f"\n{n} {text}".encode())
    return h.hexdigest()


def canonical(data: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _cents(value: Fraction | None) -> int | None:
    """Exact cents rounded half up, for display (the engine keeps Fractions)."""
    return None if value is None else int((value * 2 + 1) // 2)


def _project_json(r: ProjectResult) -> dict[str, Any]:
    return {"cost_cents": r.cost, "votes": r.votes, "score": r.score, "funded": r.funded,
            "reason": r.reason, "order": r.order, "money_left_cents": r.money_left,
            "price_per_supporter_cents": _cents(r.price_per_supporter),
            "full_payers": r.full_payers, "partial_payers": r.partial_payers,
            "partial_paid_cents": _cents(r.partial_paid) if r.partial_payers else None,
            "supporters_money_cents": _cents(r.supporters_money)}


def run_rule(election: Election, rule: str, tie_break: str = TIE_BREAK) -> Outcome:
    """Count one election with one of the two rules, as the campaign declares them."""
    return count(election.instance, election.profile, rule=rule, utility=UTILITY,
                 completion=COMPLETION[rule], tie_break=tie_break)


def count_document(election: Election, rule: DeclaredRule) -> dict[str, Any]:
    """The whole result of one envelope: the campaign's rule, the other rule for the
    comparison, per-project figures with reason codes, and the engine's own JSON."""
    try:
        main = run_rule(election, rule.rule, rule.tie_break)
        other = run_rule(election, OTHER_RULE[rule.rule], rule.tie_break)
    except CountingError as exc:
        raise CountError(_("The count failed: %(reason)s", reason=str(exc))) from exc
    sides = compare(election.profile, {main.rule: main, other.rule: other})
    return {
        "rule": rule.rule, "utility": rule.utility, "completion": rule.completion,
        "tie_break": rule.tie_break, "vote_type": election.instance.vote_type,
        "budget_cents": election.instance.budget, "ballots": election.ballots,
        "winners": list(main.winners), "total_cost_cents": main.total_cost,
        "projects": {r.id: _project_json(r) for r in main.projects},
        "engine": main.to_json(),
        "other": {"rule": OTHER_RULE[rule.rule], "winners": list(other.winners),
                  "total_cost_cents": other.total_cost,
                  "projects": {r.id: _project_json(r) for r in other.projects},
                  "engine": other.to_json()},
        "comparison": comparison_json(sides),
        "comparison_labels": {"main": main.rule, "other": other.rule},
    }


# ---------------------------------------------------------------- count, re-run, publish

def _check_closed(campaign: Campaign) -> None:
    if campaign.phase().index < Phase.RESULTS.index:
        raise CountError(_("The vote is not closed yet: the count starts at the close."))


def count_envelope(campaign: Campaign, envelope: Envelope, actor: User | None) -> CountRun:
    """Count one envelope with the campaign's rule and store the run (not published)."""
    if envelope.campaign_id != campaign.id:
        raise CountError(_("This envelope is not one of this campaign's."))
    _check_closed(campaign)
    rule = declared_rule(campaign)
    election = build_election(envelope)
    document = count_document(election, rule)
    output = canonical(document)
    run = CountRun(
        campaign_id=campaign.id, envelope_id=envelope.id, rule=rule.rule,
        utility=rule.utility, completion=rule.completion, tie_break=rule.tie_break,
        threshold=0, ballots_count=election.ballots,
        input_digest=input_digest(election, rule), output_json=output,
        output_digest=hashlib.sha256(output.encode()).hexdigest(),
        computed_at=utcnow(), computed_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    audit(actor, "vote.counted", None,
          f"campaign {campaign.id}, envelope {envelope.id}: run {run.id}, rule {rule.rule}, "
          f"{election.ballots} ballots, output {run.output_digest[:16]}")
    return run


def count_campaign(campaign: Campaign, actor: User | None) -> list[CountRun]:
    """Count every envelope of a campaign (a coordinator's re-run, or the close)."""
    return [count_envelope(campaign, e, actor) for e in campaign.envelopes]


def latest_run(envelope: Envelope) -> CountRun | None:
    """The envelope's most recent count."""
    return db.session.execute(
        select(CountRun).where(CountRun.envelope_id == envelope.id)
        .order_by(CountRun.id.desc()).limit(1)).scalar_one_or_none()


def published_run(envelope: Envelope) -> CountRun | None:
    """The envelope's published count, if any (at most one is ever published)."""
    return db.session.execute(
        select(CountRun).where(CountRun.envelope_id == envelope.id,
                               CountRun.published_at.is_not(None))
        .order_by(CountRun.id.desc()).limit(1)).scalar_one_or_none()


def is_published(campaign: Campaign) -> bool:
    """True once a coordinator published the campaign's results."""
    return db.session.scalar(
        select(func.count()).select_from(CountRun).where(
            CountRun.campaign_id == campaign.id, CountRun.published_at.is_not(None))) > 0


def count_at_close(campaign: Campaign, now: Any = None) -> list[CountRun]:
    """Once the vote has closed: count every envelope that has no count yet (idempotent;
    the tick calls it). Nothing is published."""
    if campaign.vote_opened_at is None or campaign.phase(now).index < Phase.RESULTS.index:
        return []
    runs = []
    for envelope in campaign.envelopes:
        if latest_run(envelope) is not None:
            continue
        try:
            runs.append(count_envelope(campaign, envelope, None))
        except CountError as exc:  # reported, and the other envelopes still counted
            audit(None, "vote.count_failed", None,
                  f"campaign {campaign.id}, envelope {envelope.id}: {exc.message}")
    return runs


def published_entries(envelope: Envelope) -> list[tuple[str, str]]:
    """The published ballot list of an envelope: (lookup, choices), ordered by lookup."""
    return [(lookup, choices) for lookup, choices in db.session.execute(
        select(Ballot.lookup, Ballot.choices).where(Ballot.envelope_id == envelope.id)
        .order_by(Ballot.lookup)).all()]


def chain_head_now(envelope: Envelope) -> str:
    """The final hash of the envelope's ballot list as the database holds it now."""
    links = chain(published_entries(envelope))
    return links[-1] if links else ""


def publish_results(campaign: Campaign, actor: User) -> list[CountRun]:
    """Publish the latest count of every envelope: winners become winners, the ballot list
    is chained and its final hash kept. Refused if a ballot changed since the count."""
    _check_closed(campaign)
    if is_published(campaign):
        raise CountError(_("The results of this campaign are already published."))
    runs = []
    for envelope in campaign.envelopes:
        run = latest_run(envelope)
        if run is None:
            raise CountError(_("Count every envelope before publishing."))
        election = build_election(envelope)
        if input_digest(election, declared_rule(campaign)) != run.input_digest:
            raise CountError(_("The ballots or the projects changed since the last count: "
                               "re-run the count, then publish."))
        runs.append((envelope, run, election))
    now = utcnow()
    published = []
    for envelope, run, election in runs:
        run.chain_head = chain_head_now(envelope)
        run.published_at = now
        run.published_by_id = actor.id
        document = json.loads(run.output_json)
        _mark_winners(election, document, actor)
        audit(actor, "vote.results_published", None,
              f"campaign {campaign.id}, envelope {envelope.id}: run {run.id}, "
              f"chain head {run.chain_head[:16]}")
        published.append(run)
    db.session.flush()
    return published


def _mark_winners(election: Election, document: dict[str, Any], actor: User) -> None:
    from civic.voting.realisation import start_realisation

    for pid, figures in document["projects"].items():
        proposal = election.proposals[pid]
        # Imported projects belong to a system account that has no one to tell.
        tell = not (proposal.author.email or "").endswith("@civic.invalid")
        if proposal.state is S.FEASIBLE:
            transition(proposal, S.SELECTED, actor, _("On the ballot."), notify_people=False)
        if proposal.state is not S.SELECTED:
            continue
        if figures["funded"]:
            transition(proposal, S.WINNER, actor, _("Funded by the vote."),
                       notify_people=tell)
            start_realisation(actor, proposal)
        else:
            transition(proposal, S.NOT_WINNER, actor, _("Not funded by the vote."),
                       notify_people=tell)


def reason_text(figures: dict[str, Any]) -> str:
    """The translated explanation of one project's outcome."""
    return str(REASON_TITLES.get(figures.get("reason", ""), figures.get("reason", "")))
