"""One voter, one ballot under concurrency: 50 simultaneous submissions for the same voter
(service layer, then through the web with one shared login), and 20 simultaneous changes
with the same receipt. Each thread has its own app context and database session; the
database's constraints decide, not a check in Python. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from civic import create_app
from civic.accounts.models import User
from civic.budgeting.models import Envelope
from civic.extensions import db
from civic.voting import services as vote
from civic.voting.ballots import ballot_lookup, receipt_check
from civic.voting.models import Ballot, BallotDraft, VoteParticipation
from tests.conftest import PASSWORD, csrf_from, make_config
from tests.voting.factories import make_vote

SUBMISSIONS = 50
CHANGES = 20


@pytest.fixture(scope="module")
def wide_app(app):
    """A second app on the same database whose pool lets every thread hold a connection
    at once (the default pool of 15 would queue them on PostgreSQL)."""
    extra = {}
    if not make_config()["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        extra["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": SUBMISSIONS + 5, "max_overflow": 5,
                                              "pool_timeout": 60}
    other = create_app(make_config(**extra))
    yield other
    with other.app_context():
        db.engine.dispose()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _run(n: int, work: Callable[[int], tuple]) -> list[tuple]:
    """Start n threads that all wait at a barrier, then do ``work`` at the same moment."""
    barrier = threading.Barrier(n)
    results: list[tuple] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcome = work(i)
        except Exception as exc:  # noqa: BLE001 - any other failure is what the test reports
            outcome = ("error", repr(exc))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == n
    return results


def _setup(app) -> tuple[int, int, list[int]]:  # noqa: ANN001
    with app.app_context():
        s = make_vote()
        vote.save_draft(s.voter, s.city, {s.city_options[0].id: 1})
        db.session.commit()
        return s.voter.id, s.city.id, [p.id for p in s.city_options]


def test_fifty_simultaneous_casts_record_one_ballot(app, wide_app):
    user_id, envelope_id, options = _setup(app)

    def cast(i: int) -> tuple:
        with wide_app.app_context():
            try:
                user = db.session.get(User, user_id)
                envelope = db.session.get(Envelope, envelope_id)
                receipt = vote.cast_ballot(user, envelope, {options[i % 2]: 1})
                db.session.commit()
                return ("ok", receipt)
            except vote.AlreadyVoted:
                db.session.rollback()
                return ("already",)
            finally:
                db.session.remove()

    results = _run(SUBMISSIONS, cast)
    kinds = Counter(r[0] for r in results)
    assert kinds == {"ok": 1, "already": SUBMISSIONS - 1}, results
    receipt = next(r[1] for r in results if r[0] == "ok")
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
        assert db.session.get(Ballot, ballot_lookup(receipt)) is not None
        assert db.session.scalar(select(VoteParticipation.receipt_check)) == \
            receipt_check(user_id, receipt)
        assert _count(BallotDraft) == 0


def test_twenty_simultaneous_changes_with_the_same_receipt_one_wins(app, wide_app):
    user_id, envelope_id, options = _setup(app)
    with app.app_context():
        first = vote.cast_ballot(db.session.get(User, user_id),
                                 db.session.get(Envelope, envelope_id), {options[0]: 1})
        db.session.commit()

    def change(i: int) -> tuple:
        with wide_app.app_context():
            try:
                user = db.session.get(User, user_id)
                envelope = db.session.get(Envelope, envelope_id)
                new = vote.change_ballot(user, envelope, first, {options[1 + i % 2]: 1})
                db.session.commit()
                return ("ok", new)
            except vote.VoteError:
                db.session.rollback()
                return ("refused",)
            finally:
                db.session.remove()

    results = _run(CHANGES, change)
    kinds = Counter(r[0] for r in results)
    assert kinds == {"ok": 1, "refused": CHANGES - 1}, results
    winner = next(r[1] for r in results if r[0] == "ok")
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
        assert db.session.get(Ballot, ballot_lookup(first)) is None
        assert db.session.get(Ballot, ballot_lookup(winner)) is not None
        assert db.session.scalar(select(VoteParticipation.receipt_check)) == \
            receipt_check(user_id, winner)


RECEIPT = re.compile(r'<code id="receipt">([0-9A-Z-]+)</code>')


@pytest.mark.parametrize("same_token", [True, False], ids=["double-click", "many-tabs"])
def test_fifty_simultaneous_confirms_through_the_web(app, wide_app, same_token):
    """The same signed-in voter posts Confirm 50 times at once: one ballot. With the same
    form (double click) every response shows the same receipt; from different tabs, one
    shows the receipt and the others say the vote is already recorded."""
    user_id, envelope_id, options = _setup(app)
    with app.app_context():
        email = db.session.get(User, user_id).email
    main = wide_app.test_client()
    html = main.get("/compte/connexion").get_data(as_text=True)
    assert main.post("/compte/connexion", data={
        "csrf_token": csrf_from(html), "email": email, "password": PASSWORD}
    ).status_code == 302
    review = main.get(f"/budget-participatif/vote/{envelope_id}/verifier").get_data(
        as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', review).group(1)
    data = {"csrf_token": csrf_from(review), "choices": str(options[0]), "receipt": ""}
    cookie = main.get_cookie("session", domain="localhost")

    def confirm(i: int) -> tuple:
        client = wide_app.test_client()
        client.set_cookie("session", cookie.value, domain="localhost")
        resp = client.post(f"/budget-participatif/vote/{envelope_id}/confirmer",
                           data={**data, "token": token if same_token else f"tab-{i}"})
        found = RECEIPT.search(resp.get_data(as_text=True))
        return (resp.status_code, found.group(1) if found else None)

    results = _run(SUBMISSIONS, confirm)
    statuses = Counter(r[0] for r in results)
    receipts = {r[1] for r in results if r[1]}
    assert len(receipts) == 1, results
    if same_token:
        assert statuses == {200: SUBMISSIONS}, results
    else:
        assert statuses == {200: 1, 302: SUBMISSIONS - 1}, results
    with app.app_context():
        assert _count(Ballot) == 1 and _count(VoteParticipation) == 1
        assert db.session.get(Ballot, ballot_lookup(receipts.pop())) is not None
