"""Every form, fed hypothesis-generated input: never a 500, never unescaped user text."""

from __future__ import annotations

import math
import os
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from civic.bienveilleurs.models import Interlocutor
from civic.councils.models import (
    CallApplication,
    CouncilAvis,
    CouncilQuestion,
    Meeting,
    ProjectCall,
)
from civic.extensions import db
from civic.territory.models import CityService, Commune, Council, Quartier
from tests.conftest import csrf_from, login, make_user

pytestmark = pytest.mark.fuzz

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "';alert(1)//"]
value = st.one_of(
    st.text(max_size=300),
    st.sampled_from(XSS + ["", "0", "-1", "1990", "y", "fr", "en", "female", "agent", "admin",
                           "9" * 30, "DEN-01", "a" * 5000, "{\"type\":\"Polygon\"}"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
)
# Cases in all, spread evenly over the forms: CI sets CIVIC_FUZZ_CASES (see .ci/run); a plain
# local run keeps 60 per form.
FUZZ_CASES = int(os.environ.get("CIVIC_FUZZ_CASES") or 0)
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def _form_pages(app) -> list[str]:
    with app.app_context():
        ids = {"user_id": db.session.execute(select(
            __import__("civic.accounts.models", fromlist=["User"]).User.id)).scalars().first(),
            "commune_id": db.session.scalar(select(Commune.id)),
            "quartier_id": db.session.scalar(select(Quartier.id)),
            "service_id": db.session.scalar(select(CityService.id)),
            "council_id": db.session.scalar(select(Council.id)),
            "interlocutor_id": db.session.scalar(select(Interlocutor.id)),
            **_budget_ids(),
            "meeting_id": db.session.scalar(select(Meeting.id)),
            "question_id": db.session.scalar(select(CouncilQuestion.id)),
            "node_id": db.session.scalar(select(CouncilAvis.node_id)),
            "call_id": db.session.scalar(select(ProjectCall.id)),
            "application_id": db.session.scalar(select(CallApplication.id))}
    pages = []
    for rule in app.url_map.iter_rules():
        if {"GET", "POST"} <= rule.methods and not rule.rule.startswith("/api/"):
            args = {k: ids.get(k) or 1 for k in rule.arguments}
            if "token" in rule.arguments:
                continue
            with app.test_request_context():
                pages.append(rule.build(args, append_unknown=False)[1])
    return sorted(set(pages))


def _budget_ids() -> dict:
    """The fuzzing user's own proposal, and a review of the service they are an agent of."""
    from civic.accounts.models import User
    from civic.budgeting.models import Campaign, Proposal
    from civic.review.models import FeasibilityReview

    fuzz = db.session.execute(select(User).where(User.email == "fuzz@example.org")).scalar()
    return {"campaign_id": db.session.scalar(select(Campaign.id)),
            "proposal_id": db.session.scalar(select(Proposal.id).where(
                Proposal.author_id == fuzz.id)) if fuzz else None,
            "review_id": db.session.scalar(select(FeasibilityReview.id).where(
                FeasibilityReview.service_id.in_(fuzz.scopes("agent")))) if fuzz else None}


@pytest.fixture
def admin_client(app, client):
    with app.app_context():
        from civic.demo import seed_demo

        seed_demo()
        db.session.commit()
        voirie = db.session.scalar(select(CityService.id).where(CityService.slug == "voirie"))
        fuzz = make_user("fuzz@example.org", roles=("admin", "coordinator", ("agent", voirie)))
        from civic.budgeting import services as budget
        from civic.budgeting.models import Campaign
        from tests.budgeting.factories import proposal_data

        campaign = db.session.execute(select(Campaign)).scalars().first()
        budget.save_proposal(fuzz, campaign, None, proposal_data(
            campaign, quartier_id=fuzz.quartier_id), submit=True)
        db.session.commit()
    login(client, "fuzz@example.org")
    return client


def _fuzz_form(client, url: str, names: list[str], token: str, examples: int,
               calls: list[int], seen_500: list[str]) -> None:
    """Post `examples` generated bodies to one form: no 500, every payload escaped."""

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({n: value for n in names}))
    def post(data):
        if url.startswith("/compte/supprimer") or url.startswith("/compte/mot-de-passe"):
            data = {**data, "current_password": "x", "password": "x"}  # keep the account
        resp = client.post(url, data={"csrf_token": token, **data})
        calls.append(resp.status_code)
        if resp.status_code >= 500:
            seen_500.append(f"{url} {data!r}")
        body = resp.get_data(as_text=True)
        for payload in XSS:
            if payload in data.values():
                assert payload not in body, f"unescaped input on {url}"

    post()


def test_forms_survive_generated_input(app, admin_client):
    pages = _form_pages(app)
    assert len(pages) >= 12, pages
    client = admin_client
    seen_500: list[str] = []
    calls = []
    fields = {}
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        fields[url] = sorted({n for n in FIELD.findall(html) if n != "csrf_token"})
    if "/langue" in fields:  # the switcher: its fields live in every page
        fields["/langue"] = ["lang", "next"]
    # A form without fields gives one case; the others share the rest (5% spare: hypothesis
    # may stop a form early when it has seen everything its strategy can draw).
    empty = sum(1 for names in fields.values() if not names)
    per_form = max(60, math.ceil((FUZZ_CASES - empty) * 1.05 / (len(pages) - empty)))
    started = time.perf_counter()
    for url in pages:
        names = fields[url]
        token = csrf_from(client.get("/").get_data(as_text=True))

        _fuzz_form(client, url, names, token, per_form, calls, seen_500)
        # The language switcher on every page, with its redirect target.
        resp = client.post("/langue", data={"csrf_token": token, "lang": "fr",
                                            "next": "/\r\nSet-Cookie: x=1"})
        assert resp.status_code == 302 and "\n" not in resp.headers["Location"]
        # The fuzzing session must still be logged in (no accidental logout/deletion).
        assert client.get("/mon-espace").status_code == 200, url
    print(f"\nform fuzzing: {len(calls)} cases over {len(pages)} forms "
          f"in {time.perf_counter() - started:.0f} s")
    assert not seen_500, seen_500[:5]
    assert len(calls) >= 0.6 * per_form * (len(pages) - empty)  # hypothesis really ran
    assert len(calls) >= FUZZ_CASES, (len(calls), FUZZ_CASES)


def test_huge_ids_in_urls_are_404(admin_client):
    assert admin_client.get("/admin/utilisateurs/99999999999999999999999").status_code == 404
    assert admin_client.get("/admin/quartiers/4294967296").status_code == 404
