"""Real-browser journeys and the accessibility scan (axe, WCAG 2.1 AA) of every page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import select

from civic.accounts.models import OutboxMessage, RoleGrant, User
from civic.actionplan.models import Plan
from civic.demo import DEMO_PASSWORD
from civic.extensions import db

AXE = Axe()
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/compte/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def _assert_accessible(page: Page, where: str) -> None:
    result = AXE.run(page, options=WCAG_AA)
    assert result.violations_count == 0, f"{where}:\n{result.generate_report()}"


def test_register_confirm_login_switch_language_logout(page: Page, live_app):
    page.goto("/")
    expect(page).to_have_title(re.compile("Accueil"))
    page.get_by_role("link", name="Créer un compte").first.click()
    page.get_by_label("Adresse électronique").fill("browser-resident@example.org")
    page.get_by_label("Mot de passe").fill("une phrase de passe longue")
    page.get_by_label("Nom affiché").fill("Résidente Navigateur")
    page.get_by_label("Quartier de résidence").select_option(label="Élnon (Saint-Amand-les-Eaux)")
    page.get_by_label("Année de naissance").fill("1988")
    page.get_by_label("J'ai lu comment mes données personnelles sont utilisées").check()
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez vos e-mails")
    with live_app.app_context():
        body = db.session.execute(
            select(OutboxMessage.body).where(
                OutboxMessage.recipient == "browser-resident@example.org")
        ).scalars().first()
    link = re.search(r"(/compte/confirmer/\S+)", body).group(1)
    page.goto(link)
    expect(page.locator(".flash")).to_contain_text("confirmée")
    _log_in(page, "browser-resident@example.org", "une phrase de passe longue")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".flash")).to_contain_text("logged out")


def test_keyboard_only_login(page: Page):
    page.goto("/compte/connexion")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("Adresse électronique").focus()
    page.keyboard.type("habitante@demo.civic.example")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")


def test_works_without_javascript(browser, base_url):
    ctx = browser.new_context(java_script_enabled=False, base_url=base_url, locale="fr-FR")
    page = ctx.new_page()
    page.goto("/quartiers")
    page.get_by_role("button", name="English").click()  # visitors: a GET form, a cookie
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/quartiers")
    assert {c["name"] for c in ctx.cookies()} == {"lang"}  # and no session
    page.get_by_role("button", name="Français").focus()  # keyboard: a native button
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto("/compte/connexion")
    page.get_by_label("Adresse électronique").fill("habitante@demo.civic.example")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Français").click()  # the choice is saved in the profile
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    ctx.close()


def test_form_errors_are_announced_and_linked(page: Page):
    page.goto("/compte/inscription")
    page.get_by_label("Adresse électronique").fill("pas-une-adresse")
    page.get_by_role("button", name="Créer mon compte").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    email = page.get_by_label("Adresse électronique")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_value("pas-une-adresse")
    described = email.get_attribute("aria-describedby")
    assert described and "email-error" in described
    _assert_accessible(page, "registration form with errors")


def _pages_for(live_app, role: str) -> list[str]:
    """Every GET page the role may open, with real arguments."""
    from civic.permissions import PUBLIC, access_of, user_can

    with live_app.app_context():
        user = None
        if role != "anonymous":
            user = db.session.execute(
                select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == role)
            ).scalars().first() if role != "resident" else db.session.execute(
                select(User).where(User.email == "habitante@demo.civic.example")).scalar_one()
        plan = db.session.execute(select(Plan).order_by(Plan.id)).scalars().first()
        # The action the demo council gave its avis on, so council forms open for real.
        from civic.councils.models import (
            CallApplication,
            CouncilAvis,
            CouncilDraw,
            CouncilQuestion,
            Meeting,
            ProjectCall,
        )

        avis = db.session.execute(select(CouncilAvis)).scalars().first()
        action_id = avis.node_id if avis else next(n.id for n in plan.nodes if n.is_action)
        args = {"user_id": user.id if user else 1, "commune_id": 1, "quartier_id": 1,
                "service_id": 1, "council_id": avis.council_id if avis else 1,
                "code": "DEN-01", "grant_id": 1,
                "token": "x", "plan_id": plan.id, "node_id": action_id,
                "action_id": action_id, "referral_id": 1, "job_id": 1, "interlocutor_id": 1,
                "offer_id": 1, "member_id": 1,
                "draw_id": db.session.scalar(select(CouncilDraw.id)) or 1,
                "meeting_id": db.session.scalar(select(Meeting.id)) or 1,
                "question_id": db.session.scalar(select(CouncilQuestion.id)) or 1,
                "call_id": db.session.scalar(select(ProjectCall.id)) or 1,
                "application_id": db.session.scalar(select(CallApplication.id)) or 1,
                **_budget_args(), **_vote_args()}
        urls = []
        with live_app.test_request_context():
            for rule in live_app.url_map.iter_rules():
                if "GET" not in rule.methods or rule.endpoint == "static" \
                        or rule.rule.startswith("/api/") or rule.endpoint in (
                            "accounts.export", "budgeting.image", "realisation.photo") \
                        or rule.rule.endswith((".ics", ".csv", ".json", ".pb", ".zip")):  # files
                    continue
                access = access_of(rule.endpoint)
                allowed = access == PUBLIC or (user is not None and user_can(user, access))
                if not allowed or rule.endpoint == "spaces.counter_receipt":
                    continue
                urls.append(rule.build(args, append_unknown=False)[1])
    return sorted(set(urls))


def _budget_args() -> dict:
    """The demo campaign, the demo resident's submitted proposal (so that her edit and
    answer pages show their forms) and a review of the Voirie service."""
    from civic.budgeting.models import Campaign, Envelope, Proposal
    from civic.review.models import FeasibilityReview
    from civic.territory.models import CityService

    habitante = db.session.execute(
        select(User).where(User.email == "habitante@demo.civic.example")).scalar_one()
    proposal = db.session.execute(select(Proposal).where(
        Proposal.author_id == habitante.id, Proposal.status == "submitted")).scalars().first()
    voirie = db.session.scalar(select(CityService.id).where(CityService.slug == "voirie"))
    from civic.budgeting.models import ProposalComment

    return {"campaign_id": db.session.scalar(select(Campaign.id)),
            "proposal_id": proposal.id, "image_id": 1,
            "comment_id": db.session.scalar(select(ProposalComment.id).order_by(
                ProposalComment.id)) or 1,
            "envelope_id": db.session.scalar(select(Envelope.id).order_by(Envelope.id)),
            "review_id": db.session.scalar(select(FeasibilityReview.id).where(
                FeasibilityReview.service_id == voirie))}


def _vote_args() -> dict:
    """Paper sheets and realisations when a test made some (else ids that give a 404)."""
    from civic.budgeting.models import Envelope
    from civic.voting.models import MilestonePhoto, PaperSheet, Realisation

    return {"envelope_id": db.session.scalar(select(Envelope.id)) or 1,
            "sheet_id": db.session.scalar(select(PaperSheet.id)) or 1,
            "realisation_id": db.session.scalar(select(Realisation.id)) or 1,
            "photo_id": db.session.scalar(select(MilestonePhoto.id)) or 1}


ROLE_EMAILS = {
    "anonymous": None, "resident": "habitante@demo.civic.example",
    "admin": "admin@demo.civic.example", "coordinator": "coordination@demo.civic.example",
    "agent": "voirie@demo.civic.example", "council_member": "conseil@demo.civic.example",
    "bienveilleur": "bienveilleur@demo.civic.example",
    "interlocutor": "partenaire@demo.civic.example",
}


@pytest.mark.parametrize("role", list(ROLE_EMAILS))
def test_every_page_passes_axe(page: Page, live_app, role):
    if ROLE_EMAILS[role]:
        _log_in(page, ROLE_EMAILS[role])
    urls = _pages_for(live_app, role) + ["/page-qui-n-existe-pas"]
    assert len(urls) >= 5
    for url in urls:
        page.goto(url)
        assert page.locator("h1").count() == 1, f"{url}: exactly one h1"
        _assert_accessible(page, f"{url} as {role}")
    # And in English.
    page.goto("/")
    page.get_by_role("button", name="English").click()
    for url in urls[:6]:
        page.goto(url)
        _assert_accessible(page, f"{url} as {role} (en)")
    page.get_by_role("button", name="Français").click()


def test_axe_catches_a_violation(page: Page):
    """The scan is not a rubber stamp: a faulty page fails it."""
    page.set_content('<html lang="fr"><title>t</title><main><img src="x.png"><input></main></html>')
    ids = {v["id"] for v in AXE.run(page, options=WCAG_AA).response["violations"]}
    assert {"image-alt", "label"} <= ids


def test_referral_from_bienveilleur_to_closed(browser, base_url):
    """A bienveilleur records a referral with consent; a coordinator follows it, orients it
    to an interlocutor and the pipeline reaches "clos" — each page passing axe."""
    ctx = browser.new_context(base_url=base_url, locale="fr-FR")
    page = ctx.new_page()
    _log_in(page, "bienveilleur@demo.civic.example")
    page.goto("/bienveilleurs/signalements/nouveau")
    _assert_accessible(page, "new referral form")
    page.get_by_label("Comment appeler la personne").fill("Mme Rose (navigateur)")
    page.get_by_label("Comment la joindre").fill("03 53 01 00 99")
    page.get_by_label("Quartier", exact=True).select_option(label="Sabatier (Raismes)")
    page.get_by_label("Type de besoin").select_option(label="Isolement")
    page.get_by_label("Consentement de la personne à être contactée").select_option(
        label="Donné")
    page.get_by_role("button", name="Enregistrer le signalement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signalement n°")
    expect(page.locator(".personal")).to_contain_text("Mme Rose (navigateur)")
    rid = int(page.url.rstrip("/").rsplit("/", 1)[1])

    coord = browser.new_context(base_url=base_url, locale="fr-FR").new_page()
    _log_in(coord, "coordination@demo.civic.example")
    coord.goto("/bienveilleurs/coordination")
    expect(coord.locator("main")).not_to_contain_text("Mme Rose")
    coord.get_by_role("button", name=f"Suivre le signalement n° {rid}").click()
    expect(coord.locator(".personal")).to_contain_text("Mme Rose (navigateur)")
    coord.get_by_role("button", name="La personne a été contactée").click()
    expect(coord.locator(".status")).to_have_text("Contacté")
    coord.get_by_label("Interlocuteur", exact=True).select_option(label="CCAS de Denain")
    coord.get_by_role("button", name="Orienter vers un interlocuteur").click()
    expect(coord.locator(".status")).to_have_text("Orienté")
    _assert_accessible(coord, "referral oriented")
    coord.get_by_role("button", name="Pris en charge par l'interlocuteur").click()
    coord.get_by_label("Issue").select_option(
        label="Besoin satisfait ou suivi par l'interlocuteur")
    coord.get_by_role("button", name="Clore").click()
    expect(coord.locator(".status")).to_have_text("Clos")
    expect(coord.locator(".timeline li")).to_have_count(5)
    _assert_accessible(coord, "referral closed")

    # The author follows the outcome; every access is in the log.
    page.goto(f"/bienveilleurs/signalements/{rid}")
    expect(page.locator(".status")).to_have_text("Clos")
    expect(page.locator("table").last).to_contain_text("Camille Coordinatrice")
    # Someone else is refused.
    other = browser.new_context(base_url=base_url, locale="fr-FR").new_page()
    _log_in(other, "habitante@demo.civic.example")
    response = other.goto(f"/bienveilleurs/signalements/{rid}")
    assert response.status == 403
    ctx.close()
