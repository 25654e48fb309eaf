"""What became of the winning projects: status, dated milestones with photos, progress,
actual cost against voted cost; and the link of a campaign's winners into the action plan.

A winner is a proposal with a ``Realisation`` row; ``start_realisation`` makes it (the
publication of the results calls it) and is idempotent. Services validate, change state
and flush; the view commits once. Every change is audited; the author(s) and the
proposal's followers are notified of each status change and each milestone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.actionplan.models import PlanNode
from civic.actionplan.states import ActionStatus
from civic.audit import audit
from civic.budgeting import images as image_store
from civic.budgeting.models import Campaign, Proposal
from civic.budgeting.notify import notify_many
from civic.budgeting.services import BudgetError, Upload, followers
from civic.extensions import db
from civic.timeutil import utcnow
from civic.voting.models import Milestone, MilestonePhoto, Realisation

MAX_PHOTOS = 3  # per milestone, like proposal images
FIRST_YEAR, LAST_YEAR = 2000, 2100

STATUS_TITLES = {
    "study": _l("Under study"),
    "works": _l("Works in progress"),
    "done": _l("Carried out"),  # « réalisé » (the action plan's "Completed" is feminine)
    "abandoned": _l("Given up"),  # « abandonné »
}
# The one table of status changes. A completed project may go back to works (a defect
# found at handover); an abandoned one is closed: a new proposal is made instead.
TRANSITIONS: dict[str, frozenset[str]] = {
    "study": frozenset({"works", "done", "abandoned"}),
    "works": frozenset({"study", "done", "abandoned"}),
    "done": frozenset({"works"}),
    "abandoned": frozenset(),
}
# What the action created in the plan becomes when the realisation changes status.
ACTION_STATUS = {"works": ActionStatus.IN_PROGRESS, "done": ActionStatus.DONE,
                 "abandoned": ActionStatus.ABANDONED}


class RealisationError(BudgetError):
    """A refused change to a realisation (translated message, form field)."""


class CampaignPlanLink(db.Model):
    """The action-plan branch under which a campaign's winners become actions."""

    __tablename__ = "campaign_plan_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             unique=True)
    plan_node_id: Mapped[int] = mapped_column(ForeignKey("plan_node.id", ondelete="CASCADE"))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    plan_node: Mapped[PlanNode] = relationship()


def status_title(status: str) -> str:
    """Translated name of a realisation status."""
    return str(STATUS_TITLES.get(status, status))


# ---------------------------------------------------------------- reading

def realisation_of(proposal: Proposal) -> Realisation | None:
    """The proposal's realisation, if it won."""
    return db.session.execute(select(Realisation).where(
        Realisation.proposal_id == proposal.id)).scalar_one_or_none()


def realisations_of(campaign: Campaign) -> list[Realisation]:
    """A campaign's realisations, by envelope (city-wide first) then title."""
    rows = list(db.session.execute(
        select(Realisation).join(Proposal).where(Proposal.campaign_id == campaign.id)
        .order_by(Proposal.title, Realisation.id)).scalars())
    return sorted(rows, key=lambda r: r.proposal.quartier_id is not None)


def plan_link_of(campaign: Campaign) -> CampaignPlanLink | None:
    """The campaign's action-plan branch, if one is set."""
    return db.session.execute(select(CampaignPlanLink).where(
        CampaignPlanLink.campaign_id == campaign.id)).scalar_one_or_none()


# ---------------------------------------------------------------- starting

def start_realisation(actor: User | None, proposal: Proposal) -> Realisation:
    """Open the realisation of a winning proposal (idempotent: a second call returns it).

    Called when the results are published. When the campaign is linked to an action-plan
    branch, an action for the project is created under it. The unique proposal id is the
    guarantee against two concurrent publications making two realisations.
    """
    existing = realisation_of(proposal)
    if existing is not None:
        return existing
    realisation = Realisation(
        proposal_id=proposal.id, status="study", progress=0,
        voted_cost_cents=(proposal.validated_cost_cents
                          if proposal.validated_cost_cents is not None
                          else proposal.estimated_cost_cents))
    try:
        with db.session.begin_nested():
            db.session.add(realisation)
            db.session.flush()
    except IntegrityError:
        found = realisation_of(proposal)
        if found is None:
            raise
        return found
    link = plan_link_of(proposal.campaign)
    if link is not None:
        action = _create_plan_action(actor, link.plan_node, proposal, realisation)
        realisation.plan_node_id = action.id
    audit(actor, "budget.realisation_started",
          detail=f"proposal {proposal.id} “{proposal.title}”"[:2000])
    db.session.flush()
    return realisation


def _create_plan_action(actor: User | None, branch: PlanNode, proposal: Proposal,
                        realisation: Realisation) -> PlanNode:
    """An action for the project under the branch, through the action plan's add_action.

    Its key ties it to the proposal, so a second call finds it instead of adding a twin;
    its origin link points back to the realisation page.
    """
    from civic.actionplan import services as actionplan

    key = f"budget-proposal-{proposal.id}"
    found = db.session.execute(select(PlanNode).where(
        PlanNode.plan_id == branch.plan_id, PlanNode.key == key)).scalar_one_or_none()
    if found is not None:
        return found
    try:
        return actionplan.add_action(
            actor, branch.plan, branch, title=proposal.title, key=key,
            description=proposal.description,
            porteur=str(_l("Participatory budget"))[:160],
            budget_cents=(proposal.validated_cost_cents
                          if proposal.validated_cost_cents is not None
                          else proposal.estimated_cost_cents),
            quartier_ids=[proposal.quartier_id] if proposal.quartier_id else [],
            source_url=_page(realisation))
    except actionplan.ActionPlanError as exc:
        raise RealisationError(exc.message) from exc


# ---------------------------------------------------------------- editing

@dataclass(frozen=True)
class RealisationData:
    """What a manager may change on a realisation (amounts in cents)."""

    status: str
    progress: int | None
    actual_cost_cents: int | None
    abandon_reason: str = ""


def update_realisation(actor: User, realisation: Realisation, data: RealisationData
                       ) -> Realisation:
    """Change status, progress, actual cost; notify when the status changes."""
    if data.status not in STATUS_TITLES:
        raise RealisationError(_("Choose a status from the list."), "status")
    changed = data.status != realisation.status
    if changed and data.status not in TRANSITIONS[realisation.status]:
        allowed = ", ".join(status_title(s).lower()
                            for s in sorted(TRANSITIONS[realisation.status]))
        if not allowed:
            raise RealisationError(_("An abandoned project is closed: its status can no "
                                     "longer change."), "status")
        raise RealisationError(_("A project “%(status)s” can only become: %(allowed)s.",
                                 status=status_title(realisation.status).lower(),
                                 allowed=allowed), "status")
    progress = _check_progress(data.progress)
    reason = (data.abandon_reason or "").strip()
    if data.status == "abandoned" and len(reason) < 10:
        raise RealisationError(_("Say why the project is abandoned (at least 10 "
                                 "characters): residents read it."), "abandon_reason")
    if len(reason) > 2000:
        raise RealisationError(_("Keep the reason under %(num)d characters.", num=2000),
                               "abandon_reason")
    if data.actual_cost_cents is not None and not 0 <= data.actual_cost_cents < 10**13:
        raise RealisationError(_("The actual cost must be a positive amount."),
                               "actual_cost")
    old = realisation.status
    realisation.status = data.status
    realisation.abandon_reason = reason if data.status == "abandoned" else ""
    if progress is not None:
        realisation.progress = progress
    if data.status == "done":
        realisation.progress = 100  # completed means 100 %, whatever was typed
    realisation.actual_cost_cents = data.actual_cost_cents
    realisation.updated_at = utcnow()
    audit(actor, "budget.realisation_updated",
          detail=f"proposal {realisation.proposal_id}: {old} -> {data.status}, "
                 f"{realisation.progress}%")
    if changed:
        _follow_in_plan(actor, realisation, data.status, reason)
        proposal = realisation.proposal
        title = proposal.title

        def message() -> str:
            text = _("The project “%(title)s” is now: %(status)s.", title=title,
                     status=status_title(data.status))
            return text + ("\n" + reason if data.status == "abandoned" else "")

        _notify(realisation, message)
    db.session.flush()
    return realisation


def _follow_in_plan(actor: User, realisation: Realisation, status: str, note: str) -> None:
    """Move the linked action along, through the action plan's own transition table."""
    from civic.actionplan import services as actionplan

    action = db.session.get(PlanNode, realisation.plan_node_id) \
        if realisation.plan_node_id else None
    target = ACTION_STATUS.get(status)
    if action is None or target is None or action.status == target:
        return
    path = [target]
    if target is ActionStatus.DONE and action.status is ActionStatus.PLANNED:
        path = [ActionStatus.IN_PROGRESS, target]
    for step in path:
        if actionplan.transition_refusal(action, step) is None:
            actionplan.change_status(actor, action, step,
                                     note or str(_l("Participatory budget realisation")))


def _check_progress(value: int | None) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= 100:
        raise RealisationError(_("Progress is a percentage between 0 and 100."), "progress")
    return value


def _notify(realisation: Realisation, message) -> None:  # noqa: ANN001
    proposal = realisation.proposal
    link = _page(realisation)
    people = [proposal.author] + [c.user for c in proposal.coauthors] + followers(proposal)
    notify_many(people, message, link)


def _page(realisation: Realisation) -> str:
    from flask import url_for

    try:
        return url_for("realisation.show", realisation_id=realisation.id)
    except RuntimeError:
        return f"/budget-participatif/realisations/{realisation.id}"


@dataclass(frozen=True)
class MilestoneData:
    """A dated step of a realisation."""

    on: date | None
    title: str
    body: str = ""
    progress: int | None = None
    photo_alt: str = ""


def add_milestone(actor: User, realisation: Realisation, data: MilestoneData,
                  uploads: Iterable[Upload] = ()) -> Milestone:
    """Add a dated milestone with its photos (checked, re-encoded, EXIF stripped).

    Everything is checked before anything is written: a refused photo leaves no
    milestone and no file behind.
    """
    if realisation.status == "abandoned":
        raise RealisationError(_("An abandoned project gets no more milestones."))
    if data.on is None:
        raise RealisationError(_("Give the date of the milestone."), "on")
    if not FIRST_YEAR <= data.on.year <= LAST_YEAR:
        raise RealisationError(_("Give a date between %(first)d and %(last)d.",
                                 first=FIRST_YEAR, last=LAST_YEAR), "on")
    title = (data.title or "").strip()
    if len(title) < 3 or len(title) > 160:
        raise RealisationError(_("Give the milestone a title of 3 to 160 characters."),
                               "title")
    body = (data.body or "").strip()
    if len(body) > 5000:
        raise RealisationError(_("Keep the text under %(num)d characters.", num=5000),
                               "body")
    progress = _check_progress(data.progress)
    uploads = [u for u in uploads if u.data]
    if len(uploads) > MAX_PHOTOS:
        raise RealisationError(_("At most %(num)d photos per milestone.", num=MAX_PHOTOS),
                               "photos")
    prepared = []
    for upload in uploads:
        try:
            prepared.append(image_store.prepare_image(upload.data, upload.filename))
        except image_store.ImageRefused as exc:
            raise RealisationError(exc.message, "photos") from exc
    alt = (data.photo_alt or "").strip()[:200] or title[:200]
    milestone = Milestone(realisation=realisation, on=data.on, title=title, body=body,
                          progress=progress, created_by_id=actor.id)
    db.session.add(milestone)
    written: list[str] = []
    try:
        for image in prepared:
            token = image_store.store(image)
            written.append(token)
            milestone.photos.append(MilestonePhoto(token=token, alt_text=alt,
                                                   width=image.width, height=image.height))
        if progress is not None:
            realisation.progress = progress
        realisation.updated_at = utcnow()
        audit(actor, "budget.milestone_added",
              detail=f"proposal {realisation.proposal_id}: {data.on.isoformat()} {title}"
              [:2000])
        db.session.flush()
    except Exception:
        for token in written:
            image_store.remove(token)
        raise
    proposal_title = realisation.proposal.title
    _notify(realisation, lambda: _("New step for the project “%(title)s”: %(step)s.",
                                   title=proposal_title, step=title))
    return milestone


def delete_milestone(actor: User, realisation: Realisation, milestone: Milestone) -> None:
    """Remove a milestone entered by mistake, with its photos (audited)."""
    if milestone.realisation_id != realisation.id:
        raise RealisationError(_("This milestone is not part of this realisation."))
    tokens = [p.token for p in milestone.photos]
    audit(actor, "budget.milestone_deleted",
          detail=f"proposal {realisation.proposal_id}: {milestone.on.isoformat()} "
                 f"{milestone.title}"[:2000])
    realisation.milestones.remove(milestone)
    db.session.flush()
    for token in tokens:
        image_store.remove(token)


# ---------------------------------------------------------------- the plan link

def set_plan_link(actor: User, campaign: Campaign, node: PlanNode | None) -> None:
    """Link the campaign to an action-plan branch (None: remove the link).

    Winners become actions under the branch from then on; realisations already started
    keep the action they have (or none).
    """
    link = plan_link_of(campaign)
    if node is None:
        if link is not None:
            db.session.delete(link)
            audit(actor, "budget.plan_link", detail=f"campaign {campaign.id}: none")
        db.session.flush()
        return
    if node.is_action:
        raise RealisationError(_("Choose a branch of the plan (an axis or an objective), "
                                 "not an action."), "plan_node_id")
    if link is None:
        link = CampaignPlanLink(campaign_id=campaign.id, plan_node_id=node.id,
                                linked_by_id=actor.id)
        db.session.add(link)
    else:
        link.plan_node_id = node.id
        link.linked_by_id = actor.id
    audit(actor, "budget.plan_link",
          detail=f"campaign {campaign.id}: {node.plan.slug} {node.code or node.key}")
    db.session.flush()


def branch_choices() -> list[tuple[int, str]]:
    """Every non-action node of every plan, indented by depth, for a select field."""
    from civic.actionplan.models import Plan

    out: list[tuple[int, str]] = []
    for plan in db.session.execute(select(Plan).order_by(Plan.title)).scalars():
        by_parent: dict[int | None, list[PlanNode]] = {}
        for node in plan.nodes:
            by_parent.setdefault(node.parent_id, []).append(node)

        def walk(parent_id: int | None, depth: int, plan: Plan = plan,
                 by_parent: dict = by_parent) -> None:
            for node in sorted(by_parent.get(parent_id, []), key=lambda n: n.position):
                if node.is_action:
                    continue
                label = f"{node.code} {node.title}" if node.code else node.title
                out.append((node.id, f"{plan.title} — {'· ' * depth}{label}"[:200]))
                walk(node.id, depth + 1)

        walk(None, 0)
    return out

