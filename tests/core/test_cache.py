"""The page cache: visitors only, keyed by path, query and locale, emptied by any write."""

from __future__ import annotations

import pytest
from flask import Flask

from civic import create_app
from civic.core.cache import page_cache
from civic.extensions import db
from civic.territory.models import Commune, Quartier
from tests.conftest import login, make_config, make_territory, make_user


@pytest.fixture
def territory(app):
    with app.app_context():
        make_territory()


def _hit(resp) -> bool:
    return resp.headers.get("X-Civic-Cache") == "hit"


def test_visitors_pages_are_cached_with_an_etag(client, territory):
    first = client.get("/quartiers")
    assert first.status_code == 200 and not _hit(first)
    etag = first.headers["ETag"]
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    second = client.get("/quartiers")
    assert _hit(second) and second.data == first.data and second.headers["ETag"] == etag
    assert second.headers["Content-Security-Policy"]  # the security headers are still there
    not_modified = client.get("/quartiers", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    other = client.get("/quartiers?x=1")  # another query string, another entry
    assert not _hit(other)


def test_api_is_cached_and_answers_304(app, client, territory):
    first = client.get("/api/v1/quartiers?limit=5")
    cache = page_cache(app)
    before = (cache.generation, list(cache.entries), cache.hits, cache.misses)
    second = client.get("/api/v1/quartiers?limit=5")
    assert _hit(second), (before, cache.generation, list(cache.entries), first.headers)
    assert second.get_json() == first.get_json()
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    resp = client.get("/api/v1/quartiers?limit=5", headers={"If-None-Match": first.headers["ETag"]})
    assert resp.status_code == 304


def test_any_committed_write_empties_the_cache(app, client, territory):
    assert "Nouveau Quartier" not in client.get("/quartiers").get_data(as_text=True)
    assert _hit(client.get("/quartiers"))
    with app.app_context():
        commune = db.session.query(Commune).first()
        db.session.add(Quartier(code="NEW-01", name="Nouveau Quartier", commune_id=commune.id))
        db.session.commit()
    resp = client.get("/quartiers")
    assert not _hit(resp) and "Nouveau Quartier" in resp.get_data(as_text=True)
    # A bulk statement (no ORM object) counts too.
    with app.app_context():
        db.session.execute(db.update(Quartier).where(Quartier.code == "NEW-01")
                           .values(name="Quartier Renommé"))
        db.session.commit()
    assert "Quartier Renommé" in client.get("/quartiers").get_data(as_text=True)


def test_a_rolled_back_write_keeps_the_cache(app, client, territory):
    client.get("/quartiers")
    with app.app_context():
        commune = db.session.query(Commune).first()
        db.session.add(Quartier(code="NEW-02", name="Jamais", commune_id=commune.id))
        db.session.flush()
        db.session.rollback()
    assert _hit(client.get("/quartiers"))


def test_a_write_in_another_worker_empties_this_one(app, client, territory):
    """Workers share the generation file: another process's commit is seen at once."""
    client.get("/quartiers")
    assert _hit(client.get("/quartiers"))
    other: Flask = create_app(make_config())
    with other.app_context():
        commune = db.session.query(Commune).first()
        db.session.add(Quartier(code="NEW-03", name="Quartier Voisin", commune_id=commune.id))
        db.session.commit()
    resp = client.get("/quartiers")
    assert not _hit(resp) and "Quartier Voisin" in resp.get_data(as_text=True)


def test_the_locale_is_part_of_the_key(client, territory):
    fr = client.get("/", headers={"Accept-Language": "fr"})
    en = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in fr.get_data(as_text=True)
    assert '<html lang="en">' in en.get_data(as_text=True) and not _hit(en)
    client.get("/langue?lang=en&next=/")  # the switcher's cookie
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr"}).get_data(
        as_text=True)


def test_signed_in_users_never_get_or_fill_the_cache(app, client, territory):
    with app.app_context():
        make_user("ines@example.org")
    client.get("/")
    assert _hit(client.get("/"))
    login(client, "ines@example.org")
    for _ in range(2):
        resp = client.get("/")
        assert not _hit(resp) and "Se déconnecter" in resp.get_data(as_text=True)
        assert resp.headers["Cache-Control"] == "no-store" and "ETag" not in resp.headers


def test_pages_that_set_cookies_or_carry_flashes_are_not_cached(client, territory):
    for _ in range(2):
        resp = client.get("/compte/connexion")  # a CSRF token in a new session
        assert not _hit(resp) and "Set-Cookie" in resp.headers
    fresh = client.application.test_client()
    fresh.get("/")
    with fresh.session_transaction() as sess:
        sess["_flashes"] = [("info", "Message flash unique")]
    resp = fresh.get("/")
    assert not _hit(resp) and "Message flash unique" in resp.get_data(as_text=True)
    assert "Message flash unique" not in fresh.get("/").get_data(as_text=True)


def test_a_visitor_session_never_fills_the_cache(app, territory):
    visitor = app.test_client()
    visitor.get("/compte/connexion")  # now holds a session cookie (CSRF token)
    visitor.get("/accessibilite")
    assert not _hit(visitor.get("/accessibilite"))  # stored only from cookieless requests
    app.test_client().get("/accessibilite")
    assert _hit(visitor.get("/accessibilite"))  # but served to it (not signed in, no flash)


def test_unknown_cookies_bypass_the_cache(client, territory):
    client.get("/")
    client.set_cookie("remember_token", "whatever")
    assert not _hit(client.get("/"))


def test_entries_expire(app, client, territory, monkeypatch):
    client.get("/quartiers")
    assert _hit(client.get("/quartiers"))
    import civic.core.cache as cache_module

    later = cache_module.time.monotonic() + page_cache(app).ttl + 1
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: later)
    assert not _hit(client.get("/quartiers"))


def test_the_cache_is_bounded(app, client, territory, monkeypatch):
    cache = page_cache(app)
    monkeypatch.setattr(cache, "max_bytes", 8 * len(client.get("/quartiers").data) + 10)
    for i in range(30):
        client.get(f"/quartiers?page={i}")
    assert cache.size <= cache.max_bytes and len(cache.entries) < 30


def test_a_zero_ttl_turns_it_off():
    other = create_app(make_config(CIVIC_PAGE_CACHE_TTL=0))
    assert page_cache(other) is None
