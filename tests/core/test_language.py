"""The language switcher: GET and a cookie for visitors (no session), POST when signed in."""

from __future__ import annotations

from civic.accounts.models import User
from civic.extensions import db
from tests.conftest import login, make_territory, make_user, post_form


def test_anonymous_pages_carry_no_session_and_no_csrf_token(client, app):
    with app.app_context():
        make_territory()
    for url in ("/", "/quartiers", "/accessibilite", "/budget-participatif"):
        resp = client.get(url, follow_redirects=True)
        assert resp.status_code == 200, url
        assert "Set-Cookie" not in resp.headers, url
        assert 'name="csrf_token"' not in resp.get_data(as_text=True), url


def test_switcher_is_a_get_form_with_buttons_for_visitors(client):
    html = client.get("/").get_data(as_text=True)
    assert '<form class="lang-switch" method="get" action="/langue">' in html
    assert '<button type="submit" name="lang" value="en" lang="en">English</button>' in html
    assert '<input type="hidden" name="next" value="/">' in html


def test_get_switch_sets_a_cookie_and_goes_back(client):
    resp = client.get("/langue?next=/quartiers&lang=en")
    assert resp.status_code == 302 and resp.location.endswith("/quartiers")
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("lang=en;")
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    html = client.get("/quartiers", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    # and back
    client.get("/langue?next=/&lang=fr")
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


def test_unknown_language_changes_nothing(client):
    for lang in ("de", "", "en X", "EN", "x" * 5000):
        resp = client.get("/langue", query_string={"lang": lang, "next": "/quartiers"})
        assert resp.status_code == 302 and "Set-Cookie" not in resp.headers, lang
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)
    assert client.get("/langue").status_code == 302  # nothing at all


def test_get_switch_overrides_a_language_kept_in_the_session(client):
    with client.session_transaction() as sess:
        sess["lang"] = "fr"  # e.g. kept there by the logout
    client.get("/langue?lang=en&next=/")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_signed_in_switch_posts_with_csrf_and_saves_the_profile(client, app):
    with app.app_context():
        make_user("ines@example.org")
    login(client, "ines@example.org")
    html = client.get("/mon-espace").get_data(as_text=True)
    assert '<form class="lang-switch" method="post" action="/langue">' in html
    resp = post_form(client, "/langue", {"lang": "en", "next": "/mon-espace"},
                     token_page="/mon-espace")
    assert resp.status_code == 302 and resp.location.endswith("/mon-espace")
    with app.app_context():
        assert db.session.query(User).filter_by(email="ines@example.org").one().locale == "en"
    # A forged POST (no token) is refused and saves nothing.
    assert client.post("/langue", data={"lang": "fr"}).status_code == 400
    with app.app_context():
        assert db.session.query(User).filter_by(email="ines@example.org").one().locale == "en"
