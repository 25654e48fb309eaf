"""An action owner (porteur), keyboard only: logs in, opens their action, records an
indicator value the public then sees, and answers a council's question. axe on each page."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from civic.accounts import services as accounts
from civic.accounts.models import User
from civic.actionplan import services as actionplan
from civic.actionplan.models import Plan
from civic.councils import services as councils
from civic.extensions import db
from civic.territory.models import Council
from tests.browser.test_journeys import _assert_accessible

EMAIL, PASSWORD = "porteur-navigateur@example.org", "une phrase de passe de porteur"


def _porteur_world(live_app) -> dict:
    """The second action of the Porte du Hainaut plan in the demo council's quartier: a
    porteur for it, an indicator, and an unanswered question from the council."""
    with live_app.test_request_context():  # registering sends a confirmation link
        plan = db.session.execute(select(Plan).where(Plan.slug.contains("hainaut"))).scalar_one()
        first, action = [n for n in sorted(plan.nodes, key=lambda n: n.id) if n.is_action][:2]
        admin = db.session.execute(select(User).where(
            User.email == "admin@demo.civic.example")).scalar_one()
        member = db.session.execute(select(User).where(
            User.email == "conseil@demo.civic.example")).scalar_one()
        council = db.session.execute(select(Council).where(
            Council.name == "Conseil citoyen Faubourg Duchâteau")).scalar_one()
        if not action.indicators:
            actionplan.add_indicator(admin, action, name="Jeunes accompagnés", unit="jeunes",
                                     baseline=None, baseline_year=None, source="")
        porteur = accounts.register_resident(
            email=EMAIL, password=PASSWORD, display_name="Paule Porteuse",
            quartier_id=council.quartier_id, birth_year=1979, gender=None)
        porteur.email_confirmed_at = porteur.created_at
        accounts.grant_role(admin, porteur, "porteur", action.id)
        question = councils.ask_question(member, council, action,
                                         "Quand les inscriptions ouvrent-elles ?")
        db.session.commit()
        return {"action": action.id, "code": action.code or str(action.id),
                "indicator": action.indicators[0].name, "question": question.id,
                "other": first.id}


def _keyboard_log_in(page: Page) -> None:
    page.goto("/compte/connexion")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Adresse électronique").focus()
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def _follow(page: Page, name: str) -> None:
    """Reach a link with the keyboard focus and press Enter (no click)."""
    link = page.get_by_role("link", name=name, exact=True)
    link.focus()
    expect(link).to_be_focused()
    page.keyboard.press("Enter")


def test_an_action_owner_updates_an_indicator(page: Page, live_app, browser, base_url):
    world = _porteur_world(live_app)
    _keyboard_log_in(page)
    _follow(page, "Mes actions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes actions")
    _assert_accessible(page, "my actions")
    _follow(page, f"Enregistrer une valeur d'indicateur pour {world['code']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enregistrer une valeur d'indicateur")
    _assert_accessible(page, "value form (porteur)")
    page.get_by_label("Année").focus()
    page.keyboard.type("2026")
    page.get_by_label("Cible").focus()
    page.keyboard.type("30")
    page.get_by_label("Valeur mesurée").focus()
    page.keyboard.type("17")
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Valeur enregistrée")
    assert page.url.endswith(f"/plan-d-action/fiche/{world['action']}")
    _assert_accessible(page, "action page (porteur)")

    # Another action is closed to them.
    other = page.request.get(f"/plan-d-action/fiche/{world['other']}/indicateurs/valeur")
    assert other.status == 403

    # The council's question, answered from their own page.
    page.goto("/plan-d-action/mes-actions")
    _follow(page, "Questions des conseils sur mes actions")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Questions des conseils sur mes actions")
    _assert_accessible(page, "porteur questions")
    _follow(page, f"Répondre à la question {world['question']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre à une question")
    _assert_accessible(page, "answer form (porteur)")
    page.get_by_label("Réponse").focus()
    page.keyboard.type("Le 1er mars, au centre social.")
    page.get_by_role("button", name="Publier la réponse").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Réponse publiée")
    expect(page.get_by_text("Le 1er mars, au centre social.")).to_be_visible()

    anonymous = browser.new_context(base_url=base_url, locale="fr-FR",
                                    java_script_enabled=False)
    public = anonymous.new_page()
    public.goto(f"/plan-d-action/fiche/{world['action']}")
    table = public.get_by_role("table", name=world["indicator"], exact=False).first
    expect(table).to_contain_text("2026")
    expect(table).to_contain_text("17")
    expect(public.get_by_text("Le 1er mars, au centre social.")).to_be_visible()
    anonymous.close()
