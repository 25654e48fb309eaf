"""Voting desk and realisations in a real browser, keyboard only: an agent marks a paper
participation and keys a sheet, a second agent keys it differently, the coordination
reconciles it; a realisation page with a milestone photo. Every page passes axe."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from tests.conftest import PASSWORD

AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
COORDINATOR = "coordination@demo.civic.example"


def _log_in(page: Page, email: str, password: str) -> None:
    page.goto("/compte/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def _check(page: Page, where: str) -> None:
    assert page.locator("h1").count() == 1, f"{where}: exactly one h1"
    result = AXE.run(page, options=WCAG_AA)
    assert result.violations_count == 0, f"{where}:\n{result.generate_report()}"


@pytest.fixture(scope="module")
def vote_world(live_app):
    """A campaign in its vote phase (beside the demo one), two desk agents of it, and a
    realisation with a milestone photo."""
    from civic.budgeting import services as budget
    from civic.voting import realisation
    from tests.budgeting.factories import png_bytes
    from tests.conftest import make_user
    from tests.voting.factories import make_vote

    with live_app.test_request_context():
        # The demo city has more quartiers than the unit tests': smaller quartier projects.
        s = make_vote(quartier_costs=(5_000_00, 3_000_00), title="Budget du bureau de vote",
                      tag="-bureau")
        agents = [make_user(f"bureau{i}@example.org", roles=(("desk_agent", s.campaign.id),))
                  for i in (1, 2)]
        from sqlalchemy import select

        from civic.accounts.models import User

        coord = db.session.execute(select(User).where(User.email == COORDINATOR)).scalar_one()
        done = realisation.start_realisation(coord, s.city_options[0])
        realisation.add_milestone(coord, done, realisation.MilestoneData(
            date(2027, 4, 2), "Pose des premiers bancs", "Six bancs posés.", 40,
            "Bancs neufs le long de l'allée"), [budget.Upload("bancs.png", png_bytes())])
        db.session.commit()
        return {"campaign": s.campaign.id, "city": s.city.id, "voter": s.voter.id,
                "proposal": s.city_options[0].id, "realisation": done.id,
                "agents": [a.email for a in agents]}


def test_desk_journey_by_keyboard_and_reconciliation(page: Page, browser: Browser,
                                                     base_url, vote_world):
    w = vote_world
    base = f"/budget-participatif/bureau-de-vote/{w['campaign']}"
    _log_in(page, w["agents"][0], PASSWORD)
    page.goto("/budget-participatif/bureau-de-vote/")
    _check(page, "desk home")
    page.goto(base)
    _check(page, "desk index")
    search = page.get_by_label("Nom ou adresse électronique")
    search.focus()
    page.keyboard.type("votante-bur")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Votante-Bureau", exact=True)).to_be_visible()
    _check(page, "desk search results")
    page.get_by_role("link", name="Votante-Bureau", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Votante-Bureau")
    _check(page, "resident at the desk")
    button = page.get_by_role("button", name="Remettre les bulletins papier")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("sa participation est enregistrée")
    expect(page.get_by_text("déjà voté sur papier").first).to_be_visible()
    _check(page, "resident after the participation")

    page.goto(f"{base}/saisie")
    _check(page, "keying: envelopes")
    page.goto(f"{base}/saisie/{w['city']}")
    _check(page, "keying form")
    page.get_by_label("Numéro du bulletin").focus()
    page.keyboard.type("K-1")
    first = page.get_by_role("checkbox").first
    first.focus()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    page.get_by_role("button", name="Enregistrer cette saisie").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("un second agent doit le saisir")
    # Keying refused (nothing ticked): the error is announced and the number kept.
    page.get_by_label("Numéro du bulletin").fill("K-2")
    page.get_by_role("button", name="Enregistrer cette saisie").click()
    expect(page.get_by_role("alert")).to_contain_text("Choisissez au moins un projet")
    expect(page.get_by_label("Numéro du bulletin")).to_have_value("K-2")
    _check(page, "keying form with an error")

    # The second agent's browser has JavaScript off: the desk works without it.
    no_js = browser.new_context(java_script_enabled=False, base_url=base_url, locale="fr-FR")
    other = no_js.new_page()
    _log_in(other, w["agents"][1], PASSWORD)
    other.goto(f"{base}/saisie/{w['city']}")
    other.get_by_label("Numéro du bulletin").fill("K-1")
    other.get_by_role("checkbox").nth(1).check()
    other.get_by_role("button", name="Enregistrer cette saisie").click()
    expect(other.get_by_role("status")).to_contain_text("diffère de la première saisie")
    no_js.close()

    coord_ctx = browser.new_context(base_url=base_url, locale="fr-FR")
    coord = coord_ctx.new_page()
    _log_in(coord, COORDINATOR, DEMO_PASSWORD)
    coord.goto(f"/budget-participatif/campagnes/{w['campaign']}")
    coord.get_by_role("link", name="Bulletins papier à rapprocher").click()
    _check(coord, "reconciliation list")
    coord.get_by_role("link", name="Rapprocher le bulletin K-1").click()
    _check(coord, "reconcile a sheet")
    coord.get_by_label("Compter le bulletin").check()
    coord.get_by_role("checkbox").nth(1).check()
    coord.get_by_label("Note").fill("Deuxième case cochée, vérifié sur le papier.")
    coord.get_by_role("button", name="Enregistrer la décision").click()
    expect(coord.get_by_role("status")).to_contain_text("il compte")
    coord_ctx.close()


def test_realisation_pages_pass_axe(page: Page, browser: Browser, vote_world):
    w = vote_world
    page.goto(f"/budget-participatif/propositions/{w['proposal']}")
    page.get_by_role("link", name="Ce projet est lauréat").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Réalisation")
    expect(page.get_by_role("img", name="Bancs neufs le long de l'allée")).to_be_visible()
    _check(page, "realisation page")
    page.get_by_role("link", name="Toutes les réalisations").click()
    _check(page, "realisations of the campaign")
    _log_in(page, COORDINATOR, DEMO_PASSWORD)
    for url in (f"/budget-participatif/realisations/{w['realisation']}",
                f"/budget-participatif/realisations/{w['realisation']}/modifier",
                f"/budget-participatif/realisations/{w['realisation']}/jalons/nouveau",
                f"/budget-participatif/campagnes/{w['campaign']}/lien-plan-d-action",
                f"/budget-participatif/campagnes/{w['campaign']}"):
        page.goto(url)
        _check(page, url)
    # A refused edit is announced and keeps the input.
    page.goto(f"/budget-participatif/realisations/{w['realisation']}/modifier")
    page.get_by_label("Avancement (%)").fill("150")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Avancement (%)")).to_have_value("150")
    _check(page, "realisation form with an error")
