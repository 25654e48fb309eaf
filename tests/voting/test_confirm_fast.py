"""The ballot confirmation does its work once: a fixed, small number of statements (no
read-back of what it just loaded or wrote), the receipt page still right (label, time,
menu), and the guarantees kept (one ballot per voter, replay shows the same receipt)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from civic.extensions import db
from civic.voting.models import Ballot, VoteParticipation
from tests.conftest import login
from tests.core.test_queries import count_queries
from tests.voting.test_vote_views import (
    RECEIPT,
    VOTER,
    _ballot_url,
    _confirm,
    _confirm_data,
    _post_ballot,
    approval,  # noqa: F401 - fixture
    english,  # noqa: F401 - fixture
)

# user + grants, envelope + campaign + quartier + commune, the chosen projects, the
# savepoint with the two INSERTs and the draft's DELETE, its release, and the commit's
# own statements (SQLite: none, the release ends the transaction).
MAX_STATEMENTS = 10


def _review(client, envelope_id: int, project_id: int) -> dict:  # noqa: ANN001
    _post_ballot(client, envelope_id, {"project": [str(project_id)]})
    html = client.get(_ballot_url(envelope_id, "verifier")).get_data(as_text=True)
    return _confirm_data(html)


def _statements_of_confirm(app, client, envelope_id: int, data: dict):  # noqa: ANN001, ANN202
    with count_queries(app) as statements:
        resp = _confirm(client, envelope_id, data)
    return resp, [s for s in statements if not s.lstrip().upper().startswith(
        ("BEGIN", "COMMIT"))]


def test_confirm_runs_a_fixed_number_of_statements_and_reads_nothing_back(
        app, english, approval):  # noqa: F811
    login(english, VOTER)
    data = _review(english, approval.quartier, approval.quartier_options[0])
    resp, statements = _statements_of_confirm(app, english, approval.quartier, data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Your vote is recorded" in html
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # no SELECT after the INSERTs (nothing re-read after the commit)
    last_insert = max(i for i, s in enumerate(statements) if "INSERT" in s.upper())
    assert all(statements.index(s) < last_insert for s in selects), "\n".join(statements)
    assert not any("FROM role_grant" in s for s in selects)  # loaded with the user
    # the page shows what it always showed: the quartier's label (quartier + commune), the
    # time of the vote, the signed-in menu with its logout form, and the receipt
    assert re.search(r"Your ballot for “[^”]+\([^)]+\)” is recorded", html), html
    assert "Recorded on" in html and "Log out" in html and 'name="csrf_token"' in html
    receipt = RECEIPT.search(html).group(1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1
        assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 1
    # a replay of the same confirmation: the same receipt, nothing written twice
    again = _confirm(english, approval.quartier, data)
    assert again.status_code == 200 and "already been received" in again.get_data(as_text=True)
    assert RECEIPT.search(again.get_data(as_text=True)).group(1) == receipt
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_the_next_request_sees_the_database_not_stale_objects(app, english, approval):  # noqa: F811
    """The confirmation keeps its objects loaded across its commit; the next request must
    still read fresh rows (a new session per request)."""
    login(english, VOTER)
    data = _review(english, approval.city, approval.city_options[0])
    assert _confirm(english, approval.city, data).status_code == 200
    page = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    assert "Vote recorded on" in page.get_data(as_text=True)
    with app.app_context():
        db.session.execute(VoteParticipation.__table__.delete())
        db.session.execute(Ballot.__table__.delete())
        db.session.commit()
    page = english.get(f"/budget-participatif/campagnes/{approval.campaign}/vote")
    assert "Vote recorded on" not in page.get_data(as_text=True)
    with app.app_context():  # the session's default (expire on commit) is back
        assert db.session().expire_on_commit is True
