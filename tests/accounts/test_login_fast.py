"""The login page is rendered once per locale and address with a slot for the CSRF token:
each visitor still gets their own token in their own session, a forged or foreign token is
refused, flashed messages still show, the login still renews the session, and the throttle
still counts every POST."""

from __future__ import annotations

import re

import pytest

from civic.accounts import views as account_views
from tests.conftest import PASSWORD, csrf_from, make_user

URL = "/compte/connexion"


@pytest.fixture
def user(app):
    with app.app_context():
        make_user("ines@example.org")


@pytest.fixture(autouse=True)
def _empty_memo(monkeypatch):
    monkeypatch.setattr(account_views, "_LOGIN_PAGES", account_views.OrderedDict())


def _page(client):  # noqa: ANN001, ANN202
    resp = client.get(URL)
    assert resp.status_code == 200
    return resp, resp.get_data(as_text=True)


def test_every_visitor_gets_their_own_token_in_the_same_page(app):
    first, second = app.test_client(), app.test_client()
    resp1, html1 = _page(first)
    resp2, html2 = _page(second)  # served from the memo
    assert account_views._LOGIN_PAGES  # the page was kept
    token1, token2 = csrf_from(html1), csrf_from(html2)
    assert token1 != token2 and account_views._CSRF_SLOT not in html2
    assert html1.replace(token1, "T") == html2.replace(token2, "T")  # same page otherwise
    assert "Set-Cookie" in resp2.headers  # the token is backed by the visitor's session
    assert html2.count('name="csrf_token"') == 1


def test_a_forged_or_foreign_token_is_refused(app, user):
    mallory, ines = app.test_client(), app.test_client()
    _resp, mallory_html = _page(mallory)
    _page(ines)
    _page(ines)  # the memo's page, with ines's token
    data = {"email": "ines@example.org", "password": PASSWORD}
    for token in (None, "forged", csrf_from(mallory_html), account_views._CSRF_SLOT):
        form = dict(data) if token is None else {**data, "csrf_token": token}
        resp = ines.post(URL, data=form)
        assert resp.status_code in (400, 422), token  # refused: not logged in
        assert "Log out" not in resp.get_data(as_text=True)
        assert "Se déconnecter" not in resp.get_data(as_text=True)
    _resp, html = _page(ines)
    resp = ines.post(URL, data={**data, "csrf_token": csrf_from(html)})
    assert resp.status_code == 302  # the visitor's own token works


def test_login_from_the_memo_page_renews_the_session(app, user):
    client = app.test_client()
    _page(client)
    _resp, html = _page(client)
    before = client.get_cookie("session").value
    resp = client.post(URL, data={"email": "ines@example.org", "password": PASSWORD,
                                  "csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    # the old session cookie (what an attacker could have planted) is not signed in
    stale = app.test_client()
    stale.set_cookie("session", before, domain="localhost")
    assert stale.get("/mon-espace").status_code in (302, 401, 403)


def test_the_path_and_locale_are_part_of_the_key(app):
    client = app.test_client()
    fr = client.get(URL, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    en = client.get(URL, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr">' in fr and '<html lang="en">' in en
    nxt = client.get(URL + "?next=/quartiers").get_data(as_text=True)
    assert re.search(r'name="next" value="/compte/connexion\?next=(/|%2F)quartiers"', nxt)
    assert len(account_views._LOGIN_PAGES) == 3


def test_flashed_messages_are_rendered_not_memoised(app):
    client = app.test_client()
    _page(client)
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "Message unique de test")]
    _resp, html = _page(client)
    assert "Message unique de test" in html
    _resp, html = _page(client)
    assert "Message unique de test" not in html


def test_the_throttle_still_counts_every_post(app, user):
    client = app.test_client()
    codes = []
    for _ in range(7):
        _resp, html = _page(client)
        codes.append(client.post(URL, data={"email": "ines@example.org",
                                             "password": "wrong password!",
                                             "csrf_token": csrf_from(html)}).status_code)
    assert codes[:5] == [422] * 5 and codes[-1] == 429
