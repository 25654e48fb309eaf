"""Catalogs: every msgid has a non-fuzzy French translation; English renders; formats."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import REPO, login, make_user, post_form

PO = REPO / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def _catalog(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_every_msgid_has_a_french_translation():
    cat = _catalog(PO)
    missing = []
    for msg in cat:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            missing.append(msg.id)
    assert not missing, f"{len(missing)} untranslated: {missing[:10]}"


def test_catalog_covers_the_source():
    """Every string in the code and templates is in the catalog (pybabel extract)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (REPO / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(PO) if m.id}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                "lazy_gettext": None}
    found = set()
    for _fn, _ln, msg, _c, _ctx in extract_from_dir(str(REPO), method_map, options_map,
                                                   keywords=keywords):
        found.add(msg if isinstance(msg, str) else msg[0])
    assert not (found - known), f"run `flask translate update`: {sorted(found - known)[:10]}"


def test_french_by_default_and_english_on_request(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Budget participatif" in html
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Participatory budget" in html


def test_switcher_overrides_browser_language(client):
    client.get("/langue?lang=en&next=/")
    html = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_user_setting_overrides_switcher(client, app):
    with app.app_context():
        make_user("ines@example.org", locale="en")
    client.get("/langue?lang=fr&next=/")
    login(client, "ines@example.org")
    # The switcher while logged in also saves the preference.
    post_form(client, "/langue", {"lang": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_numbers_are_formatted_for_the_language(app, client):
    with app.app_context():
        make_user("ines@example.org")  # creates quartiers with population 6000
    fr = client.get("/quartiers").get_data(as_text=True)
    assert "6\u202f000" in fr or "6\xa0000" in fr
    en = client.get("/quartiers", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "6,000" in en
