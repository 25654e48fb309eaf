"""Correcting a person's details in Chromium: the bienveilleur who recorded the demo's first
referral, keyboard only and without JavaScript, fixes the contact; a too-short contact is
announced and the typed text kept. The correction form passes axe."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.test_budget_journey import _keyboard_log_in
from tests.browser.test_journeys import _assert_accessible, _log_in

REFERRAL = "/bienveilleurs/signalements/1"
NEW_CONTACT = "06 71 00 00 11, sonner deux fois"


def test_the_author_corrects_a_contact_keyboard_only(page: Page, browser: Browser, base_url):
    # With JavaScript, for axe: the coordinator following the referral opens the form.
    _log_in(page, "coordination@demo.civic.example")
    page.goto(REFERRAL)
    page.get_by_role("link", name="Corriger les coordonnées de la personne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Corriger les coordonnées de la personne")
    _assert_accessible(page, "correct a person's details")

    # The author, keyboard only, in a browser without JavaScript.
    ctx = browser.new_context(java_script_enabled=False, base_url=base_url, locale="fr-FR")
    author = ctx.new_page()
    _keyboard_log_in(author, "bienveilleur@demo.civic.example")
    author.goto(REFERRAL)
    author.get_by_role("link", name="Corriger les coordonnées de la personne").focus()
    author.keyboard.press("Enter")
    contact = author.get_by_label("Comment la joindre")
    expect(contact).to_contain_text("sonner deux fois")  # the details as they are
    # Too short: announced, the typed text kept.
    contact.focus()
    author.keyboard.press("Control+A")
    author.keyboard.type("06")
    author.get_by_role("button", name="Enregistrer la correction").focus()
    author.keyboard.press("Enter")
    expect(author.locator("#error-summary")).to_be_visible()
    expect(author.get_by_label("Comment la joindre")).to_have_value("06")
    contact = author.get_by_label("Comment la joindre")
    contact.focus()
    author.keyboard.press("Control+A")
    author.keyboard.type(NEW_CONTACT)
    author.get_by_role("button", name="Enregistrer la correction").focus()
    author.keyboard.press("Enter")
    expect(author.get_by_text("Les coordonnées de la personne sont corrigées.")).to_be_visible()
    expect(author.get_by_role("main")).to_contain_text(NEW_CONTACT)
    expect(author.get_by_role("main")).to_contain_text("a corrigé les données personnelles")
    ctx.close()
