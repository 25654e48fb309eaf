"""The vote, end to end in Chromium and with the keyboard only: an eligible resident votes
in the city-wide and in their quartier's envelope, confirms, gets a receipt, and changes
the city-wide vote with it; a resident who is too young sees why they cannot vote. Every
new page passes axe (WCAG 2.1 AA). (Finding the ballot in the published list after the
close is another page's test.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_journeys import _assert_accessible
from tests.conftest import PASSWORD

TITLE = "Budget des quartiers (vote)"
RECEIPT = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}-[0-9A-Z]{2}$")


@pytest.fixture(scope="module")
def vote_campaign(live_app) -> dict:
    """A campaign in its vote phase on the live server's database, built by the same
    factory as the service tests (proposals reviewed, answers published, vote opened)."""
    with live_app.test_request_context():  # the factories' notifications build links
        from civic.extensions import db
        from tests.conftest import make_user
        from tests.voting.factories import make_vote

        s = make_vote(title=TITLE, min_age=16, quartier_costs=(6_000_00, 2_500_00))
        make_user("jeune-votant@example.org", birth_year=2016,
                  quartier=s.voter.quartier)
        # The live database is shared with the other journeys, which pick the demo's
        # "Voirie" service by label: give the factory's service a name that cannot match.
        from sqlalchemy import select

        from civic.territory.models import CityService

        svc = db.session.scalar(select(CityService).where(CityService.slug == "voirie-vote"))
        svc.name = "Études du vote de test"
        db.session.commit()
        out = {"id": s.campaign.id, "quartier": s.quartier.quartier.label,
               "city_options": [p.title for p in s.city_options],
               "quartier_options": [p.title for p in s.quartier_options]}
        db.session.remove()
    return out


def _keyboard_log_in(page: Page, email: str) -> None:
    page.goto("/compte/connexion")
    page.get_by_label("Adresse électronique").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def _activate(page: Page, role: str, name: str) -> None:
    """Focus a control by its accessible name and press Enter, as a keyboard user does."""
    target = page.get_by_role(role, name=name)
    target.focus()
    expect(target).to_be_focused()
    page.keyboard.press("Enter")


def _toggle(page: Page, label: str) -> None:
    box = page.get_by_role("checkbox", name=re.compile(re.escape(label)))
    box.focus()
    page.keyboard.press("Space")


def _confirm_and_read_receipt(page: Page, where: str) -> str:
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vérifier mon bulletin")
    _assert_accessible(page, f"review page ({where})")
    _activate(page, "button", "Confirmer mon vote")
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre vote est enregistré")
    receipt = page.locator("#receipt").inner_text().strip()
    assert RECEIPT.match(receipt), receipt
    expect(page.get_by_role("button", name="Imprimer cette page")).to_be_visible()
    _assert_accessible(page, f"recorded page ({where})")
    return receipt


def test_vote_in_both_envelopes_then_change_with_the_receipt(page: Page, vote_campaign):
    city_a, city_b, city_c = vote_campaign["city_options"]
    quartier = vote_campaign["quartier"]
    _keyboard_log_in(page, "votante@example.org")
    page.goto(f"/budget-participatif/campagnes/{vote_campaign['id']}")
    _assert_accessible(page, "campaign page in its vote phase")
    _activate(page, "link", "Voter maintenant")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Vote : {TITLE}")
    _assert_accessible(page, "vote page")

    # --- the city-wide envelope: the live counter follows the keyboard
    _activate(page, "link", "Voter pour « Toute la ville »")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon bulletin : Toute la ville")
    counter = page.get_by_role("status").filter(has_text="choisi")
    expect(counter).to_have_text("0 projet(s) choisi(s) ; reste 2.")
    _assert_accessible(page, "ballot page")
    for title in (city_a, city_b, city_c):
        _toggle(page, title)
    expect(counter).to_have_text("3 projet(s) choisi(s) ; 1 de trop.")
    _activate(page, "button", "Vérifier mon bulletin")  # one too many: refused, kept
    expect(page.locator("#error-summary")).to_contain_text("au plus 2 projets")
    _assert_accessible(page, "ballot page with an error")
    _toggle(page, city_b)
    _toggle(page, city_c)
    expect(counter).to_have_text("1 projet(s) choisi(s) ; reste 1.")
    _activate(page, "button", "Vérifier mon bulletin")
    expect(page.get_by_role("table")).to_contain_text(city_a)
    first = _confirm_and_read_receipt(page, "city")

    # --- the quartier's envelope
    _activate(page, "link", "Retour à la page du vote (votre autre enveloppe)")
    expect(page.get_by_text("Vote enregistré le").first).to_be_visible()
    _activate(page, "link", f"Voter pour « {quartier} »")
    _toggle(page, vote_campaign["quartier_options"][1])
    _activate(page, "button", "Vérifier mon bulletin")
    second = _confirm_and_read_receipt(page, "quartier")
    assert second != first

    # --- change the city-wide vote with its receipt (a wrong one first)
    _activate(page, "link", "Retour à la page du vote (votre autre enveloppe)")
    expect(page.get_by_text("Vote enregistré le")).to_have_count(2)
    _activate(page, "link",
              "Modifier mon vote pour « Toute la ville » (il vous faut votre reçu)")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Modifier mon vote : Toute la ville")
    _assert_accessible(page, "change page")
    page.get_by_label("Votre code de reçu").focus()
    page.keyboard.type("0000-0000-0000-0000-0000-0000-00")
    page.keyboard.press("Enter")
    expect(page.locator("#error-summary")).to_contain_text("n'est pas celui")
    _assert_accessible(page, "change page with an error")
    page.get_by_label("Votre code de reçu").fill("")
    page.get_by_label("Votre code de reçu").focus()
    page.keyboard.type(first.lower().replace("-", " "))
    page.keyboard.press("Enter")
    expect(page.get_by_role("checkbox", name=re.compile(re.escape(city_a)))).to_be_checked()
    _assert_accessible(page, "ballot page (changing)")
    _toggle(page, city_a)
    _toggle(page, city_b)
    _activate(page, "button", "Vérifier mon bulletin")
    expect(page.get_by_role("table")).to_contain_text(city_b)
    expect(page.get_by_role("table")).not_to_contain_text(city_a)
    third = _confirm_and_read_receipt(page, "changed")
    assert third not in (first, second)
    expect(page.get_by_text("remplace le précédent")).to_be_visible()


def test_a_resident_who_cannot_vote_sees_why(browser: Browser, base_url, vote_campaign):
    ctx = browser.new_context(base_url=base_url, locale="fr-FR")
    page = ctx.new_page()
    _keyboard_log_in(page, "jeune-votant@example.org")
    page.goto(f"/budget-participatif/campagnes/{vote_campaign['id']}/vote")
    reason = page.get_by_role("heading", name="Pourquoi vous ne pouvez pas voter")
    expect(reason).to_be_visible()
    expect(page.get_by_text("Ce vote est ouvert à partir de 16 ans.").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Voter pour"))).to_have_count(0)
    _assert_accessible(page, "vote page (not eligible)")
    ctx.close()


def test_the_ballot_works_without_javascript(browser: Browser, base_url, vote_campaign):
    """No live counter without JavaScript, but the same ballot, review and errors. (axe
    needs JavaScript: these pages are checked with it in the journey above.)"""
    ctx = browser.new_context(java_script_enabled=False, base_url=base_url, locale="fr-FR")
    page = ctx.new_page()
    page.goto("/compte/connexion")
    page.get_by_label("Adresse électronique").fill("coord-vote@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"/budget-participatif/campagnes/{vote_campaign['id']}/vote")
    page.get_by_role("link", name="Voter pour « Toute la ville »").click()
    expect(page.locator("#vote-counter")).to_be_hidden()
    for title in vote_campaign["city_options"]:
        page.get_by_role("checkbox", name=re.compile(re.escape(title))).check()
    page.get_by_role("button", name="Vérifier mon bulletin").click()
    expect(page.locator("#error-summary")).to_contain_text("au plus 2 projets")
    page.get_by_role("checkbox", name=re.compile(re.escape(
        vote_campaign["city_options"][0]))).uncheck()
    page.get_by_role("button", name="Vérifier mon bulletin").click()
    page.get_by_role("button", name="Confirmer mon vote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre vote est enregistré")
    ctx.close()
