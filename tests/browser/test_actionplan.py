"""Action plan in a real browser: a coordinator updates an action; every plan page passes axe."""

from __future__ import annotations

import re

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


def test_coordinator_imports_a_plan_from_csv(page: Page, live_app, tmp_path):
    """A file with two bad lines is refused with both lines named; the fixed file creates
    the plan; the import page passes axe with and without errors."""
    from civic.actionplan import csvio

    with live_app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.slug == "six-thematiques")
                                  ).scalar_one()
        good = csvio.export_plan_csv(plan)
    text = good.decode("utf-8-sig").split("\r\n")
    bad_lines = [i for i, line in enumerate(text) if line.startswith("node;")][:2]
    broken = list(text)
    for i in bad_lines:
        broken[i] = broken[i].replace("node;", "noeud;", 1)
    (tmp_path / "bad.csv").write_text("\r\n".join(broken), encoding="utf-8")
    (tmp_path / "good.csv").write_bytes(good)

    _log_in(page, "coordination@demo.civic.example")
    page.goto("/plan-d-action")
    page.get_by_role("link", name="Importer un plan depuis un fichier CSV").click()
    _assert_accessible(page, "import form")
    page.get_by_label("Identifiant du nouveau plan").fill("copie-six-thematiques")
    page.get_by_label("Fichier CSV").set_input_files(str(tmp_path / "bad.csv"))
    page.get_by_role("button", name="Importer le plan").click()
    errors = page.get_by_role("region", name=re.compile(r"^\d+ erreurs : rien n"))
    for i in bad_lines:
        expect(errors).to_contain_text(f"Ligne {i + 1} : Type d’enregistrement inconnu")
    expect(page.get_by_label("Identifiant du nouveau plan")).to_have_value(
        "copie-six-thematiques")
    assert page.locator("h1").count() == 1
    _assert_accessible(page, "import form with line errors")
    page.get_by_label("Fichier CSV").set_input_files(str(tmp_path / "good.csv"))
    page.get_by_role("button", name="Importer le plan").click()
    expect(page.locator(".flash")).to_contain_text("Plan importé")
    expect(page.get_by_role("heading", level=1)).to_have_text(plan.title)


def test_participation_values_per_public_and_the_yearly_report(page: Page, live_app, browser,
                                                               base_url):
    """A coordinator records a participation and a value for a public; the public sees both
    without JavaScript, and the plan's yearly report passes axe."""
    plan_ids, demos, _branches = _ids(live_app)
    _log_in(page, "coordination@demo.civic.example")
    page.goto(f"/plan-d-action/fiche/{demos}")
    page.get_by_role("link", name="Enregistrer la participation des habitants").click()
    _assert_accessible(page, "participation form")
    page.get_by_label("Étape de l’action").select_option(label="Au début")
    page.get_by_label("Date").fill("2025-01-15")
    page.get_by_label("Nombre d’habitants qui ont participé").fill("-3")
    page.get_by_label("Ce qu’ont fait les habitants").fill("Atelier de conception")
    page.get_by_role("button", name="Enregistrer la participation").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Ce qu’ont fait les habitants")).to_have_value(
        "Atelier de conception")
    _assert_accessible(page, "participation form with errors")
    page.get_by_label("Nombre d’habitants qui ont participé").fill("18")
    page.get_by_role("button", name="Enregistrer la participation").click()
    expect(page.locator(".flash")).to_contain_text("Participation enregistrée")
    _assert_accessible(page, "action page with participation")

    # Porte du Hainaut declares publics prioritaires: record a value for one of them.
    with live_app.app_context():
        hainaut = db.session.execute(select(Plan).where(
            Plan.slug == "porte-du-hainaut-contrat-de-ville")).scalar_one()
        mesure = next(n.id for n in sorted(hainaut.nodes, key=lambda n: n.id) if n.is_action)
        publics = [p.label for p in hainaut.publics]
    page.goto(f"/plan-d-action/fiche/{mesure}")
    page.get_by_role("link", name="Ajouter un indicateur").click()
    page.get_by_label("Ce qui est mesuré").fill("Jeunes accompagnés")
    page.get_by_label("Unité", exact=True).fill("personnes")
    page.get_by_role("button", name="Ajouter l'indicateur").click()
    page.get_by_role("link", name="Enregistrer une valeur d'indicateur").click()
    page.get_by_label("Année").fill("2025")
    page.get_by_label("Pour quel public").select_option(label=publics[0])
    page.get_by_label("Cible").fill("30")
    page.get_by_label("Valeur mesurée").fill("24")
    _assert_accessible(page, "value form with the public choice")
    page.get_by_role("button", name="Enregistrer la valeur").click()
    expect(page.locator(".flash")).to_contain_text("Valeur enregistrée")
    _assert_accessible(page, "action page with the per-public table")

    anonymous = browser.new_context(base_url=base_url, locale="fr-FR",
                                    java_script_enabled=False)
    public = anonymous.new_page()
    public.goto(f"/plan-d-action/fiche/{demos}")
    participation = public.get_by_role("region", name="Participation des habitants")
    expect(participation).to_contain_text("18 habitants")
    expect(participation).to_contain_text("Atelier de conception")
    public.goto(f"/plan-d-action/fiche/{mesure}")
    table = public.get_by_role("table", name="par public prioritaire", exact=False)
    expect(table.get_by_role("columnheader", name=publics[0])).to_be_visible()
    expect(table).to_contain_text("30 / 24")
    public.goto(f"/plan-d-action/{plan_ids[0]}")
    public.get_by_role("link", name="Bilan d’évaluation annuel").click()
    expect(public.get_by_role("heading", level=1)).to_contain_text("Bilan d’évaluation annuel")
    anonymous.close()
    for pid in plan_ids:
        for year in (2025, 2026):
            page.goto(f"/plan-d-action/{pid}/bilan?annee={year}")
            assert page.locator("h1").count() == 1
            _assert_accessible(page, f"yearly report of plan {pid} in {year}")
