"""The desk and realisation forms, fed hypothesis-generated input: never a 500, never
unescaped user text, never a ballot out of a single keying."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from civic.extensions import db
from civic.voting import realisation
from civic.voting.models import Ballot, PaperEntry, PaperSheet
from tests.conftest import csrf_from, login, make_user
from tests.test_forms_fuzz import FIELD, XSS, value

pytestmark = pytest.mark.fuzz


@pytest.fixture
def fuzz_world(app):
    """A vote; one user who is desk agent of it and coordinator; a mismatched sheet and a
    realisation, so that every form of the desk and the realisation really opens."""
    from tests.voting.factories import make_vote

    with app.test_request_context():
        s = make_vote()
        fuzz = make_user("fuzz@example.org",
                         roles=("coordinator", ("desk_agent", s.campaign.id)))
        other = make_user("desk-other@example.org", roles=(("desk_agent", s.campaign.id),))
        sheet = PaperSheet(envelope_id=s.city.id, sheet_number="F-1", status="mismatch")
        db.session.add(sheet)
        db.session.flush()
        db.session.add_all([
            PaperEntry(sheet_id=sheet.id, agent_id=other.id, choices=str(s.city_options[0].id)),
            PaperEntry(sheet_id=sheet.id, agent_id=fuzz.id, choices=str(s.city_options[1].id))])
        done = realisation.start_realisation(fuzz, s.city_options[0])
        db.session.commit()
        base = f"/budget-participatif/bureau-de-vote/{s.campaign.id}"
        return [f"{base}/habitants/{s.voter.id}", f"{base}/saisie/{s.city.id}",
                f"{base}/rapprochement/{sheet.id}",
                f"/budget-participatif/realisations/{done.id}/modifier",
                f"/budget-participatif/realisations/{done.id}/jalons/nouveau",
                f"/budget-participatif/campagnes/{s.campaign.id}/lien-plan-d-action"]


def _fuzz(client, url: str, calls: list[int], seen_500: list[str]) -> None:
    """Post 40 generated versions of the form at ``url``."""
    html = client.get(url).get_data(as_text=True)
    names = sorted({n for n in FIELD.findall(html) if n != "csrf_token"})
    assert names, url
    token = csrf_from(html)

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({n: value for n in names}))
    def post(data):
        resp = client.post(url, data={"csrf_token": token, **data})
        calls.append(resp.status_code)
        if resp.status_code >= 500:
            seen_500.append(f"{url} {data!r}")
        body = resp.get_data(as_text=True)
        for payload in XSS:
            if payload in data.values():
                assert payload not in body, f"unescaped input on {url}"

    post()


def test_desk_and_realisation_forms_survive_generated_input(app, client, fuzz_world):
    login(client, "fuzz@example.org")
    seen_500: list[str] = []
    calls: list[int] = []
    for url in fuzz_world:
        _fuzz(client, url, calls, seen_500)
    assert not seen_500, seen_500[:5]
    assert len(calls) >= 30 * len(fuzz_world)
    with app.app_context():
        # One agent's keyings alone never make a ballot; the reconciliation may make one.
        assert db.session.scalar(select(func.count()).select_from(Ballot)) <= 1


def test_a_digit_that_is_not_0_to_9_is_refused_not_a_500(app, client, fuzz_world):
    """The fuzzer's find: "²" passes str.isdigit() but not int()."""
    login(client, "fuzz@example.org")
    url = fuzz_world[0]
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(url, data={"csrf_token": token, "envelopes": "²"})
    assert resp.status_code < 500
    campaigns = "/budget-participatif/campagnes/1/propositions"
    assert client.get(f"{campaigns}?quartier=²&theme=²").status_code < 500
