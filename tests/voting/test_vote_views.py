"""The vote pages through the test client: build → review → confirm → receipt → change,
forged POSTs, eligibility reasons, the phase, double confirmation, the RGPD export."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from civic.budgeting.models import Campaign, Envelope
from civic.budgeting.states import Phase
from civic.extensions import db
from civic.voting import services as vote
from civic.voting.ballots import ballot_lookup, parse_choices
from civic.voting.models import Ballot, BallotDraft, VoteParticipation
from tests.budgeting.factories import set_phase
from tests.conftest import csrf_from, login, make_user
from tests.voting.factories import make_vote

VOTER = "votante@example.org"
RECEIPT = re.compile(r'<code id="receipt">([0-9A-Z-]+)</code>')


@dataclass
class Ids:
    campaign: int
    city: int
    quartier: int
    city_options: list[int]
    quartier_options: list[int]


def _ids(s) -> Ids:  # noqa: ANN001
    return Ids(s.campaign.id, s.city.id, s.quartier.id, [p.id for p in s.city_options],
               [p.id for p in s.quartier_options])


@pytest.fixture
def approval(app):
    with app.app_context():
        return _ids(make_vote(max_choices=2))


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _ballot_url(envelope_id: int, page: str = "bulletin") -> str:
    return f"/budget-participatif/vote/{envelope_id}/{page}"


def _post_ballot(client, envelope_id: int, data: dict):  # noqa: ANN001, ANN202
    html = client.get(_ballot_url(envelope_id)).get_data(as_text=True)
    return client.post(_ballot_url(envelope_id), data={"csrf_token": csrf_from(html), **data})


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'<input id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    assert m, f"no hidden {name} in the page"
    return m.group(1)


def _confirm_data(html: str) -> dict:
    return {"csrf_token": csrf_from(html), "choices": _hidden(html, "choices"),
            "token": _hidden(html, "token"), "receipt": _hidden(html, "receipt")}


def _confirm(client, envelope_id: int, data: dict):  # noqa: ANN001, ANN202
    return client.post(_ballot_url(envelope_id, "confirmer"), data=data)


def _vote_through_pages(client, envelope_id: int, project_ids: list[int]) -> str:  # noqa: ANN001
    resp = _post_ballot(client, envelope_id, {"project": [str(i) for i in project_ids]})
    assert resp.status_code == 302 and resp.location.endswith(_ballot_url(envelope_id, "verifier"))
    review = client.get(_ballot_url(envelope_id, "verifier")).get_data(as_text=True)
    resp = _confirm(client, envelope_id, _confirm_data(review))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Your vote is recorded" in html, html
    return RECEIPT.search(html).group(1)


def test_build_review_confirm_then_change_with_the_receipt(app, english, approval):
    client = english
    login(client, VOTER)
    page = client.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Vote for “Whole city”" in html
    assert html.count("Vote for “") == 2  # the city-wide and the quartier's envelope

    ballot = client.get(_ballot_url(approval.city)).get_data(as_text=True)
    for pid in approval.city_options:  # every project, with its cost and a link to its page
        assert f'value="{pid}"' in ballot and f"/budget-participatif/propositions/{pid}" in ballot
    assert "js/vote.js" in ballot and "<script>" not in ballot

    a, b, c = approval.city_options
    resp = _post_ballot(client, approval.city, {"project": [str(a), str(c)]})
    assert resp.status_code == 302
    with app.app_context():
        draft = db.session.scalar(select(BallotDraft))
        assert parse_choices(draft.choices) == {a: 1, c: 1}
        assert _count(Ballot) == 0
    back = client.get(_ballot_url(approval.city)).get_data(as_text=True)
    assert re.search(rf'value="{a}" data-cost="\d+" checked', back)  # the draft comes back

    review = client.get(_ballot_url(approval.city, "verifier")).get_data(as_text=True)
    assert "Projet ville 1" in review and "Projet ville 3" in review
    assert "Projet ville 2" not in review and "Confirm my vote" in review
    resp = _confirm(client, approval.city, _confirm_data(review))
    html = resp.get_data(as_text=True)
    assert "Your vote is recorded" in html and "shown only once" in html
    first = RECEIPT.search(html).group(1)
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
        assert _count(BallotDraft) == 0  # confirming deletes the draft
        assert parse_choices(db.session.get(Ballot, ballot_lookup(first)).choices) == {
            a: 1, c: 1}

    page = client.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    html = page.get_data(as_text=True)
    assert "Vote recorded on" in html and "Change my vote in “Whole city”" in html
    assert first not in html  # the receipt is never shown again

    # change: the receipt opens the ballot with the current choices
    change_url = _ballot_url(approval.city, "modifier")
    html = client.get(change_url).get_data(as_text=True)
    resp = client.post(change_url, data={"csrf_token": csrf_from(html),
                                         "receipt": "0000-0000-0000-0000-0000-0000-00"})
    assert resp.status_code == 422 and "not the one of your current ballot" in \
        resp.get_data(as_text=True)
    resp = client.post(change_url, data={"csrf_token": csrf_from(html),
                                         "receipt": first.lower().replace("-", " ")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and re.search(rf'value="{a}" data-cost="\d+" checked', html)
    assert _hidden(html, "receipt") == first
    resp = client.post(_ballot_url(approval.city), data={
        "csrf_token": csrf_from(html), "receipt": first, "project": [str(b)]})
    review = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "replaces your current ballot" in review
    resp = _confirm(client, approval.city, _confirm_data(review))
    html = resp.get_data(as_text=True)
    assert "Your vote is recorded" in html and "replaces the previous one" in html
    second = RECEIPT.search(html).group(1)
    assert second != first
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
        assert db.session.get(Ballot, ballot_lookup(first)) is None
        assert db.session.get(Ballot, ballot_lookup(second)).choices == str(b)
        assert _count(BallotDraft) == 0  # changing a vote keeps no draft


def test_double_confirm_records_one_ballot_and_shows_the_same_receipt(app, english, approval):
    login(english, VOTER)
    _post_ballot(english, approval.city, {"project": [str(approval.city_options[0])]})
    review = english.get(_ballot_url(approval.city, "verifier")).get_data(as_text=True)
    data = _confirm_data(review)
    first = _confirm(english, approval.city, data).get_data(as_text=True)
    again = _confirm(english, approval.city, data)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "already been received" in html
    assert RECEIPT.search(html).group(1) == RECEIPT.search(first).group(1)
    other_tab = _confirm(english, approval.city, {**data, "token": "another-tab"})
    assert other_tab.status_code == 302
    flashed = english.get(other_tab.location).get_data(as_text=True)
    assert "already recorded" in flashed
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
    # the review page after the vote sends back to the vote page
    assert english.get(_ballot_url(approval.city, "verifier")).status_code == 302


def test_double_confirm_of_a_change_shows_the_new_receipt_again(app, english, approval):
    login(english, VOTER)
    first = _vote_through_pages(english, approval.city, [approval.city_options[0]])
    html = english.get(_ballot_url(approval.city, "modifier")).get_data(as_text=True)
    html = english.post(_ballot_url(approval.city, "modifier"), data={
        "csrf_token": csrf_from(html), "receipt": first}).get_data(as_text=True)
    review = english.post(_ballot_url(approval.city), data={
        "csrf_token": csrf_from(html), "receipt": first,
        "project": [str(approval.city_options[1])]}).get_data(as_text=True)
    data = _confirm_data(review)
    one = RECEIPT.search(_confirm(english, approval.city, data).get_data(as_text=True))
    two = _confirm(english, approval.city, data).get_data(as_text=True)
    assert "already been received" in two and RECEIPT.search(two).group(1) == one.group(1)
    with app.app_context():
        assert _count(Ballot) == 1


@pytest.mark.parametrize("field,values,message", [
    ("project", ["999999"], "not on this envelope"),
    ("project", ["abc"], "could not be read"),
    ("project", ["1e3"], "could not be read"),
    ("project", ["99999999999999999999999"], "could not be read"),
])
def test_forged_ballots_are_refused_with_a_message(app, english, approval, field, values,
                                                    message):
    login(english, VOTER)
    resp = _post_ballot(english, approval.city, {field: values})
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    with app.app_context():
        assert _count(BallotDraft) == 0 and _count(Ballot) == 0


def test_project_of_the_quartier_on_the_city_ballot_is_refused(app, english, approval):
    login(english, VOTER)
    resp = _post_ballot(english, approval.city,
                        {"project": [str(approval.city_options[0]),
                                     str(approval.quartier_options[0])]})
    assert resp.status_code == 422
    assert "not on this envelope" in resp.get_data(as_text=True)
    # the same forged choice sent straight to Confirm
    html = english.get("/").get_data(as_text=True)
    resp = _confirm(english, approval.city, {"csrf_token": csrf_from(html),
                                            "choices": str(approval.quartier_options[0])})
    assert resp.status_code == 302
    for choices in ("abc", "1:0", "", f"{approval.city_options[0]}:5"):
        resp = _confirm(english, approval.city, {"csrf_token": csrf_from(html),
                                                "choices": choices})
        assert resp.status_code == 302, choices
    with app.app_context():
        assert _count(Ballot) == 0 and _count(VoteParticipation) == 0


def test_too_many_projects_is_kept_as_a_draft_but_not_confirmable(app, english, approval):
    login(english, VOTER)
    resp = _post_ballot(english, approval.city,
                        {"project": [str(i) for i in approval.city_options]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Choose at most 2 projects" in html
    assert html.count("checked") == 3  # the voter's input is kept
    review = english.get(_ballot_url(approval.city, "verifier")).get_data(as_text=True)
    assert "cannot be confirmed" in review and "Confirm my vote" not in review


def test_knapsack_over_the_envelope_is_refused(app, english):
    with app.app_context():
        s = make_vote(ballot_format="knapsack", max_choices=None,
                      city_costs=(30_000_00, 12_000_00, 9_000_00))
        city, options, budget = s.city.id, [p.id for p in s.city_options], s.city.amount_cents
    assert budget < 51_000_00
    login(english, VOTER)
    resp = _post_ballot(english, city, {"project": [str(i) for i in options]})
    assert resp.status_code == 422 and "more than the envelope" in resp.get_data(as_text=True)
    html = english.get("/").get_data(as_text=True)
    resp = _confirm(english, city, {"csrf_token": csrf_from(html),
                                   "choices": ",".join(map(str, options))})
    assert resp.status_code == 302
    with app.app_context():
        assert _count(Ballot) == 0
    receipt = _vote_through_pages(english, city, [options[1], options[2]])
    assert receipt


def test_cumulative_ballot_with_points(app, english):
    with app.app_context():
        s = make_vote(ballot_format="cumulative", max_choices=None, points_total=10,
                      min_projects=2)
        city, (a, b, c) = s.city.id, [p.id for p in s.city_options]
    login(english, VOTER)
    html = english.get(_ballot_url(city)).get_data(as_text=True)
    assert f'name="points-{a}"' in html and 'type="number"' in html
    for bad, message in ((("x", ""), "whole numbers"), (("-2", "3"), "between 0"),
                         (("6", "5"), "you have 10"), (("10", ""), "at least 2"),
                         (("9" * 30, ""), "whole numbers")):
        resp = _post_ballot(english, city, {f"points-{a}": bad[0], f"points-{b}": bad[1]})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    resp = _post_ballot(english, city, {f"points-{a}": "7", f"points-{c}": "3",
                                        f"points-{b}": ""})
    assert resp.status_code == 302
    review = english.get(_ballot_url(city, "verifier")).get_data(as_text=True)
    assert "10 of 10 given" in review
    html = _confirm(english, city, _confirm_data(review)).get_data(as_text=True)
    receipt = RECEIPT.search(html).group(1)
    with app.app_context():
        assert parse_choices(db.session.get(Ballot, ballot_lookup(receipt)).choices) == {
            a: 7, c: 3}


def test_a_person_who_cannot_vote_sees_why(app, english):
    with app.app_context():
        s = make_vote(min_age=16)
        make_user("jeune@example.org", birth_year=2020)
        ids = _ids(s)
    login(english, "jeune@example.org")
    html = english.get(f"/budget-participatif/campagnes/{ids.campaign}/vote").get_data(
        as_text=True)
    assert "Why you cannot vote" in html and "from the age of 16" in html
    assert "Vote for “" not in html
    html = english.get(_ballot_url(ids.city)).get_data(as_text=True)
    assert "from the age of 16" in html and 'name="project"' not in html
    resp = _post_ballot(english, ids.city, {"project": [str(ids.city_options[0])]})
    assert resp.status_code == 422 and "from the age of 16" in resp.get_data(as_text=True)
    html = english.get("/").get_data(as_text=True)
    _confirm(english, ids.city, {"csrf_token": csrf_from(html),
                                 "choices": str(ids.city_options[0])})
    with app.app_context():
        assert _count(Ballot) == 0 and _count(BallotDraft) == 0


def test_a_neighbour_cannot_vote_in_another_quartier(app, english, approval):
    with app.app_context():
        from civic.territory.models import Quartier

        voter_q = db.session.get(Envelope, approval.quartier).quartier_id
        other = db.session.execute(select(Quartier).where(Quartier.id != voter_q)).scalar()
        make_user("voisin@example.org", quartier=other)
    login(english, "voisin@example.org")
    html = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote").get_data(
        as_text=True)
    assert html.count("Vote for “") == 1  # only the city-wide envelope
    resp = _post_ballot(english, approval.quartier,
                        {"project": [str(approval.quartier_options[0])]})
    assert resp.status_code == 422 and "Only residents of" in resp.get_data(as_text=True)


@pytest.mark.parametrize("phase,message", [
    (Phase.REVIEW, "has not opened yet"), (Phase.RESULTS, "closed")])
def test_before_and_after_the_vote(app, english, approval, phase, message):
    login(english, VOTER)
    _post_ballot(english, approval.city, {"project": [str(approval.city_options[0])]})
    review = english.get(_ballot_url(approval.city, "verifier")).get_data(as_text=True)
    with app.app_context():
        set_phase(db.session.get(Campaign, approval.campaign), phase)
    html = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote").get_data(
        as_text=True)
    assert message in html and "Vote for “" not in html
    resp = _post_ballot(english, approval.city, {"project": [str(approval.city_options[0])]})
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    resp = _confirm(english, approval.city, _confirm_data(review))
    assert resp.status_code == 302
    assert message in english.get(resp.location).get_data(as_text=True)
    with app.app_context():
        assert _count(Ballot) == 0 and _count(VoteParticipation) == 0


def test_change_after_the_close_is_refused(app, english, approval):
    login(english, VOTER)
    receipt = _vote_through_pages(english, approval.city, [approval.city_options[0]])
    with app.app_context():
        set_phase(db.session.get(Campaign, approval.campaign), Phase.RESULTS)
    html = english.get(_ballot_url(approval.city, "modifier")).get_data(as_text=True)
    assert "The vote is closed" in html
    resp = english.post(_ballot_url(approval.city, "modifier"),
                        data={"csrf_token": csrf_from(html), "receipt": receipt})
    assert "The vote is closed" in resp.get_data(as_text=True)
    page = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    assert "Vote recorded on" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Ballot, ballot_lookup(receipt)) is not None


def test_anonymous_visitors_are_asked_to_log_in(app, english, approval):
    html = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote").get_data(
        as_text=True)
    assert "Log in to vote" in html and "Whole city" in html
    resp = english.get(_ballot_url(approval.city))
    assert resp.status_code == 302 and "/compte/connexion" in resp.location
    campaign = english.get(f"/budget-participatif/campagnes/{approval.campaign}")
    assert f"/budget-participatif/campagnes/{approval.campaign}/vote" in \
        campaign.get_data(as_text=True)


def test_unknown_envelope_is_a_404(app, english, approval):
    login(english, VOTER)
    assert english.get(_ballot_url(987654)).status_code == 404
    assert english.get("/budget-participatif/campagnes/987654/vote").status_code == 404


def test_export_has_participations_and_drafts_but_no_ballot(app, english, approval):
    login(english, VOTER)
    receipt = _vote_through_pages(english, approval.city, [approval.city_options[0]])
    _post_ballot(english, approval.quartier, {"project": [str(approval.quartier_options[1])]})
    data = json.loads(english.get("/compte/mes-donnees.json").get_data(as_text=True))
    section = data["vote"]
    assert [p["envelope_id"] for p in section["participations"]] == [approval.city]
    assert section["participations"][0]["channel"] == "online"
    assert [d["envelope_id"] for d in section["ballot_drafts"]] == [approval.quartier]
    assert section["ballot_drafts"][0]["choices"] == {str(approval.quartier_options[1]): 1}
    text = json.dumps(data)
    with app.app_context():
        assert receipt not in text and ballot_lookup(receipt) not in text
        check = db.session.scalar(select(VoteParticipation.receipt_check))
        assert check not in text


def test_confirmation_receipts_are_derived_per_voter_envelope_and_token(app, approval):
    with app.test_request_context():
        s_user = make_user("autre@example.org")
        envelope = db.session.get(Envelope, approval.city)
        other_env = db.session.get(Envelope, approval.quartier)
        r = vote.confirmation_receipt(s_user, envelope, "t1")
        assert vote.normalise_receipt(r) == r
        assert r == vote.confirmation_receipt(s_user, envelope, "t1")
        assert r != vote.confirmation_receipt(s_user, envelope, "t2")
        assert r != vote.confirmation_receipt(s_user, other_env, "t1")
        assert vote.new_confirmation_token() != vote.new_confirmation_token()


def test_a_paper_voter_is_told_their_vote_cannot_change_online(app, english, approval):
    with app.app_context():
        user = db.session.scalar(select(vote.User).where(vote.User.email == VOTER))
        db.session.add(VoteParticipation(campaign_id=approval.campaign,
                                         envelope_id=approval.city, user_id=user.id,
                                         channel="paper"))
        db.session.commit()
    login(english, VOTER)
    page = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    html = page.get_data(as_text=True)
    assert "(paper ballot)" in html and "Change my vote in “Whole city”" not in html
    for url in (_ballot_url(approval.city), _ballot_url(approval.city, "modifier")):
        assert "cannot be changed" in english.get(url).get_data(as_text=True)
    resp = _post_ballot(english, approval.city, {"project": [str(approval.city_options[0])]})
    assert resp.status_code == 302  # already voted: back to the vote page with the reason
    assert "already recorded" in english.get(resp.location).get_data(as_text=True)
    with app.app_context():
        assert _count(Ballot) == 0 and _count(BallotDraft) == 0
