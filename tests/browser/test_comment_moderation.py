"""Comment moderation in Chromium: the demo's reported comment waits in the queue; a
moderator, keyboard only and without JavaScript, hides it with a reason; visitors then read
the reason in its place, not its text. The queue and the proposal page pass axe."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from civic.budgeting.demo import DEMO_COMMENTS
from tests.browser.test_budget_journey import _keyboard_log_in
from tests.browser.test_journeys import _assert_accessible, _log_in

PROPOSAL, _AUTHOR, SPAM, _REPORTS = DEMO_COMMENTS[1]
QUEUE = "/budget-participatif/moderation/commentaires"
PLACEHOLDER = "Ce commentaire a été masqué par la modération (Spam ou publicité)."


def _no_js(browser: Browser, base_url: str) -> Page:
    ctx = browser.new_context(java_script_enabled=False, base_url=base_url, locale="fr-FR")
    return ctx.new_page()


def _open_proposal(page: Page) -> None:
    page.goto("/budget-participatif/campagnes/1/propositions")
    page.get_by_role("link", name=PROPOSAL).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROPOSAL)


def test_moderator_hides_a_reported_comment_keyboard_only(page: Page, browser: Browser,
                                                          base_url):
    # The queue, with JavaScript (for axe): the demo comment, its two reports and reasons.
    _log_in(page, "coordination@demo.civic.example")
    page.goto(QUEUE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Commentaires signalés")
    row = page.get_by_role("row").filter(has_text=SPAM)
    expect(row).to_contain_text("Spam ou publicité (2)")
    expect(row.get_by_role("cell").nth(1)).to_have_text("2")
    _assert_accessible(page, "reported comments queue")
    row.get_by_role("link", name=re.compile("^Décider")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modérer un commentaire")
    _assert_accessible(page, "moderate a comment")

    # The same moderator's work, keyboard only, in a browser without JavaScript.
    mod = _no_js(browser, base_url)
    _keyboard_log_in(mod, "coordination@demo.civic.example")
    mod.goto("/budget-participatif/campagnes/1")
    mod.get_by_role("link", name="Commentaires signalés").focus()
    mod.keyboard.press("Enter")
    expect(mod.get_by_role("heading", level=1)).to_have_text("Commentaires signalés")
    mod.get_by_role("link", name=re.compile(r"^Décider sur le commentaire de")).focus()
    mod.keyboard.press("Enter")
    expect(mod.get_by_role("heading", level=1)).to_have_text("Modérer un commentaire")
    expect(mod.locator("blockquote")).to_contain_text(SPAM)
    # Record without a reason first: the error is announced and the choice kept.
    mod.get_by_label("Masquer le commentaire").focus()
    mod.keyboard.press("Space")
    mod.get_by_role("button", name="Enregistrer la décision").focus()
    mod.keyboard.press("Enter")
    expect(mod.locator("#error-summary")).to_contain_text("Choisissez pourquoi")
    expect(mod.get_by_label("Masquer le commentaire")).to_be_checked()
    mod.get_by_label("Spam ou publicité").focus()
    mod.keyboard.press("Space")
    mod.get_by_label("Message à l'auteur (facultatif, journalisé)").focus()
    mod.keyboard.type("La publicité n'est pas admise dans les commentaires.")
    mod.get_by_role("button", name="Enregistrer la décision").focus()
    mod.keyboard.press("Enter")
    expect(mod.get_by_role("heading", level=1)).to_have_text("Commentaires signalés")
    expect(mod.get_by_text("Décision de modération enregistrée.")).to_be_visible()
    expect(mod.get_by_text("Aucun signalement en attente.")).to_be_visible()
    expect(mod.get_by_role("main")).to_contain_text("Spam ou publicité")  # hidden list
    mod.context.close()

    # A visitor (no JavaScript) reads the reason, never the text.
    visitor = _no_js(browser, base_url)
    _open_proposal(visitor)
    expect(visitor.get_by_text(PLACEHOLDER)).to_be_visible()
    assert SPAM not in visitor.content()
    visitor.context.close()

    # The proposal page with a hidden comment passes axe, for a visitor and for the author.
    fresh = browser.new_context(base_url=base_url, locale="fr-FR").new_page()
    _open_proposal(fresh)
    expect(fresh.get_by_text(PLACEHOLDER)).to_be_visible()
    _assert_accessible(fresh, "proposal page with a hidden comment (visitor)")
    _log_in(fresh, "lucie@demo.civic.example")
    _open_proposal(fresh)
    expect(fresh.get_by_text(PLACEHOLDER)).to_be_visible()
    assert SPAM not in fresh.content()
    _assert_accessible(fresh, "proposal page with a hidden comment (its author)")
    fresh.context.close()
    # Moderators still read it, marked as hidden.
    _open_proposal(page)
    expect(page.locator(".comment-hidden")).to_contain_text(SPAM)
    _assert_accessible(page, "proposal page with a hidden comment (moderator)")


def test_resident_reports_a_comment_keyboard_only_without_javascript(browser: Browser,
                                                                     base_url, page: Page):
    friendly = DEMO_COMMENTS[0][2]
    resident = _no_js(browser, base_url)
    _keyboard_log_in(resident, "theo@demo.civic.example")
    _open_proposal(resident)
    resident.get_by_role("link", name="Signaler le commentaire de Karim B.").focus()
    resident.keyboard.press("Enter")
    expect(resident.get_by_role("heading", level=1)).to_have_text("Signaler un commentaire")
    expect(resident.locator("blockquote")).to_contain_text(friendly)
    resident.get_by_label("Autre motif", exact=True).focus()
    resident.keyboard.press("Space")
    resident.get_by_role("button", name="Envoyer le signalement").focus()
    resident.keyboard.press("Enter")  # "another reason" needs details: a form error
    expect(resident.locator("#error-summary")).to_contain_text("Dites en quelques mots")
    expect(resident.get_by_label("Autre motif", exact=True)).to_be_checked()
    resident.get_by_label(re.compile("^Précisions")).focus()
    resident.keyboard.type("Test de signalement au clavier.")
    resident.get_by_role("button", name="Envoyer le signalement").focus()
    resident.keyboard.press("Enter")
    expect(resident.get_by_text("Merci : la modération examinera votre signalement.")).to_be_visible()
    resident.context.close()
    # The report page itself passes axe (with JavaScript, for axe).
    _log_in(page, "awa@demo.civic.example")
    _open_proposal(page)
    page.get_by_role("link", name="Signaler le commentaire de Karim B.").click()
    _assert_accessible(page, "report a comment")
