"""The vote forms fed hypothesis-generated input: never a 500, never unescaped user text,
and never a ballot from garbage."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from civic.extensions import db
from civic.voting.models import Ballot
from tests.conftest import csrf_from, login
from tests.voting.factories import make_vote

pytestmark = pytest.mark.fuzz

XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>']
value = st.one_of(
    st.text(max_size=60),
    st.sampled_from([*XSS, "", "0", "-1", "1", "2", "3", "1:2", "9" * 30, "1,2,3", "١٢"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
)


@pytest.fixture
def voting(app, client):
    with app.app_context():
        s = make_vote(ballot_format="cumulative", max_choices=None, points_total=10,
                      min_projects=2)
        envelope = s.city.id
    login(client, "votante@example.org")
    token = csrf_from(client.get(f"/budget-participatif/vote/{envelope}/bulletin")
                      .get_data(as_text=True))
    return envelope, token


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(["project", "points-1", "points-2", "points-3",
                                      "points-x", "points-", "receipt", "choices", "token"]),
                     max_size=5),
       values=st.lists(value, min_size=5, max_size=5),
       page=st.sampled_from(["bulletin", "confirmer", "modifier"]))
def test_vote_forms_never_fail(app, client, voting, keys, values, page):
    envelope, token = voting
    data = {"csrf_token": token}
    for key, text in zip(keys, values, strict=False):
        data[key] = text
    resp = client.post(f"/budget-participatif/vote/{envelope}/{page}", data=data)
    assert resp.status_code in (200, 302, 400, 422), (data, resp.status_code)
    html = resp.get_data(as_text=True)
    for attack in XSS:
        assert attack not in html
    if page == "confirmer" and resp.status_code == 200:
        with app.app_context():  # a ballot from random input must at least be a valid one
            assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1
