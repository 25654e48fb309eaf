"""The voting desk: paper participation against online votes, double keying of paper
sheets, reconciliation, and the campaign scope of desk agents (services and pages)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civic.accounts import services as accounts
from civic.accounts.models import AuditEntry
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.voting import desk
from civic.voting import services as vote
from civic.voting.ballots import parse_choices
from civic.voting.models import Ballot, CountRun, PaperEntry, PaperSheet, VoteParticipation
from tests.budgeting.factories import make_campaign, set_phase
from tests.conftest import login, make_user, post_form
from tests.voting.factories import make_vote


def _count(model, *where) -> int:
    stmt = select(func.count()).select_from(model)
    for clause in where:
        stmt = stmt.where(clause)
    return db.session.execute(stmt).scalar_one()


def _agents(campaign, n=2):
    return [make_user(f"desk{i}@example.org", roles=(("desk_agent", campaign.id),))
            for i in range(1, n + 1)]


def _audited(action: str) -> int:
    return _count(AuditEntry, AuditEntry.action == action)


# ---------------------------------------------------------------- the role

def test_desk_agent_role_is_granted_per_campaign(ctx):
    s = make_vote()
    admin = make_user("admin@example.org", roles=("admin",))
    target = make_user("guichet@example.org")
    assert (s.campaign.id, s.campaign.title) in accounts.scope_choices("desk_agent")
    with pytest.raises(accounts.AccountError):
        accounts.grant_role(admin, target, "desk_agent", None)  # a scope is required
    accounts.grant_role(admin, target, "desk_agent", s.campaign.id)
    db.session.commit()
    assert target.has_role("desk_agent", s.campaign.id)
    other = make_campaign(Phase.VOTE, title="Autre campagne")
    with pytest.raises(desk.NotYourCampaign):
        desk.check_desk_scope(target, other)


# ---------------------------------------------------------------- participation

def test_paper_participation_then_online_vote_is_refused(ctx):
    s = make_vote()
    agent, _ = _agents(s.campaign)
    marked = desk.mark_paper_participation(agent, s.campaign, s.voter,
                                           [s.city.id, s.quartier.id])
    db.session.commit()
    assert {e.id for e in marked} == {s.city.id, s.quartier.id}
    part = vote.participation_of(s.voter, s.city)
    assert part.channel == "paper" and part.recorded_by_id == agent.id
    assert part.receipt_check is None
    with pytest.raises(vote.AlreadyVoted):
        vote.cast_ballot(s.voter, s.city, {s.city_options[0].id: 1})
    db.session.commit()
    assert _count(Ballot) == 0
    assert _audited("vote.paper_participation") == 1


def test_online_vote_then_paper_is_refused_and_nothing_is_written(ctx):
    s = make_vote()
    agent, _ = _agents(s.campaign)
    vote.cast_ballot(s.voter, s.quartier, {s.quartier_options[0].id: 1})
    db.session.commit()
    standing = {st.envelope.id: st for st in desk.standing(agent, s.campaign, s.voter)}
    assert "en ligne" in standing[s.quartier.id].reason
    assert standing[s.city.id].reason is None
    with pytest.raises(vote.AlreadyVoted, match="en ligne"):
        desk.mark_paper_participation(agent, s.campaign, s.voter,
                                      [s.city.id, s.quartier.id])
    db.session.commit()
    # All or nothing: the city-wide envelope, free, was not marked either.
    assert _count(VoteParticipation, VoteParticipation.channel == "paper") == 0
    desk.mark_paper_participation(agent, s.campaign, s.voter, [s.city.id])
    db.session.commit()
    assert vote.participation_of(s.voter, s.city).channel == "paper"


def test_the_constraint_refuses_a_participation_the_agent_did_not_see(ctx, monkeypatch):
    """Check-then-insert is not the guarantee: with the eligibility check blinded (as if
    another desk committed a moment after it ran), the unique constraint still refuses."""
    s = make_vote()
    agent, other = _agents(s.campaign)
    desk.mark_paper_participation(other, s.campaign, s.voter, [s.city.id])
    db.session.commit()
    monkeypatch.setattr(desk, "vote_eligibility", lambda *a, **k: None)
    with pytest.raises(vote.AlreadyVoted, match="sur papier"):
        desk.mark_paper_participation(agent, s.campaign, s.voter, [s.city.id])
    db.session.commit()
    assert _count(VoteParticipation) == 1


def test_ineligible_resident_gets_the_reason(ctx):
    s = make_vote(min_age=16)
    agent, _ = _agents(s.campaign)
    young = make_user("jeune@example.org", birth_year=2024)
    reasons = [st.reason for st in desk.standing(agent, s.campaign, young)]
    assert reasons and all("16" in r for r in reasons)
    with pytest.raises(desk.DeskError, match="16"):
        desk.mark_paper_participation(agent, s.campaign, young, [s.city.id])
    with pytest.raises(desk.DeskError):  # an envelope that is not theirs (forged POST)
        desk.mark_paper_participation(agent, s.campaign, s.voter, [999_999])


def test_participation_only_while_the_vote_is_open(ctx):
    s = make_vote()
    agent, _ = _agents(s.campaign)
    set_phase(s.campaign, Phase.RESULTS)
    with pytest.raises(desk.DeskError, match="clos"):
        desk.mark_paper_participation(agent, s.campaign, s.voter, [s.city.id])


def test_search_shows_few_people_and_needs_enough_characters(ctx):
    s = make_vote()
    agent, _ = _agents(s.campaign)
    with pytest.raises(desk.DeskError):
        desk.find_residents(agent, s.campaign, "vo")
    assert s.voter in desk.find_residents(agent, s.campaign, "votan")
    assert desk.find_residents(agent, s.campaign, "VOTANTE@example.org") == [s.voter]
    assert desk.find_residents(agent, s.campaign, "example.org") == []  # no email browsing
    assert desk.find_residents(agent, s.campaign, "%%%") == []


# ---------------------------------------------------------------- double keying

def test_two_matching_entries_make_exactly_one_paper_ballot(ctx):
    s = make_vote()
    a1, a2 = _agents(s.campaign)
    choice = {s.city_options[0].id: 1, s.city_options[2].id: 1}
    first = desk.key_sheet(a1, s.city, " p-0001 ", choice)
    db.session.commit()
    assert first.outcome == "first" and first.sheet.status == "pending"
    assert _count(Ballot) == 0
    second = desk.key_sheet(a2, s.city, "P-0001", dict(reversed(list(choice.items()))))
    db.session.commit()
    assert second.outcome == "matched"
    sheet = db.session.execute(select(PaperSheet)).scalar_one()
    ballot = db.session.execute(select(Ballot)).scalar_one()
    assert sheet.status == "matched" and sheet.ballot_lookup == ballot.lookup
    assert ballot.source == "paper" and parse_choices(ballot.choices) == choice
    # A matched sheet cannot be keyed again, by anybody.
    a3 = make_user("desk3@example.org", roles=(("desk_agent", s.campaign.id),))
    with pytest.raises(desk.DeskError, match="déjà compté"):
        desk.key_sheet(a3, s.city, "P-0001", choice)
    db.session.commit()
    assert _count(Ballot) == 1 and _count(PaperEntry) == 2
    assert _audited("vote.paper_keyed.matched") == 1


def test_mismatch_makes_no_ballot_until_a_coordinator_resolves_it(ctx):
    s = make_vote()
    a1, a2 = _agents(s.campaign)
    coord = make_user("coord2@example.org", roles=("coordinator",))
    one, two = {s.city_options[0].id: 1}, {s.city_options[1].id: 1}
    desk.key_sheet(a1, s.city, "7", one)
    result = desk.key_sheet(a2, s.city, "7", two)
    db.session.commit()
    assert result.outcome == "mismatch" and _count(Ballot) == 0
    assert desk.sheets_to_reconcile(s.campaign) == [result.sheet]
    with pytest.raises(desk.DeskError):  # no more keying by agents
        desk.key_sheet(make_user("desk3@example.org",
                                 roles=(("desk_agent", s.campaign.id),)), s.city, "7", one)
    sheet = result.sheet
    with pytest.raises(desk.DeskError, match="aucune des deux"):
        desk.resolve_sheet(coord, sheet, {s.city_options[2].id: 1}, "Lu sur le papier")
    with pytest.raises(desk.DeskError):
        desk.resolve_sheet(coord, sheet, two, "")  # a note is mandatory
    db.session.rollback()
    desk.resolve_sheet(coord, sheet, two, "Deuxième case cochée, vérifié à deux.")
    db.session.commit()
    assert sheet.status == "resolved" and sheet.resolved_by_id == coord.id
    ballot = db.session.execute(select(Ballot)).scalar_one()
    assert parse_choices(ballot.choices) == two and ballot.source == "paper"
    with pytest.raises(desk.DeskError):  # resolved once only
        desk.resolve_sheet(coord, sheet, two, "Encore une fois")
    assert _audited("vote.paper_resolved") == 1
    assert desk.sheets_to_reconcile(s.campaign) == []


def test_a_voided_sheet_never_counts(ctx):
    s = make_vote()
    a1, a2 = _agents(s.campaign)
    coord = make_user("coord2@example.org", roles=("coordinator",))
    desk.key_sheet(a1, s.city, "8", {s.city_options[0].id: 1})
    sheet = desk.key_sheet(a2, s.city, "8", {s.city_options[1].id: 1}).sheet
    desk.void_sheet(coord, sheet, "Deux croix illisibles, bulletin nul.")
    db.session.commit()
    assert sheet.status == "void" and _count(Ballot) == 0
    assert _audited("vote.paper_voided") == 1


def test_same_agent_cannot_key_a_sheet_twice(ctx):
    s = make_vote()
    a1, _a2 = _agents(s.campaign)
    choice = {s.city_options[0].id: 1}
    desk.key_sheet(a1, s.city, "9", choice)
    db.session.commit()
    with pytest.raises(desk.DeskError, match="second agent"):
        desk.key_sheet(a1, s.city, "9", choice)
    db.session.commit()
    assert _count(PaperEntry) == 1 and _count(Ballot) == 0


def test_the_entry_constraint_holds_without_the_friendly_check(ctx):
    """The (sheet, agent) unique constraint is the guarantee, not the Python pre-check."""
    s = make_vote()
    a1, _a2 = _agents(s.campaign)
    sheet = desk.key_sheet(a1, s.city, "10", {s.city_options[0].id: 1}).sheet
    db.session.commit()
    with pytest.raises(Exception), db.session.begin_nested():  # noqa: B017, PT011
        db.session.add(PaperEntry(sheet_id=sheet.id, agent_id=a1.id, choices="1"))
        db.session.flush()
    db.session.rollback()
    assert _count(PaperEntry) == 1


@pytest.mark.parametrize("forged", [
    "other_envelope", "unknown", "over_max", "points_on_approval", "empty"])
def test_forged_choices_are_refused_and_nothing_is_written(ctx, forged):
    s = make_vote()
    a1, _ = _agents(s.campaign)
    ids = [p.id for p in s.city_options]
    choices = {
        "other_envelope": {s.quartier_options[0].id: 1},
        "unknown": {999_999: 1},
        "over_max": {ids[0]: 1, ids[1]: 1, ids[2]: 1},  # max_choices is 2
        "points_on_approval": {ids[0]: 5},
        "empty": {},
    }[forged]
    with pytest.raises(vote.VoteError):
        desk.key_sheet(a1, s.city, "11", choices)
    db.session.rollback()
    assert _count(PaperSheet) == 0 and _count(PaperEntry) == 0


def test_cumulative_sheets_compare_points(ctx):
    s = make_vote(ballot_format="cumulative", points_total=10, min_projects=2)
    a1, a2 = _agents(s.campaign)
    ids = [p.id for p in s.city_options]
    desk.key_sheet(a1, s.city, "12", {ids[0]: 7, ids[1]: 3})
    assert desk.key_sheet(a2, s.city, "12", {ids[0]: 3, ids[1]: 7}).outcome == "mismatch"
    with pytest.raises(vote.VoteError):  # 11 points out of 10
        desk.key_sheet(a1, s.city, "13", {ids[0]: 8, ids[1]: 3})


def test_keying_window_and_sheet_numbers(ctx):
    s = make_vote()
    a1, a2 = _agents(s.campaign)
    choice = {s.city_options[0].id: 1}
    with pytest.raises(desk.DeskError):
        desk.key_sheet(a1, s.city, "  ", choice)
    with pytest.raises(desk.DeskError):
        desk.key_sheet(a1, s.city, "<script>", choice)
    # After the close, ballot boxes are keyed until the envelope's count is published.
    set_phase(s.campaign, Phase.RESULTS)
    desk.key_sheet(a1, s.city, "20", choice)
    db.session.add(CountRun(campaign_id=s.campaign.id, envelope_id=s.city.id, rule="greedy",
                            input_digest="0" * 64, output_json="{}", output_digest="0" * 64,
                            published_at=s.campaign.vote_starts_at))
    db.session.commit()
    with pytest.raises(desk.DeskError, match="publiés"):
        desk.key_sheet(a2, s.city, "20", choice)
    # Before the vote opened, nothing is keyed.
    set_phase(s.campaign, Phase.REVIEW)
    with pytest.raises(desk.DeskError, match="ouvert"):
        desk.key_sheet(a2, s.quartier, "21", {s.quartier_options[0].id: 1})


def test_an_agent_of_another_campaign_is_refused_by_the_services(ctx):
    s = make_vote()
    other = make_campaign(Phase.VOTE, title="Autre campagne")
    stranger = make_user("ailleurs@example.org", roles=(("desk_agent", other.id),))
    with pytest.raises(desk.NotYourCampaign):
        desk.key_sheet(stranger, s.city, "1", {s.city_options[0].id: 1})
    with pytest.raises(desk.NotYourCampaign):
        desk.mark_paper_participation(stranger, s.campaign, s.voter, [s.city.id])
    with pytest.raises(desk.NotYourCampaign):
        desk.find_residents(stranger, s.campaign, "votante")


# ---------------------------------------------------------------- pages

@pytest.fixture
def desk_world(app):
    """A vote, two desk agents of its campaign, one of another campaign, a coordinator."""
    with app.app_context():
        s = make_vote()
        a1, a2 = _agents(s.campaign)
        other = make_campaign(Phase.VOTE, title="Autre campagne")
        make_user("ailleurs@example.org", roles=(("desk_agent", other.id),))
        make_user("coord2@example.org", roles=("coordinator",))
        return {"campaign": s.campaign.id, "city": s.city.id, "quartier": s.quartier.id,
                "voter": s.voter.id, "city_options": [p.id for p in s.city_options],
                "quartier_options": [p.id for p in s.quartier_options]}


def test_wrong_campaign_scope_gets_403_on_every_desk_page(app, client, desk_world):
    w = desk_world
    login(client, "ailleurs@example.org")
    base = f"/budget-participatif/bureau-de-vote/{w['campaign']}"
    for url in (base, f"{base}?q=votante", f"{base}/habitants/{w['voter']}",
                f"{base}/saisie", f"{base}/saisie/{w['city']}"):
        assert client.get(url).status_code == 403, url
    token_page = "/budget-participatif/bureau-de-vote/"
    assert post_form(client, f"{base}/habitants/{w['voter']}",
                     {"envelopes": str(w["city"])}, token_page=token_page).status_code == 403
    assert post_form(client, f"{base}/saisie/{w['city']}",
                     {"sheet_number": "1", "choice": str(w["city_options"][0])},
                     token_page=token_page).status_code == 403
    with app.app_context():
        assert _count(VoteParticipation) == 0 and _count(PaperEntry) == 0


def test_desk_pages_mark_participation_and_key_sheets(app, client, desk_world):
    w = desk_world
    base = f"/budget-participatif/bureau-de-vote/{w['campaign']}"
    login(client, "desk1@example.org")
    page = client.get(f"{base}?q=votan").get_data(as_text=True)
    assert "Votante" in page and "votante@example.org" not in page
    short = client.get(f"{base}?q=v")
    assert short.status_code == 422
    resp = post_form(client, f"{base}/habitants/{w['voter']}",
                     {"envelopes": [str(w["city"]), str(w["quartier"])]})
    assert resp.status_code == 302
    again = post_form(client, f"{base}/habitants/{w['voter']}",
                      {"envelopes": str(w["city"])})
    assert again.status_code == 422
    # Keying: the form keeps the input after a refusal.
    url = f"{base}/saisie/{w['city']}"
    opts = [str(i) for i in w["city_options"]]
    refused = post_form(client, url, {"sheet_number": "A-1", "choice": opts})  # 3 > max 2
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'value="A-1"' in html and html.count("checked") >= 3
    forged = post_form(client, url, {"sheet_number": "A-1", "choice": ["abc"]})
    assert forged.status_code == 422
    assert post_form(client, url, {"sheet_number": "A-1", "choice": opts[:2]}
                     ).status_code == 302
    client.post("/compte/deconnexion", data={})
    client2 = app.test_client()
    login(client2, "desk2@example.org")
    assert post_form(client2, url, {"sheet_number": "a-1", "choice": opts[:2]}
                     ).status_code == 302
    with app.app_context():
        assert _count(Ballot, Ballot.source == "paper") == 1
        sheet = db.session.execute(select(PaperSheet)).scalar_one()
        assert sheet.status == "matched"


def test_reconciliation_pages(app, client, desk_world):
    w = desk_world
    opts = [str(i) for i in w["city_options"]]
    url = f"/budget-participatif/bureau-de-vote/{w['campaign']}/saisie/{w['city']}"
    for email, choice in (("desk1@example.org", opts[0]), ("desk2@example.org", opts[1])):
        c = app.test_client()
        login(c, email)
        assert post_form(c, url, {"sheet_number": "B-2", "choice": choice}).status_code == 302
    with app.app_context():
        sheet_id = db.session.execute(select(PaperSheet.id)).scalar_one()
    # Agents do not reconcile; coordinators do.
    c = app.test_client()
    login(c, "desk1@example.org")
    rec = f"/budget-participatif/bureau-de-vote/{w['campaign']}/rapprochement"
    assert c.get(rec).status_code == 403
    login(client, "coord2@example.org")
    listing = client.get(rec).get_data(as_text=True)
    assert "B-2" in listing
    page = client.get(f"{rec}/{sheet_id}").get_data(as_text=True)
    assert "Projet ville 1" in page and "Projet ville 2" in page
    no_note = post_form(client, f"{rec}/{sheet_id}", {"decision": "key", "choice": opts[1],
                                                      "note": ""})
    assert no_note.status_code == 422
    wrong = post_form(client, f"{rec}/{sheet_id}", {"decision": "key", "choice": opts[2],
                                                    "note": "Relu sur le papier."})
    assert wrong.status_code == 422 and "Relu sur le papier." in wrong.get_data(as_text=True)
    ok = post_form(client, f"{rec}/{sheet_id}", {"decision": "key", "choice": opts[1],
                                                 "note": "Relu sur le papier."})
    assert ok.status_code == 302
    with app.app_context():
        assert _count(Ballot, Ballot.source == "paper") == 1
        assert db.session.get(PaperSheet, sheet_id).status == "resolved"


# ---------------------------------------------------------------- concurrency (PostgreSQL)

def _race(app, jobs) -> list[str]:
    """Run the jobs at the same moment, each in its own app context and session."""
    import threading

    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(job) -> None:  # noqa: ANN001
        with app.test_request_context():
            barrier.wait()
            try:
                outcomes.append(job())
                db.session.commit()
            except vote.VoteError as exc:
                db.session.rollback()
                outcomes.append(f"refused: {exc.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent writers are a PostgreSQL matter (SQLite serialises "
                        "whole transactions)")


def test_agents_keying_one_sheet_at_once_make_one_ballot(app, postgres_only):
    with app.app_context():
        s = make_vote()
        agents = [a.id for a in _agents(s.campaign, 8)]
        envelope_id, choice = s.city.id, {s.city_options[0].id: 1}
        # The sheet exists already (first keying done), so the race is on its row lock
        # and its status, not on the creation of the sheet.
        from civic.accounts.models import User

        desk.key_sheet(db.session.get(User, agents.pop()), s.city, "RACE-1", choice)
        db.session.commit()

    def job_for(agent_id):  # noqa: ANN001, ANN202
        def job() -> str:
            from civic.accounts.models import User
            from civic.budgeting.models import Envelope

            return desk.key_sheet(db.session.get(User, agent_id),
                                  db.session.get(Envelope, envelope_id), "RACE-1",
                                  choice).outcome
        return job

    outcomes = _race(app, [job_for(a) for a in agents])
    with app.app_context():
        assert outcomes.count("matched") == 1, outcomes
        assert all(o == "matched" or "déjà compté" in o for o in outcomes), outcomes
        assert _count(Ballot) == 1 and _count(PaperEntry) == 2 and _count(PaperSheet) == 1


def test_paper_and_online_at_once_make_one_participation(app, postgres_only):
    with app.app_context():
        s = make_vote()
        agents = [a.id for a in _agents(s.campaign, 5)]
        ids = (s.campaign.id, s.city.id, s.voter.id, s.city_options[0].id)

    def paper(agent_id):  # noqa: ANN001, ANN202
        def job() -> str:
            from civic.accounts.models import User
            from civic.budgeting.models import Campaign

            desk.mark_paper_participation(db.session.get(User, agent_id),
                                          db.session.get(Campaign, ids[0]),
                                          db.session.get(User, ids[2]), [ids[1]])
            return "paper"
        return job

    def online() -> str:
        from civic.accounts.models import User
        from civic.budgeting.models import Envelope

        vote.cast_ballot(db.session.get(User, ids[2]), db.session.get(Envelope, ids[1]),
                         {ids[3]: 1})
        return "online"

    outcomes = _race(app, [paper(a) for a in agents] + [online] * 5)
    with app.app_context():
        winners = [o for o in outcomes if not o.startswith("refused")]
        assert len(winners) == 1, outcomes
        assert _count(VoteParticipation) == 1
        assert _count(Ballot) == (1 if winners == ["online"] else 0)
