"""Conseils citoyens in a real browser: an avis given by keyboard only and seen by the
public; a draw short of volunteers explained; the council pages pass axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from civic.councils.models import CouncilAvis, CouncilDraw
from civic.extensions import db
from civic.territory.models import Council
from tests.browser.test_journeys import _assert_accessible, _log_in


def _council(live_app) -> tuple[int, int, list[int]]:
    """The demo council's id, its draw's id, and the actions of its quartier."""
    from civic.councils import services

    with live_app.app_context():
        council = db.session.execute(select(Council).where(
            Council.name == "Conseil citoyen Faubourg Duchâteau")).scalar_one()
        the_draw = db.session.execute(select(CouncilDraw)).scalars().first()
        return council.id, the_draw.id, [a.id for a in services.council_actions(council)]


def test_member_gives_an_avis_by_keyboard_only_and_the_public_sees_it(page: Page, live_app,
                                                                        browser, base_url):
    council_id, _draw, actions = _council(live_app)
    target = actions[-1]  # the demo gave its avis on the first one only
    _log_in(page, "conseil@demo.civic.example")
    page.goto("/conseil")
    page.get_by_role("link", name="Suivi des actions de Conseil citoyen Faubourg Duchâteau").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi des actions")
    _assert_accessible(page, "council dashboard")
    links = page.get_by_role("link", name="Donner un avis sur")
    links.nth(len(actions) - 1).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Donner l’avis du conseil")
    _assert_accessible(page, "avis form")
    page.get_by_role("radio", name="Favorable", exact=True).focus()
    page.keyboard.press("ArrowDown")  # radio group: the arrow moves to and checks « Réservé »
    expect(page.get_by_role("radio", name="Réservé", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Note")).to_be_focused()
    page.keyboard.press("4")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Motifs")).to_be_focused()
    page.keyboard.type("Intéressant, mais il faut une permanence le samedi.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Publier l’avis")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("L’avis du conseil est publié")
    with live_app.app_context():
        avis = db.session.execute(select(CouncilAvis).where(
            CouncilAvis.node_id == target)).scalar_one()
        assert (avis.opinion.value, avis.rating) == ("reserved", 4)
    # The public, without an account, sees it on the action's page and the council's page.
    visitor = browser.new_context(base_url=base_url, locale="fr-FR").new_page()
    visitor.goto(f"/plan-d-action/fiche/{target}")
    section = visitor.get_by_role("region", name="Avis des conseils citoyens")
    expect(section).to_contain_text("Intéressant, mais il faut une permanence le samedi.")
    expect(section).to_contain_text("Réservé")
    _assert_accessible(visitor, "action page with avis")
    visitor.goto(f"/conseils-citoyens/{council_id}")
    expect(visitor.get_by_text("Intéressant, mais il faut une permanence", exact=False)).to_be_visible()
    visitor.context.close()


def test_draw_short_of_volunteers_is_explained(page: Page, live_app):
    council_id, _draw, _actions = _council(live_app)
    _log_in(page, "coordination@demo.civic.example")
    page.goto(f"/conseils-citoyens/{council_id}/gestion")
    page.get_by_role("link", name="Tirer au sort les habitants").click()
    page.get_by_label("Sièges à tirer au sort").fill("6")
    page.get_by_label("Graine (facultatif)").fill("test-navigateur")
    page.get_by_role("button", name="Effectuer le tirage").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("aucun tirage n’a été effectué")
    expect(summary).to_contain_text("Femmes : 3 sièges, 2 volontaires, il en manque 1")
    expect(page.get_by_label("Graine (facultatif)")).to_have_value("test-navigateur")
    _assert_accessible(page, "draw form with errors")


def test_public_council_pages_pass_axe(page: Page, live_app):
    council_id, draw_id, _actions = _council(live_app)
    for url in ("/conseils-citoyens", f"/conseils-citoyens/{council_id}",
                f"/conseils-citoyens/tirages/{draw_id}", "/conseils-citoyens/reunions/1"):
        page.goto(url)
        assert page.locator("h1").count() == 1, url
        _assert_accessible(page, url)
    page.goto(f"/conseils-citoyens/tirages/{draw_id}")
    expect(page.get_by_text("SHA-256", exact=False).first).to_be_visible()
