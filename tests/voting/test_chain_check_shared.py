"""The results page's tamper check (re-chaining the published ballot list) is done once per
change of the ballot rows, shared by the workers, and still catches a change at once when the
database's fingerprint of the rows moves (any write on PostgreSQL; an added or removed row on
SQLite, where an in-place UPDATE is caught by the periodic re-check)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from civic import create_app
from civic.core.cache import page_cache
from civic.extensions import db
from civic.voting import results as res
from civic.voting.models import Ballot
from tests.conftest import csrf_from, login, make_config, make_user, post_form
from tests.voting.count_helpers import closed_vote
from tests.voting.test_results import BASE, _published

WARNING = ("has changed since publication", "a changé depuis")


@pytest.fixture
def fresh_checks(app, monkeypatch, tmp_path):
    """An empty per-process memo and shared file; counts the re-chainings."""
    monkeypatch.setattr(res, "_CHECKED", {})
    monkeypatch.setitem(app.config, "CIVIC_CHAIN_CHECK_FILE", str(tmp_path / "checks.json"))
    calls: list[int] = []
    real = res.chain_head_now
    monkeypatch.setattr(res, "chain_head_now", lambda e: calls.append(e.id) or real(e))
    return calls


def _warned(client, cid: int) -> bool:  # noqa: ANN001
    html = client.get(f"{BASE}/{cid}/resultats").get_data(as_text=True)
    return any(w in html for w in WARNING)


def _postgresql(app) -> bool:  # noqa: ANN001
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_one_rechaining_per_envelope_whatever_the_views(app, client, fresh_checks):
    cid, *_ = _published(app)
    for view in range(3):  # distinct query strings: rendered each time, not page-cached
        html = client.get(f"{BASE}/{cid}/resultats?view={view}").get_data(as_text=True)
        assert not any(w in html for w in WARNING)
    assert fresh_checks and len(fresh_checks) == len(set(fresh_checks))


def test_another_worker_reuses_the_check(app, client, fresh_checks):
    cid, *_ = _published(app)
    assert not _warned(client, cid)
    chained = len(fresh_checks)
    res._CHECKED.clear()  # a new process: nothing in memory, the shared file remains
    other = create_app(make_config(CIVIC_CHAIN_CHECK_FILE=app.config["CIVIC_CHAIN_CHECK_FILE"]))
    assert not _warned(other.test_client(), cid)
    assert len(fresh_checks) == chained


def _cached_page_expires(app) -> None:  # noqa: ANN001
    """Tampering happens outside the app (the app never changes a published ballot, and a
    commit touching only ballots leaves the visitors' page cache alone), so a visitor may
    read the cached results page until its TTL ends: what matters is the next render."""
    page_cache(app).bump()


def test_a_removed_ballot_is_caught_at_the_next_view(app, client, fresh_checks):
    cid, city_id, *_ = _published(app)
    assert not _warned(client, cid)
    with app.app_context():
        lookup = db.session.scalars(select(Ballot.lookup).where(
            Ballot.envelope_id == city_id).limit(1)).first()
        db.session.execute(delete(Ballot).where(Ballot.lookup == lookup))
        db.session.commit()
    _cached_page_expires(app)
    assert _warned(client, cid)  # the default 300 s re-check period did not have to pass


def test_an_altered_ballot_is_caught(app, client, fresh_checks, monkeypatch):
    cid, city_id, *_ = _published(app)
    assert not _warned(client, cid)
    with app.app_context():
        lookup = db.session.scalars(select(Ballot.lookup).where(
            Ballot.envelope_id == city_id).limit(1)).first()
        db.session.execute(update(Ballot).where(Ballot.lookup == lookup)
                           .values(choices="1,2,3"))
        db.session.commit()
    _cached_page_expires(app)
    # PostgreSQL: the row's xmin moved; SQLite: the triggers counted the write. Either way
    # it is caught at the next view, without waiting for the 300 s re-check.
    assert _warned(client, cid)


def test_zero_seconds_rechains_every_view(app, client, fresh_checks, monkeypatch):
    monkeypatch.setitem(app.config, "CIVIC_CHAIN_CHECK_SECONDS", 0)
    cid, *_ = _published(app)
    client.get(f"{BASE}/{cid}/resultats?view=1")  # two keys: not the page cache's hit
    first = len(fresh_checks)
    client.get(f"{BASE}/{cid}/resultats?view=2")
    assert first and len(fresh_checks) == 2 * first


def test_publication_does_the_check_so_the_first_view_does_not(app, client, fresh_checks):
    with app.app_context():
        s, _ = closed_vote()
        make_user("coord3@example.org", roles=("coordinator",))
        from civic.voting import count as counting

        counting.count_campaign(s.campaign, None)
        db.session.commit()
        cid = s.campaign.id
    login(client, "coord3@example.org")
    resp = post_form(client, f"{BASE}/{cid}/resultats/publier", {},
                     token_page=f"{BASE}/{cid}/resultats")
    assert resp.status_code == 302
    at_publication = len(fresh_checks)
    assert at_publication
    client.post("/compte/deconnexion", data={"csrf_token": csrf_from(
        client.get("/").get_data(as_text=True))})
    assert not _warned(client, cid)
    assert len(fresh_checks) == at_publication  # the visitor's view re-chained nothing


def test_fingerprints_move_with_the_rows(app):
    with app.app_context():
        s, _ = closed_vote()
        envelope_id = s.city.id
        before = res.ballot_fingerprints([envelope_id, 10**6])
        assert before[10**6] == "" and before[envelope_id]
        db.session.execute(delete(Ballot).where(Ballot.lookup == db.session.scalars(
            select(Ballot.lookup).where(Ballot.envelope_id == envelope_id).limit(1)).first()))
        db.session.commit()
        assert res.ballot_fingerprints([envelope_id])[envelope_id] != before[envelope_id]
