"""Action plan in a real browser: a coordinator updates an action; every plan page passes axe."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from civic.actionplan.models import Plan, PlanNode
from civic.extensions import db
from tests.browser.test_journeys import _assert_accessible, _log_in


def _ids(live_app) -> tuple[list[int], int, list[int]]:
    """Plan ids, the id of Le Havre's « Orchestre Démos », and one branch per plan."""
    with live_app.app_context():
        plans = db.session.execute(select(Plan).order_by(Plan.id)).scalars().all()
        demos = db.session.execute(
            select(PlanNode.id).where(PlanNode.title == "Orchestre Démos")).scalar_one()
        branches = [next(n.id for n in p.nodes if n.parent_id is None) for p in plans]
        return [p.id for p in plans], demos, branches


def test_every_plan_page_passes_axe(page: Page, live_app):
    """The list, the three plan trees (also filtered) and a branch of each: no violation, one h1."""
    plan_ids, _demos, branches = _ids(live_app)
    assert len(plan_ids) == 3
    urls = ["/plan-d-action"]
    urls += [f"/plan-d-action/{pid}" for pid in plan_ids]
    urls += [f"/plan-d-action/{plan_ids[1]}?statut=in_progress&quartier=1"]
    urls += [f"/plan-d-action/fiche/{nid}" for nid in branches]
    for url in urls:
        page.goto(url)
        assert page.locator("h1").count() == 1, url
        _assert_accessible(page, url)
    page.goto(f"/plan-d-action/{plan_ids[0]}")
    expect(page.get_by_text("The other 67 actions are not in the source", exact=False)).to_be_visible()


def test_coordinator_updates_an_action_and_the_public_sees_it(page: Page, live_app, browser,
                                                              base_url):
    """Status with a note, an indicator, a refused word then a number; chart and table public."""
    _plan_ids, demos, _branches = _ids(live_app)
    _log_in(page, "coordination@demo.civic.example")
    page.goto(f"/plan-d-action/fiche/{demos}")
    page.get_by_role("link", name="Changer le statut").click()
    _assert_accessible(page, "status form")
    page.get_by_label("Nouveau statut").select_option(label="En cours")
    page.get_by_label("Ce qui s'est passé").fill("Premières répétitions")
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.locator(".flash")).to_contain_text("Statut mis à jour")
    page.get_by_role("link", name="Ajouter un indicateur").click()
    page.get_by_label("Ce qui est mesuré").fill("Enfants inscrits")
    page.get_by_label("Unité", exact=True).fill("enfants")
    page.get_by_role("button", name="Ajouter l'indicateur").click()
    page.get_by_role("link", name="Enregistrer une valeur d'indicateur").click()
    page.get_by_label("Année").fill("2025")
    page.get_by_label("Cible").fill("100")
    page.get_by_label("Valeur mesurée").fill("beaucoup")
    page.get_by_role("button", name="Enregistrer la valeur").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Valeur mesurée")).to_have_value("beaucoup")
    expect(page.get_by_label("Valeur mesurée")).to_have_attribute("aria-invalid", "true")
    _assert_accessible(page, "value form with errors")
    page.get_by_label("Valeur mesurée").fill("60")
    page.get_by_role("button", name="Enregistrer la valeur").click()
    expect(page.locator(".flash")).to_contain_text("Valeur enregistrée")
    _assert_accessible(page, "action page (coordinator)")

    anonymous = browser.new_context(base_url=base_url, locale="fr-FR",
                                    java_script_enabled=False)
    public = anonymous.new_page()
    public.goto(f"/plan-d-action/fiche/{demos}")
    table = public.get_by_role("table")
    expect(table).to_contain_text("2025")
    expect(table).to_contain_text("60")
    expect(public.get_by_role("img", name="Diagramme en barres", exact=False)).to_be_visible()
    expect(public.get_by_text("Premières répétitions")).to_be_visible()
    expect(public.get_by_text("60 % réalisé").first).to_be_visible()
    anonymous.close()
    _assert_accessible(page, "action page with chart")
