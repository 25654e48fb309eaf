"""Cache hits for cookie-less visitors are answered in front of Flask (civic.core.cache.FastHits):
no request context, hook, session or user loading; the same bytes and headers as the Flask
path; and never for a request Flask would not have answered from the cache."""

from __future__ import annotations

import pytest
from flask import Flask, request_started

from civic import create_app
from civic.core.cache import FastHits, page_cache
from civic.extensions import db
from civic.territory.models import Commune, Quartier
from tests.conftest import login, make_config, make_territory, make_user


@pytest.fixture
def territory(app):
    with app.app_context():
        make_territory()


@pytest.fixture
def flask_runs(app):
    """How many requests reached Flask's dispatch (request_started)."""
    seen: list[str] = []

    def started(sender: Flask, **_extra: object) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(started, app)
    yield seen
    request_started.disconnect(started, app)


def _hit(resp) -> bool:  # noqa: ANN001
    return resp.headers.get("X-Civic-Cache") == "hit"


def test_the_middleware_is_in_front_of_flask(app):
    assert isinstance(app.wsgi_app, FastHits)
    other = create_app(make_config(CIVIC_PAGE_CACHE_TTL=0))
    assert not isinstance(other.wsgi_app, FastHits)  # cache off: no middleware


def test_a_hit_never_reaches_flask_and_is_the_same_response(client, territory, flask_runs):
    first = client.get("/quartiers")
    assert not _hit(first) and flask_runs == ["/quartiers"]
    second = client.get("/quartiers")
    assert _hit(second) and flask_runs == ["/quartiers"]  # Flask did not run
    assert second.data == first.data and second.status_code == 200
    for header in ("Content-Type", "ETag", "Content-Security-Policy", "X-Frame-Options",
                   "Referrer-Policy", "Vary"):
        assert second.headers[header] == first.headers[header], header
    assert int(second.headers["Content-Length"]) == len(first.data)
    assert "Set-Cookie" not in second.headers
    head = client.head("/quartiers")
    assert _hit(head) and head.data == b"" and head.headers["ETag"] == first.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(first.data)
    not_modified = client.get("/quartiers", headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert flask_runs == ["/quartiers"]
    other = client.get("/quartiers", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_the_api_hit_keeps_its_headers(client, territory, flask_runs):
    first = client.get("/api/v1/quartiers?limit=5")
    second = client.get("/api/v1/quartiers?limit=5")
    assert _hit(second) and len(flask_runs) == 1
    assert second.get_json() == first.get_json()
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["ETag"] == first.headers["ETag"]


def test_the_locale_is_chosen_as_the_app_chooses_it(client, territory, flask_runs):
    fr = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in fr.get_data(as_text=True)
    en = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert not _hit(en) and '<html lang="en">' in en.get_data(as_text=True)
    again = client.get("/", headers={"Accept-Language": "en-US"})  # same best match: en
    assert _hit(again) and '<html lang="en">' in again.get_data(as_text=True)
    assert _hit(client.get("/", headers={"Accept-Language": "de"}))  # default: fr
    assert '<html lang="fr">' in client.get("/", headers={"Accept-Language": "de"}).get_data(
        as_text=True)
    client.set_cookie("lang", "en")  # the switcher's cookie beats Accept-Language
    resp = client.get("/", headers={"Accept-Language": "fr"})
    assert _hit(resp) and '<html lang="en">' in resp.get_data(as_text=True)
    client.set_cookie("lang", "xx")  # not a language: ignored, as by the app
    resp = client.get("/", headers={"Accept-Language": "fr"})
    assert _hit(resp) and '<html lang="fr">' in resp.get_data(as_text=True)
    assert len(flask_runs) == 2


def test_a_session_or_another_cookie_goes_to_flask(app, client, territory, flask_runs):
    with app.app_context():
        make_user("ines@example.org")
    client.get("/")
    assert _hit(client.get("/"))
    runs = len(flask_runs)
    login(client, "ines@example.org")  # a session cookie now
    resp = client.get("/")
    assert not _hit(resp) and "Se déconnecter" in resp.get_data(as_text=True)
    stranger = app.test_client()
    stranger.get("/")
    stranger.set_cookie("remember_token", "whatever")
    assert not _hit(stranger.get("/"))
    assert len(flask_runs) > runs + 1


def test_another_host_or_path_is_another_key(client, territory):
    client.get("/quartiers")
    assert _hit(client.get("/quartiers"))
    assert not _hit(client.get("/quartiers", base_url="https://localhost"))  # scheme
    assert not _hit(client.get("/quartiers/"))  # another path (a 404 or a redirect)


def test_writes_still_empty_the_cache_for_the_middleware(app, client, territory):
    client.get("/quartiers")
    assert _hit(client.get("/quartiers"))
    other: Flask = create_app(make_config())  # another worker, same generation file
    with other.app_context():
        commune = db.session.query(Commune).first()
        db.session.add(Quartier(code="NEW-09", name="Quartier Rapide", commune_id=commune.id))
        db.session.commit()
    resp = client.get("/quartiers")
    assert not _hit(resp) and "Quartier Rapide" in resp.get_data(as_text=True)
    assert _hit(client.get("/quartiers"))


def test_a_post_is_never_answered_by_the_middleware(client, territory):
    client.get("/quartiers")
    resp = client.post("/quartiers")
    assert not _hit(resp) and resp.status_code in (400, 405)


def test_expired_entries_are_not_served(app, client, territory, monkeypatch):
    client.get("/quartiers")
    assert _hit(client.get("/quartiers"))
    import civic.core.cache as cache_module

    later = cache_module.time.monotonic() + page_cache(app).ttl + 1
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: later)
    assert not _hit(client.get("/quartiers"))
