"""Realisation of the winning projects: idempotent start, status table, milestones with
photos, notifications, the action-plan link, and the pages (bad input included)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from civic.actionplan.models import PlanNode
from civic.actionplan.states import ActionStatus
from civic.budgeting import services as budget
from civic.budgeting.models import Notification
from civic.extensions import db
from civic.voting import realisation as service
from civic.voting.models import Milestone, MilestonePhoto, Realisation
from tests.budgeting.factories import png_bytes
from tests.conftest import login, make_plan, make_user, plan_action, post_form
from tests.voting.factories import make_vote


def _count(model, *where) -> int:
    stmt = select(func.count()).select_from(model)
    for clause in where:
        stmt = stmt.where(clause)
    return db.session.execute(stmt).scalar_one()


def _winner():
    s = make_vote()
    coord = make_user("coord2@example.org", roles=("coordinator",))
    fan = make_user("fan@example.org")
    proposal = s.city_options[0]
    budget.toggle_follow(fan, proposal)
    db.session.commit()
    return s, coord, fan, proposal


def test_start_realisation_is_idempotent_and_keeps_the_voted_cost(ctx):
    s, coord, _fan, proposal = _winner()
    first = service.start_realisation(coord, proposal)
    second = service.start_realisation(coord, proposal)
    db.session.commit()
    assert first.id == second.id and _count(Realisation) == 1
    assert first.status == "study" and first.progress == 0
    assert first.voted_cost_cents == proposal.validated_cost_cents == 30_000_00
    assert first.plan_node_id is None  # no plan link set


def test_status_changes_follow_the_table_and_notify_author_and_followers(ctx):
    s, coord, fan, proposal = _winner()
    r = service.start_realisation(coord, proposal)
    service.update_realisation(coord, r, service.RealisationData("works", 20, None))
    db.session.commit()
    notes = {n.user_id: n for n in db.session.execute(select(Notification)).scalars()
             if "/realisations/" in n.link}
    assert set(notes) == {proposal.author_id, fan.id}
    service.update_realisation(coord, r, service.RealisationData("done", 40, 31_000_00))
    assert r.progress == 100 and r.actual_cost_cents == 31_000_00
    with pytest.raises(service.RealisationError):  # done → study is not in the table
        service.update_realisation(coord, r, service.RealisationData("study", None, None))
    service.update_realisation(coord, r, service.RealisationData("works", 90, 31_000_00))
    with pytest.raises(service.RealisationError, match="pourquoi"):
        service.update_realisation(coord, r, service.RealisationData("abandoned", None, None))
    with pytest.raises(service.RealisationError):
        service.update_realisation(coord, r, service.RealisationData("works", 101, None))
    with pytest.raises(service.RealisationError):
        service.update_realisation(coord, r, service.RealisationData("nonsense", 1, None))
    service.update_realisation(coord, r, service.RealisationData(
        "abandoned", None, None, "Le terrain a été vendu par le département."))
    with pytest.raises(service.RealisationError, match="clos"):
        service.update_realisation(coord, r, service.RealisationData("works", None, None))
    db.session.commit()
    assert r.abandon_reason.startswith("Le terrain")


def test_milestones_with_photos_strip_metadata_and_refuse_bad_files(ctx):
    s, coord, fan, proposal = _winner()
    r = service.start_realisation(coord, proposal)
    db.session.commit()
    data = service.MilestoneData(date(2027, 3, 14), "Début du chantier", "Clôtures posées.",
                                 35, "Les clôtures du chantier")
    with pytest.raises(service.RealisationError):
        service.add_milestone(coord, r, data, [budget.Upload("x.pdf", b"%PDF-1.4 nope")])
    with pytest.raises(service.RealisationError):
        service.add_milestone(coord, r, data, [budget.Upload("big.jpg", b"\xff" * (5 << 20))])
    with pytest.raises(service.RealisationError):
        service.add_milestone(coord, r, service.MilestoneData(date(1850, 1, 1), "Trop tôt"))
    with pytest.raises(service.RealisationError):
        service.add_milestone(coord, r, service.MilestoneData(date(2027, 1, 1), "Ok", "",
                                                              150))
    db.session.rollback()
    assert _count(Milestone) == 0
    m = service.add_milestone(coord, r, data, [
        budget.Upload("chantier.jpg", png_bytes(fmt="JPEG", exif=True))])
    db.session.commit()
    assert r.progress == 35 and len(m.photos) == 1
    from civic.budgeting import images

    with Image.open(images.path_for(m.photos[0].token, "full")) as img:
        assert not img.getexif()
    assert _count(Notification, Notification.user_id == fan.id) >= 1


def test_plan_link_creates_an_action_under_the_branch(ctx):
    s, coord, _fan, proposal = _winner()
    plan = make_plan()
    branch = plan_action(plan, "1.1.1").parent
    with pytest.raises(service.RealisationError):  # an action is not a branch
        service.set_plan_link(coord, s.campaign, plan_action(plan, "1.1.1"))
    service.set_plan_link(coord, s.campaign, branch)
    db.session.commit()
    r = service.start_realisation(coord, proposal)
    db.session.commit()
    action = db.session.get(PlanNode, r.plan_node_id)
    assert action.parent_id == branch.id and action.is_action
    assert action.title == proposal.title and action.budget_cents == 30_000_00
    assert action.status is ActionStatus.PLANNED
    assert action.source_url == f"/budget-participatif/realisations/{r.id}"
    # Idempotent: no second action, no second realisation.
    service.start_realisation(coord, proposal)
    assert _count(PlanNode, PlanNode.parent_id == branch.id) == 3
    # The action follows the realisation through the plan's own transition table.
    service.update_realisation(coord, r, service.RealisationData("done", None, None))
    db.session.commit()
    assert action.status is ActionStatus.DONE
    # Removing the link stops new actions; the existing one stays.
    service.set_plan_link(coord, s.campaign, None)
    other = service.start_realisation(coord, s.city_options[1])
    assert other.plan_node_id is None


# ---------------------------------------------------------------- pages

@pytest.fixture
def page_world(app):
    with app.app_context():
        s, coord, _fan, proposal = _winner()
        plan = make_plan()
        branch = plan_action(plan, "1.1.1").parent
        service.set_plan_link(coord, s.campaign, branch)
        r = service.start_realisation(coord, proposal)
        db.session.commit()
        return {"realisation": r.id, "proposal": proposal.id, "campaign": s.campaign.id,
                "action": r.plan_node_id, "branch": branch.id}


def test_public_pages_link_proposal_realisation_and_action(client, page_world):
    w = page_world
    page = client.get(f"/budget-participatif/propositions/{w['proposal']}")
    assert f"/budget-participatif/realisations/{w['realisation']}" in page.get_data(
        as_text=True)
    show = client.get(f"/budget-participatif/realisations/{w['realisation']}")
    html = show.get_data(as_text=True)
    assert show.status_code == 200 and f"/fiche/{w['action']}\"" in html
    action_page = client.get(f"/plan-d-action/fiche/{w['action']}")
    assert action_page.status_code == 200 and "Projet ville 1" in action_page.get_data(
        as_text=True)
    listing = client.get(f"/budget-participatif/campagnes/{w['campaign']}/realisations")
    assert "Projet ville 1" in listing.get_data(as_text=True)
    campaign_page = client.get(f"/budget-participatif/campagnes/{w['campaign']}")
    assert f"/campagnes/{w['campaign']}/realisations" in campaign_page.get_data(as_text=True)
    assert client.get("/budget-participatif/realisations/999999").status_code == 404


def test_manager_forms_refuse_bad_input_and_keep_it(app, client, page_world):
    w = page_world
    login(client, "coord2@example.org")
    edit = f"/budget-participatif/realisations/{w['realisation']}/modifier"
    bad = post_form(client, edit, {"status": "works", "progress": "250",
                                   "actual_cost": "12"})
    assert bad.status_code == 422 and 'value="12"' in bad.get_data(as_text=True)
    no_reason = post_form(client, edit, {"status": "abandoned", "progress": "10"})
    assert no_reason.status_code == 422
    assert post_form(client, edit, {"status": "works", "progress": "30",
                                    "actual_cost": "29000"}).status_code == 302
    new = f"/budget-participatif/realisations/{w['realisation']}/jalons/nouveau"
    bad_date = post_form(client, new, {"on": "2027-02-31", "title": "Pose des bancs"})
    assert bad_date.status_code == 422 and "Pose des bancs" in bad_date.get_data(as_text=True)
    token_html = client.get(new).get_data(as_text=True)
    from tests.conftest import csrf_from

    wrong_file = client.post(new, data={
        "csrf_token": csrf_from(token_html), "on": "2027-02-10", "title": "Pose des bancs",
        "photos": (io.BytesIO(b"not an image"), "bancs.jpg")},
        content_type="multipart/form-data")
    assert wrong_file.status_code == 422
    ok = client.post(new, data={
        "csrf_token": csrf_from(token_html), "on": "2027-02-10", "title": "Pose des bancs",
        "progress": "60", "photos": (io.BytesIO(png_bytes()), "bancs.png")},
        content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context():
        photo = db.session.execute(select(MilestonePhoto)).scalar_one()
        assert _count(Milestone) == 1
        assert db.session.get(Realisation, w["realisation"]).progress == 60
    shown = client.get(f"/budget-participatif/realisations/{w['realisation']}/photos/"
                       f"{photo.id}?taille=thumb")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    milestone_id = photo.milestone_id
    gone = post_form(client, f"/budget-participatif/realisations/{w['realisation']}/jalons/"
                     f"{milestone_id}/supprimer", {},
                     token_page=f"/budget-participatif/realisations/{w['realisation']}")
    assert gone.status_code == 302
    with app.app_context():
        assert _count(Milestone) == 0 and _count(MilestonePhoto) == 0
    assert client.get(f"/budget-participatif/realisations/{w['realisation']}/photos/"
                      f"{photo.id}").status_code == 404
    link = f"/budget-participatif/campagnes/{w['campaign']}/lien-plan-d-action"
    assert post_form(client, link, {"plan_node_id": "abc"}).status_code == 422
    assert post_form(client, link, {"plan_node_id": str(w["action"])}).status_code == 422
    assert post_form(client, link, {"plan_node_id": str(w["branch"])}).status_code == 302


def test_residents_cannot_edit(client, page_world):
    w = page_world
    login(client, "fan@example.org")
    assert client.get(f"/budget-participatif/realisations/{w['realisation']}/modifier"
                      ).status_code == 403
