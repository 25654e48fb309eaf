"""Residents' proposals: eligibility, drafts, images, editing, bad input, forged requests."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from civic.accounts.models import AssistedAct
from civic.budgeting import images as image_store
from civic.budgeting import services as budget
from civic.budgeting.models import Notification, Proposal, ProposalImage
from civic.budgeting.states import Phase, ProposalStatus
from civic.extensions import db
from tests.budgeting.factories import make_campaign, make_proposal, png_bytes, set_phase
from tests.conftest import login, make_user, outbox, post_form

S = ProposalStatus


@pytest.fixture
def campaign_id(app):
    with app.app_context():
        make_user("ines@example.org")
        return make_campaign(Phase.SUBMISSION).id


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(app, campaign_id, **extra):
    with app.app_context():
        from civic.budgeting.models import Campaign

        campaign = db.session.get(Campaign, campaign_id)
        quartier = make_user.__globals__["db"].session.execute(
            select(budget.Quartier)).scalars().first()
        theme = campaign.themes[0].id
    data = {"title": "Un jardin partagé", "description": "Transformer la friche de la rue "
            "Voltaire en jardin partagé pour les familles.", "quartier_id": str(quartier.id),
            "theme_id": str(theme), "estimated_cost": "15000", "address": "Rue Voltaire",
            "accept_rules": "y", "submit": "Déposer ma proposition"}
    data.update(extra)
    return data


def test_resident_submits_with_an_image_exif_stripped(app, client, campaign_id):
    login(client, "ines@example.org")
    data = _form(app, campaign_id)
    data["images"] = (io.BytesIO(png_bytes(size=(2400, 1200), fmt="JPEG", exif=True)),
                      "photo.jpg")
    resp = post_form(client, f"/budget-participatif/campagnes/{campaign_id}/proposer", data,
                     content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with app.app_context():
        proposal = db.session.execute(select(Proposal)).scalar_one()
        assert proposal.state is S.SUBMITTED and proposal.estimated_cost_cents == 15_000_00
        image = proposal.images[0]
        stored = Image.open(image_store.path_for(image.token, "full"))
        assert max(stored.size) == 1280  # resized
        assert not stored.getexif()  # EXIF (camera, GPS) stripped
        pid, iid = proposal.id, image.id
    img = client.get(f"/budget-participatif/propositions/{pid}/images/{iid}?taille=thumb")
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(img.data)).size[0] <= 400


def test_wrong_image_type_is_a_form_error_and_input_is_kept(app, client, campaign_id):
    login(client, "ines@example.org")
    data = _form(app, campaign_id)
    data["images"] = (io.BytesIO(b"%PDF-1.4 not an image at all"), "plan.png")
    resp = post_form(client, f"/budget-participatif/campagnes/{campaign_id}/proposer", data,
                     content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "plan.png" in html and "JPEG" in html
    assert 'value="Un jardin partagé"' in html  # the other input is kept
    with app.app_context():
        assert _count(Proposal) == 0 and _count(ProposalImage) == 0  # nothing half-written


def test_twenty_megabyte_upload_gets_a_clear_413(app, client, campaign_id):
    login(client, "ines@example.org")
    data = _form(app, campaign_id)
    data["images"] = (io.BytesIO(b"\xff" * (20 * 1024 * 1024)), "huge.jpg")
    resp = post_form(client, f"/budget-participatif/campagnes/{campaign_id}/proposer", data,
                     content_type="multipart/form-data")
    assert resp.status_code == 413
    assert "5 Mo" in resp.get_data(as_text=True) or "5 MB" in resp.get_data(as_text=True)
    with app.app_context():
        assert _count(Proposal) == 0


@pytest.mark.parametrize("cost,message", [("-5", "Nombre"), ("0", "Nombre"),
                                          ("99999999", "Nombre"), ("90000", "enveloppe")])
def test_negative_or_absurd_cost_is_refused(app, client, campaign_id, cost, message):
    login(client, "ines@example.org")
    resp = post_form(client, f"/budget-participatif/campagnes/{campaign_id}/proposer",
                     _form(app, campaign_id, estimated_cost=cost))
    assert resp.status_code == 422
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    with app.app_context():
        assert _count(Proposal) == 0


def test_three_images_at_most(ctx):
    user = make_user()
    campaign = make_campaign()
    uploads = [budget.Upload(f"{i}.png", png_bytes()) for i in range(4)]
    with pytest.raises(budget.BudgetError) as exc:
        budget.save_proposal(user, campaign, None, _data(campaign, user), uploads)
    assert exc.value.field == "images"


def _data(campaign, user, **kw):
    from tests.budgeting.factories import proposal_data

    kw.setdefault("quartier_id", user.quartier_id)
    return proposal_data(campaign, **kw)


def test_draft_then_submit_then_edit_until_the_phase_ends(ctx):
    user = make_user()
    campaign = make_campaign()
    proposal = make_proposal(user, campaign, submit=False)
    assert proposal.state is S.DRAFT
    budget.submit_proposal(user, proposal)
    assert proposal.state is S.SUBMITTED
    budget.save_proposal(user, campaign, proposal, _data(campaign, user, title="Des bancs !"))
    assert proposal.title == "Des bancs !"
    db.session.commit()
    set_phase(campaign, Phase.REVIEW)
    with pytest.raises(budget.BudgetError) as exc:
        budget.save_proposal(user, campaign, proposal, _data(campaign, user, title="Trop tard"))
    assert "submission" in exc.value.message.lower() or "dépôt" in exc.value.message.lower()
    db.session.rollback()
    assert db.session.get(Proposal, proposal.id).title == "Des bancs !"
    with pytest.raises(budget.BudgetError):
        budget.withdraw_proposal(user, proposal)


def test_editing_after_the_deadline_is_refused_on_the_page(app, client, campaign_id):
    with app.app_context():
        user = db.session.execute(select(budget.User)).scalars().first()
        campaign = db.session.get(budget.Campaign, campaign_id)
        pid = make_proposal(user, campaign).id
        set_phase(campaign, Phase.REVIEW)
    login(client, "ines@example.org")
    url = f"/budget-participatif/propositions/{pid}/modifier"
    resp = post_form(client, url, _form(app, campaign_id, title="Changement tardif"))
    assert resp.status_code == 422
    assert "phase" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Proposal, pid).title == "Des bancs au square"


def test_forged_post_for_someone_elses_proposal_is_403(app, client, campaign_id):
    with app.app_context():
        user = db.session.execute(select(budget.User)).scalars().first()
        campaign = db.session.get(budget.Campaign, campaign_id)
        pid = make_proposal(user, campaign).id
        make_user("mallory@example.org")
    login(client, "mallory@example.org")
    for path in ("modifier", "retirer", "deposer", "repondre"):
        resp = post_form(client, f"/budget-participatif/propositions/{pid}/{path}",
                         _form(app, campaign_id, title="Piraté"), token_page="/")
        assert resp.status_code == 403, path
    with app.app_context():
        proposal = db.session.get(Proposal, pid)
        assert proposal.title == "Des bancs au square" and proposal.state is S.SUBMITTED


def test_residence_and_age_eligibility_give_reasons(ctx):
    user = make_user(birth_year=2015)
    campaign = make_campaign(min_age=16)
    reason = budget.proposal_eligibility(user, campaign, None)
    assert reason and "16" in reason
    adult = make_user("adult@example.org")
    other_q = [e.quartier_id for e in campaign.envelopes
               if e.quartier_id not in (None, adult.quartier_id)][0]
    assert "quartier" in budget.proposal_eligibility(adult, campaign, other_q)
    assert budget.proposal_eligibility(adult, campaign, None) is None


def test_a_counter_agent_files_for_a_resident(app, client, campaign_id):
    with app.app_context():
        resident = db.session.execute(select(budget.User)).scalars().first()
        rid = resident.id
        make_user("agent@example.org", roles=("coordinator",))
    login(client, "agent@example.org")
    resp = post_form(client, f"/budget-participatif/campagnes/{campaign_id}/guichet/{rid}",
                     _form(app, campaign_id))
    assert resp.status_code == 302
    with app.app_context():
        proposal = db.session.execute(select(Proposal)).scalar_one()
        assert proposal.author_id == rid and proposal.filed_by_id is not None
        assert proposal.state is S.SUBMITTED
        act = db.session.execute(select(AssistedAct)).scalar_one()
        assert act.action == "budget.proposal_filed" and act.resident_id == rid
        assert outbox("ines@example.org")


def test_drafts_are_private_and_hidden_is_for_moderators(app, client, campaign_id):
    with app.app_context():
        user = db.session.execute(select(budget.User)).scalars().first()
        campaign = db.session.get(budget.Campaign, campaign_id)
        pid = make_proposal(user, campaign, submit=False).id
    assert client.get(f"/budget-participatif/propositions/{pid}").status_code == 404
    login(client, "ines@example.org")
    assert client.get(f"/budget-participatif/propositions/{pid}").status_code == 200


def test_withdrawal_notifies_in_app(ctx):
    user = make_user()
    campaign = make_campaign()
    proposal = make_proposal(user, campaign)
    budget.withdraw_proposal(user, proposal)
    db.session.commit()
    notes = db.session.execute(select(Notification)).scalars().all()
    assert proposal.state is S.WITHDRAWN and notes and notes[0].user_id == user.id


def test_images_of_a_draft_are_not_served_to_others(app, client, campaign_id):
    with app.app_context():
        user = db.session.execute(select(budget.User)).scalars().first()
        campaign = db.session.get(budget.Campaign, campaign_id)
        proposal = budget.save_proposal(
            user, campaign, None, _data(campaign, user), [budget.Upload("a.png", png_bytes())])
        db.session.commit()
        url = f"/budget-participatif/propositions/{proposal.id}/images/{proposal.images[0].id}"
    assert client.get(url).status_code == 404
    login(client, "ines@example.org")
    assert client.get(url).status_code == 200


def test_search_and_filters(app, client, campaign_id):
    with app.app_context():
        user = db.session.execute(select(budget.User)).scalars().first()
        campaign = db.session.get(budget.Campaign, campaign_id)
        make_proposal(user, campaign, title="Jardin des familles")
        gone = make_proposal(user, campaign, title="Projet abandonné")
        budget.withdraw_proposal(user, gone)
        make_proposal(user, campaign, title="Fresque de la ville", quartier_id=None)
        db.session.commit()
    base = f"/budget-participatif/campagnes/{campaign_id}/propositions"
    html = client.get(base).get_data(as_text=True)
    assert "Jardin des familles" in html and "Projet abandonné" not in html
    assert "Projet abandonné" in client.get(base + "?statut=withdrawn").get_data(as_text=True)
    html = client.get(base + "?quartier=ville").get_data(as_text=True)
    assert "Fresque" in html and "Jardin" not in html
    html = client.get(base + "?q=jardin").get_data(as_text=True)
    assert "Jardin des familles" in html and "Fresque" not in html


def test_account_export_includes_my_proposals_and_notifications(app, client):
    """The RGPD download covers what the budget holds about the resident."""
    import json

    from tests.budgeting.factories import make_campaign, make_proposal
    from tests.conftest import login, make_user

    with app.test_request_context():
        author = make_user("auteur@example.org")
        campaign = make_campaign()
        proposal = make_proposal(author, campaign)
        pid, title = proposal.id, proposal.title
    login(client, "auteur@example.org")
    data = json.loads(client.get("/compte/mes-donnees.json").data)
    mine = data["participatory_budget"]["proposals"]
    assert [p["id"] for p in mine] == [pid] and mine[0]["title"] == title
