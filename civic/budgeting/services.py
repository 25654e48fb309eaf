"""Budget services: campaigns, proposals, moderation. Every change goes through here.

Services validate, change state and flush; the view commits once (STYLE.md). Refusals are
BudgetError with a translated message and, when it concerns one, the form field's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import format_currency, ngettext
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from civic.accounts.models import User
from civic.accounts.services import EXPORT_SECTIONS, AccountError, log_assisted
from civic.audit import audit
from civic.budgeting import images as image_store
from civic.budgeting.models import (
    BALLOT_FORMATS,
    COUNTING_RULES,
    Campaign,
    Envelope,
    Proposal,
    ProposalCoauthor,
    ProposalComment,
    ProposalEvent,
    ProposalFlag,
    ProposalFollow,
    ProposalImage,
    Theme,
)
from civic.budgeting.notify import notify_many
from civic.budgeting.states import (
    DATED_PHASES,
    EDITABLE_STATUSES,
    PUBLIC_STATUSES,
    Phase,
    ProposalStatus,
    TransitionRefused,
    check_transition,
)
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow

S = ProposalStatus
# Beyond this, an amount is a typing error, not a project (10 million euros, in cents).
MAX_AMOUNT_CENTS = 10_000_000 * 100


class BudgetError(AccountError):
    """A refusal the user can act on (same shape as AccountError: message, field)."""


def euros(cents: int) -> str:
    """An amount of cents formatted in the current language."""
    from decimal import Decimal

    return format_currency(Decimal(cents) / 100, "EUR")


# ---------------------------------------------------------------- campaigns

@dataclass(frozen=True)
class CampaignData:
    """What a coordinator enters for a campaign (amounts in cents, times in UTC)."""

    title: str
    description: str
    total_cents: int
    city_cents: int
    quartier_cents: dict[int, int]
    starts: dict[Phase, datetime]
    min_age: int | None = None
    require_verified: bool = False
    require_residence: bool = True
    ballot_format: str = "approval"
    max_choices: int | None = None
    points_total: int | None = None
    min_projects: int | None = None
    counting_rule: str = "greedy"
    themes: tuple[str, ...] = field(default_factory=tuple)


FAIRNESS_FIELDS = ("min_age", "require_verified", "require_residence", "ballot_format",
                   "max_choices", "points_total", "min_projects", "counting_rule")


def _check_amount(cents: int, name: str, *, allow_zero: bool = True) -> None:
    if cents < 0 or (cents == 0 and not allow_zero):
        raise BudgetError(_("Enter a positive amount."), name)
    if cents > MAX_AMOUNT_CENTS:
        raise BudgetError(_("This amount is not plausible (more than %(max)s).",
                            max=euros(MAX_AMOUNT_CENTS)), name)


def _validate_campaign(data: CampaignData) -> None:
    if not data.title.strip():
        raise BudgetError(_("Give the campaign a title."), "title")
    _check_amount(data.total_cents, "total", allow_zero=False)
    _check_amount(data.city_cents, "city_envelope")
    for qid, cents in data.quartier_cents.items():
        _check_amount(cents, f"envelope_{qid}")
        if db.session.get(Quartier, qid) is None:
            raise BudgetError(_("Choose a quartier from the list."))
    envelopes_sum = data.city_cents + sum(data.quartier_cents.values())
    if envelopes_sum != data.total_cents:
        # The règlement publishes one total: envelopes must share exactly that amount.
        raise BudgetError(
            _("The envelopes add up to %(sum)s but the campaign's total is %(total)s: "
              "they must add up exactly.", sum=euros(envelopes_sum),
              total=euros(data.total_cents)), "total")
    previous: datetime | None = None
    for phase in DATED_PHASES:
        start = data.starts.get(phase)
        if start is None:
            raise BudgetError(_("Give the date of every phase."), f"{phase.value}_starts")
        if previous is not None and start <= previous:
            raise BudgetError(_("Each phase must start after the previous one."),
                              f"{phase.value}_starts")
        previous = start
    if data.min_age is not None and not (0 <= data.min_age <= 120):
        raise BudgetError(_("Enter an age between 0 and 120."), "min_age")
    if data.ballot_format not in BALLOT_FORMATS:
        raise BudgetError(_("Choose an option from the list."), "ballot_format")
    if data.counting_rule not in COUNTING_RULES:
        raise BudgetError(_("Choose an option from the list."), "counting_rule")
    if data.ballot_format == "approval" and not (data.max_choices and 1 <= data.max_choices
                                                 <= 100):
        raise BudgetError(_("With an approval ballot, give the maximum number of projects "
                            "(1 to 100)."), "max_choices")
    if data.ballot_format == "cumulative":
        if not (data.points_total and 1 <= data.points_total <= 1000):
            raise BudgetError(_("With cumulative points, give the number of points (1 to "
                                "1000)."), "points_total")
        if not (data.min_projects and 1 <= data.min_projects <= data.points_total):
            raise BudgetError(_("With cumulative points, give the minimum number of projects "
                                "(at least 1, at most the number of points)."),
                              "min_projects")
    names = [t.strip() for t in data.themes if t.strip()]
    if len({n.lower() for n in names}) != len(names):
        raise BudgetError(_("Each theme must appear once."), "themes")
    if any(len(n) > 80 for n in names):
        raise BudgetError(_("A theme's name is at most 80 characters."), "themes")


def _envelope_map(campaign: Campaign) -> dict[int | None, int]:
    return {e.quartier_id: e.amount_cents for e in campaign.envelopes}


def save_campaign(actor: User, campaign: Campaign | None, data: CampaignData) -> Campaign:
    """Create or edit a campaign: envelopes add up, dates in order, fairness frozen at the
    vote, dates of phases that have begun kept."""
    _validate_campaign(data)
    now = utcnow()
    wanted_envelopes = {None: data.city_cents} | {
        q: c for q, c in data.quartier_cents.items() if c > 0}
    if campaign is not None:
        if campaign.settings_frozen:
            changed = [f for f in FAIRNESS_FIELDS if getattr(campaign, f) != getattr(data, f)]
            if changed or _envelope_map(campaign) != wanted_envelopes \
                    or campaign.total_cents != data.total_cents:
                raise BudgetError(
                    _("The vote has opened: envelopes, eligibility, the ballot format and the "
                      "counting rule can no longer be changed, so that every voter votes "
                      "under the same rules."), changed[0] if changed else "total")
        for phase, start in zip(DATED_PHASES, campaign.phase_starts, strict=True):
            wanted = data.starts[phase]
            if wanted != start and start <= now:
                raise BudgetError(_("The phase “%(phase)s” has already started: its date can "
                                    "no longer be changed.", phase=phase.title),
                                  f"{phase.value}_starts")
            if wanted != start and wanted <= now:
                # Starting a phase now is "closing the current one early", which is logged.
                raise BudgetError(_("This date has passed: to start the phase “%(phase)s” "
                                    "now, close the current phase early.",
                                    phase=phase.title), f"{phase.value}_starts")
        used_themes = {t.name.lower(): t for t in campaign.themes}
        keep = {t.strip().lower() for t in data.themes if t.strip()}
        for name, theme in used_themes.items():
            if name not in keep and db.session.scalar(
                    select(Proposal.id).where(Proposal.theme_id == theme.id).limit(1)):
                raise BudgetError(_("The theme “%(name)s” has proposals: it cannot be "
                                    "removed.", name=theme.name), "themes")
    else:
        campaign = Campaign(created_by_id=actor.id if actor else None)
        db.session.add(campaign)
    campaign.title = data.title.strip()[:160]
    campaign.description = data.description.strip()
    campaign.total_cents = data.total_cents
    for f in FAIRNESS_FIELDS:
        setattr(campaign, f, getattr(data, f))
    if campaign.ballot_format != "approval":
        campaign.max_choices = None
    if campaign.ballot_format != "cumulative":
        campaign.points_total = campaign.min_projects = None
    for phase in DATED_PHASES:
        setattr(campaign, f"{phase.value}_starts_at", data.starts[phase])
    current = {e.quartier_id: e for e in campaign.envelopes}
    for qid, envelope in current.items():
        if qid not in wanted_envelopes:
            if qid is not None and db.session.scalar(select(Proposal.id).where(
                    Proposal.campaign_id == campaign.id, Proposal.quartier_id == qid).limit(1)):
                raise BudgetError(_("A quartier with proposals must keep an envelope."),
                                  f"envelope_{qid}")
            campaign.envelopes.remove(envelope)
    for qid, cents in wanted_envelopes.items():
        if qid in current:
            current[qid].amount_cents = cents
        else:
            campaign.envelopes.append(Envelope(quartier_id=qid, amount_cents=cents))
    existing = {t.name.lower(): t for t in campaign.themes}
    names = [t.strip() for t in data.themes if t.strip()]
    for theme in list(campaign.themes):
        if theme.name.lower() not in {n.lower() for n in names}:
            campaign.themes.remove(theme)
    for position, name in enumerate(names):
        theme = existing.get(name.lower())
        if theme is None:
            campaign.themes.append(Theme(name=name, position=position))
        else:
            theme.name, theme.position = name, position
    db.session.flush()
    audit(actor, "budget.campaign_saved", None, f"campaign {campaign.id}: {campaign.title}")
    sync_phase(campaign)
    return campaign


def close_phase_early(actor: User, campaign: Campaign, now: datetime | None = None) -> Phase:
    """End the current phase now (the next one starts); logged. Returns the new phase."""
    now = now or utcnow()
    phase = campaign.phase(now)
    if phase in (Phase.UPCOMING, Phase.REALISATION):
        raise BudgetError(_("The phase “%(phase)s” cannot be closed early.", phase=phase.title))
    following = DATED_PHASES[DATED_PHASES.index(phase) + 1]
    setattr(campaign, f"{following.value}_starts_at", now)
    audit(actor, "budget.phase_closed_early", None,
          f"campaign {campaign.id}: {phase.value} closed, {following.value} opened")
    db.session.flush()
    sync_phase(campaign, now)
    return following


def sync_phase(campaign: Campaign, now: datetime | None = None) -> bool:
    """Do, once, the work a phase change needs (idempotent; safe under concurrency).

    Opening the vote puts every feasible, published, costed proposal on the ballot. The
    conditional UPDATE claims the work: of two concurrent callers only one does it.
    """
    now = now or utcnow()
    if campaign.phase(now).index < Phase.VOTE.index or campaign.vote_opened_at is not None:
        return False
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.vote_opened_at.is_(None))
        .values(vote_opened_at=now).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(campaign, ["vote_opened_at"])
    if claimed != 1:
        return False
    for proposal in db.session.execute(
        select(Proposal).where(Proposal.campaign_id == campaign.id,
                               Proposal.status == S.FEASIBLE.value)
    ).scalars():
        if proposal.is_votable:
            transition(proposal, S.SELECTED, None,
                       _("Feasible and costed: on the ballot."))
    audit(None, "budget.vote_opened", None, f"campaign {campaign.id}")
    return True


def tick(now: datetime | None = None) -> list[str]:
    """Run the phase work of every campaign (``flask budget tick``); idempotent."""
    done = []
    for campaign in db.session.execute(select(Campaign).order_by(Campaign.id)).scalars():
        if sync_phase(campaign, now):
            done.append(f"campaign {campaign.id}: vote opened")
        from civic.voting.count import count_at_close  # part 2: the count at the close

        for run in count_at_close(campaign, now):
            done.append(f"campaign {campaign.id}: envelope {run.envelope_id} counted "
                        f"(run {run.id}, not published)")
    return done


def public_campaigns() -> list[Campaign]:
    """Campaigns whose information phase has started, newest first."""
    now = utcnow()
    return list(db.session.execute(
        select(Campaign).where(Campaign.information_starts_at <= now)
        .order_by(Campaign.information_starts_at.desc())
    ).scalars())


def campaign_is_public(campaign: Campaign) -> bool:
    """Visible to everyone once its information phase has started."""
    return campaign.phase() is not Phase.UPCOMING


# ---------------------------------------------------------------- eligibility

def proposal_eligibility(user: User, campaign: Campaign, quartier_id: int | None
                         ) -> str | None:
    """Why this person cannot propose here now (None: they can). A reason, not a bare no."""
    if campaign.phase() is not Phase.SUBMISSION:
        return _("Proposals can only be made during the submission phase (now: %(phase)s).",
                 phase=campaign.phase().title)
    if campaign.min_age:
        if user.birth_year is None:
            return _("This campaign is open from the age of %(age)d: add your year of birth "
                     "to your profile.", age=campaign.min_age)
        if date.today().year - user.birth_year < campaign.min_age:
            return _("This campaign is open from the age of %(age)d.", age=campaign.min_age)
    if campaign.require_verified and not user.is_verified:
        return _("This campaign requires a verified residency: ask the politique de la ville "
                 "team or a counter to verify it.")
    if quartier_id is not None:
        if campaign.envelope_for(quartier_id) is None:
            return _("This quartier has no envelope in this campaign.")
        if campaign.require_residence and user.quartier_id != quartier_id:
            # Règlement: a quartier's envelope is decided by its residents.
            return _("Only residents of this quartier can propose for its envelope; you can "
                     "propose for the whole city.")
    return None


# ---------------------------------------------------------------- proposals

@dataclass(frozen=True)
class ProposalData:
    """What a resident enters (cost in cents)."""

    title: str
    description: str
    quartier_id: int | None
    theme_id: int | None
    estimated_cost_cents: int
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accept_rules: bool = False


@dataclass(frozen=True)
class Upload:
    """A file from a form: its name and its bytes."""

    filename: str
    data: bytes


def _validate_proposal(campaign: Campaign, data: ProposalData) -> None:
    if len(data.title.strip()) < 5:
        raise BudgetError(_("Give your project a title of at least 5 characters."), "title")
    if len(data.description.strip()) < 20:
        raise BudgetError(_("Describe your project in at least 20 characters."), "description")
    if data.estimated_cost_cents <= 0:
        raise BudgetError(_("Enter a positive estimated cost."), "estimated_cost")
    envelope = campaign.envelope_for(data.quartier_id)
    if envelope is None:
        raise BudgetError(_("This quartier has no envelope in this campaign."), "quartier_id")
    if data.estimated_cost_cents > envelope.amount_cents:
        # A project costing more than its whole envelope could never be funded.
        raise BudgetError(_("The estimated cost is more than the whole envelope (%(amount)s): "
                            "reduce the project or propose it for another envelope.",
                            amount=euros(envelope.amount_cents)), "estimated_cost")
    if data.theme_id is not None and data.theme_id not in {t.id for t in campaign.themes}:
        raise BudgetError(_("Choose a theme from the list."), "theme_id")
    if (data.latitude is None) != (data.longitude is None):
        raise BudgetError(_("Give both the latitude and the longitude, or neither."),
                          "latitude")
    if data.latitude is not None and not (-90 <= data.latitude <= 90
                                          and -180 <= data.longitude <= 180):
        raise BudgetError(_("These coordinates are not on Earth."), "latitude")


def _prepare_uploads(proposal: Proposal | None, uploads: Iterable[Upload]
                     ) -> list[image_store.PreparedImage]:
    uploads = [u for u in uploads if u.data]
    already = len(proposal.images) if proposal is not None else 0
    if already + len(uploads) > image_store.MAX_IMAGES:
        raise BudgetError(_("At most %(num)d images per proposal.",
                            num=image_store.MAX_IMAGES), "images")
    prepared = []
    for upload in uploads:
        try:
            prepared.append(image_store.prepare_image(upload.data, upload.filename))
        except image_store.ImageRefused as exc:
            raise BudgetError(exc.message, "images") from exc
    return prepared


def save_proposal(user: User, campaign: Campaign, proposal: Proposal | None,
                  data: ProposalData, uploads: Iterable[Upload] = (), *,
                  submit: bool = False, filed_by: User | None = None) -> Proposal:
    """Create or edit a proposal (a draft, or submitted when ``submit``); images included.

    Everything is checked before anything is written: a refused image leaves no proposal
    and no file behind.
    """
    if proposal is not None:
        _check_author(user, proposal)
        if proposal.state not in EDITABLE_STATUSES:
            raise BudgetError(_("A proposal whose status is “%(status)s” can no longer be "
                                "edited.", status=proposal.state.title))
    reason = proposal_eligibility(user, campaign, None)
    if reason:
        raise BudgetError(reason)
    reason = proposal_eligibility(user, campaign, data.quartier_id)
    if reason:  # only the envelope chosen can be the problem now
        raise BudgetError(reason, "quartier_id")
    _validate_proposal(campaign, data)
    if submit and not data.accept_rules:
        raise BudgetError(_("Accept the campaign's rules to submit your proposal."),
                          "accept_rules")
    prepared = _prepare_uploads(proposal, uploads)
    now = utcnow()
    created = proposal is None
    if created:
        proposal = Proposal(campaign_id=campaign.id, author_id=user.id,
                            filed_by_id=filed_by.id if filed_by else None,
                            status=S.DRAFT.value)
        db.session.add(proposal)
    proposal.title = data.title.strip()[:140]
    proposal.description = data.description.strip()
    proposal.quartier_id = data.quartier_id
    proposal.theme_id = data.theme_id
    proposal.estimated_cost_cents = data.estimated_cost_cents
    proposal.address = data.address.strip()[:200]
    proposal.latitude, proposal.longitude = data.latitude, data.longitude
    if data.accept_rules:
        proposal.rules_accepted_at = proposal.rules_accepted_at or now
    proposal.updated_at = now
    db.session.flush()
    written: list[str] = []
    try:
        for image in prepared:
            token = image_store.store(image)
            written.append(token)
            proposal.images.append(ProposalImage(token=token, width=image.width,
                                                 height=image.height,
                                                 alt_text=proposal.title[:200]))
        if created:
            db.session.add(ProposalEvent(proposal=proposal, to_status=S.DRAFT.value,
                                         actor_id=(filed_by or user).id))
        if submit and proposal.state is S.DRAFT:
            transition(proposal, S.SUBMITTED, filed_by or user, notify_people=False)
            proposal.submitted_at = now
            _follow(user, proposal)
        elif not created and proposal.state is S.SUBMITTED:
            _notify_followers(proposal, lambda: _("The proposal “%(title)s” was edited by "
                                                  "its author.", title=proposal.title))
        db.session.flush()
    except Exception:
        for token in written:
            image_store.remove(token)
        raise
    if filed_by is not None:
        log_assisted(filed_by, user, "budget.proposal_filed",
                     _("budget proposal “%(title)s” filed", title=proposal.title))
    return proposal


def submit_proposal(user: User, proposal: Proposal) -> None:
    """Submit a draft (the rules must have been accepted)."""
    _check_author(user, proposal)
    reason = proposal_eligibility(user, proposal.campaign, proposal.quartier_id)
    if reason:
        raise BudgetError(reason)
    if proposal.rules_accepted_at is None:
        raise BudgetError(_("Accept the campaign's rules to submit your proposal: edit it and "
                            "tick the box."), "accept_rules")
    transition(proposal, S.SUBMITTED, user, notify_people=False)
    proposal.submitted_at = utcnow()
    _follow(user, proposal)


def withdraw_proposal(user: User, proposal: Proposal) -> None:
    """The author withdraws their proposal (until the submission phase ends)."""
    _check_author(user, proposal)
    if proposal.campaign.phase() is not Phase.SUBMISSION:
        raise BudgetError(_("The submission phase is over: proposals can no longer be "
                            "withdrawn."))
    transition(proposal, S.WITHDRAWN, user)


def delete_image(user: User, proposal: Proposal, image: ProposalImage) -> None:
    """The author removes one image of an editable proposal."""
    _check_author(user, proposal)
    if image.proposal_id != proposal.id:
        raise BudgetError(_("This image is not part of this proposal."))
    if proposal.state not in EDITABLE_STATUSES or \
            proposal.campaign.phase() is not Phase.SUBMISSION:
        raise BudgetError(_("This proposal can no longer be edited."))
    token = image.token
    proposal.images.remove(image)
    db.session.flush()
    image_store.remove(token)


class NotYours(BudgetError):
    """Acting on someone else's proposal (the view answers 403)."""


def _check_author(user: User, proposal: Proposal) -> None:
    if user is None or proposal.author_id != user.id:
        raise NotYours(_("Only the author can do this."))


def is_visible(user: Any, proposal: Proposal) -> bool:
    """Public statuses for everyone; drafts for their author; hidden ones for moderators
    and the author."""
    if proposal.state in PUBLIC_STATUSES and campaign_is_public(proposal.campaign):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    from civic.permissions import user_can

    if proposal.author_id == user.id:
        return True
    if user_can(user, "budget.manage"):
        return True
    return False


def transition(proposal: Proposal, target: ProposalStatus, actor: User | None,
               note: str = "", *, notify_people: bool = True) -> ProposalEvent:
    """Change a proposal's status through THE table; record it; tell authors and followers."""
    current = proposal.state
    check_transition(current, target)
    proposal.status = target.value
    proposal.updated_at = utcnow()
    event = ProposalEvent(proposal=proposal, from_status=current.value, to_status=target.value,
                          actor_id=actor.id if actor else None, note=note)
    db.session.add(event)
    db.session.flush()
    if notify_people:
        _notify_status(proposal, target, note)
    return event


def _link(proposal: Proposal) -> str:
    try:
        return url_for("budgeting.proposal", proposal_id=proposal.id)
    except RuntimeError:
        return f"/budget-participatif/propositions/{proposal.id}"


def _authors(proposal: Proposal) -> list[User]:
    return [proposal.author] + [c.user for c in proposal.coauthors]


def followers(proposal: Proposal) -> list[User]:
    """People following the proposal."""
    return list(db.session.execute(
        select(User).join(ProposalFollow, ProposalFollow.user_id == User.id)
        .where(ProposalFollow.proposal_id == proposal.id)
    ).scalars())


def _notify_status(proposal: Proposal, target: ProposalStatus, note: str) -> None:
    def message() -> str:
        text = _("Your proposal “%(title)s” is now: %(status)s.", title=proposal.title,
                 status=target.title)
        return text + ("\n" + note if note else "")

    def follower_message() -> str:
        return _("The proposal “%(title)s” that you follow is now: %(status)s.",
                 title=proposal.title, status=target.title)

    authors = _authors(proposal)
    notify_many(authors, message, _link(proposal),
                email_subject=lambda: _("Your budget proposal: %(status)s", status=target.title))
    ids = {a.id for a in authors}
    notify_many([f for f in followers(proposal) if f.id not in ids], follower_message,
                _link(proposal))


def _notify_followers(proposal: Proposal, message: Any) -> None:
    ids = proposal.author_ids
    notify_many([f for f in followers(proposal) if f.id not in ids], message, _link(proposal))


# ---------------------------------------------------------------- residents' interactions

def _follow(user: User, proposal: Proposal) -> None:
    if not db.session.scalar(select(ProposalFollow.id).where(
            ProposalFollow.proposal_id == proposal.id, ProposalFollow.user_id == user.id)):
        db.session.add(ProposalFollow(proposal_id=proposal.id, user_id=user.id))
        db.session.flush()


def is_following(user: Any, proposal: Proposal) -> bool:
    """True if the user follows the proposal."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(ProposalFollow.id).where(
        ProposalFollow.proposal_id == proposal.id, ProposalFollow.user_id == user.id)))


def toggle_follow(user: User, proposal: Proposal) -> bool:
    """Follow or stop following; returns True when now following."""
    _check_public(user, proposal)
    existing = db.session.execute(select(ProposalFollow).where(
        ProposalFollow.proposal_id == proposal.id, ProposalFollow.user_id == user.id)
    ).scalar_one_or_none()
    if existing:
        db.session.delete(existing)
        db.session.flush()
        return False
    _follow(user, proposal)
    return True


def _check_public(user: User, proposal: Proposal) -> None:
    if proposal.state not in PUBLIC_STATUSES or proposal.state in (S.WITHDRAWN, S.MERGED):
        raise BudgetError(_("This proposal is not open to comments or follows."))


# Comments a person may publish per minute (CIVIC_COMMENTS_PER_MINUTE overrides it). Counted
# in the database rather than with Flask-Limiter: the limit is per account, not per address,
# it holds across workers (the limiter's storage is per process), and a refusal is a form
# error that keeps the typed text instead of a 429 page.
COMMENTS_PER_MINUTE = 3


def _check_comment_rate(user: User) -> None:
    from flask import current_app
    from sqlalchemy import func

    limit = int(current_app.config.get("CIVIC_COMMENTS_PER_MINUTE", COMMENTS_PER_MINUTE))
    recent = db.session.scalar(select(func.count(ProposalComment.id)).where(
        ProposalComment.author_id == user.id,
        ProposalComment.at > utcnow() - timedelta(minutes=1))) or 0
    if recent >= limit:
        raise BudgetError(ngettext(
            "You can publish at most %(num)d comment per minute: wait a moment, then "
            "publish it again (your text is kept below).",
            "You can publish at most %(num)d comments per minute: wait a moment, then "
            "publish it again (your text is kept below).", limit), "body")


def add_comment(user: User, proposal: Proposal, body: str) -> ProposalComment:
    """A resident comments a public proposal."""
    _check_public(user, proposal)
    body = (body or "").strip()
    if len(body) < 2:
        raise BudgetError(_("Write your comment."), "body")
    if len(body) > 2000:
        raise BudgetError(_("A comment is at most 2,000 characters."), "body")
    _check_comment_rate(user)
    comment = ProposalComment(proposal_id=proposal.id, author_id=user.id, body=body)
    db.session.add(comment)
    db.session.flush()
    ids = {user.id}
    notify_many([a for a in _authors(proposal) if a.id not in ids] +
                [f for f in followers(proposal) if f.id not in ids],
                lambda: _("%(name)s commented on “%(title)s”.", name=user.display_name,
                          title=proposal.title), _link(proposal))
    return comment


def flag_proposal(user: User, proposal: Proposal, reason: str) -> ProposalFlag:
    """A resident reports a proposal to the moderators (once each)."""
    _check_public(user, proposal)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise BudgetError(_("Say in a few words why this proposal breaks the rules."),
                          "reason")
    if len(reason) > 1000:
        raise BudgetError(_("At most 1,000 characters."), "reason")
    if db.session.scalar(select(ProposalFlag.id).where(
            ProposalFlag.proposal_id == proposal.id, ProposalFlag.user_id == user.id)):
        raise BudgetError(_("You have already reported this proposal."), "reason")
    flag = ProposalFlag(proposal_id=proposal.id, user_id=user.id, reason=reason)
    db.session.add(flag)
    db.session.flush()
    return flag


def flagged_proposals(campaign: Campaign) -> list[tuple[Proposal, int]]:
    """Proposals with unresolved reports, most reported first."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(Proposal, func.count(ProposalFlag.id))
        .join(ProposalFlag, ProposalFlag.proposal_id == Proposal.id)
        .where(Proposal.campaign_id == campaign.id, ProposalFlag.resolved_at.is_(None))
        .group_by(Proposal.id).order_by(func.count(ProposalFlag.id).desc(), Proposal.id)
    ).all()
    return [(p, n) for p, n in rows]


def _resolve_flags(proposal: Proposal) -> None:
    for flag in db.session.execute(select(ProposalFlag).where(
            ProposalFlag.proposal_id == proposal.id, ProposalFlag.resolved_at.is_(None))
    ).scalars():
        flag.resolved_at = utcnow()


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise BudgetError(_("Give the reason (it is logged and shown to the author)."),
                          "reason")
    return reason[:1000]


def hide_proposal(actor: User, proposal: Proposal, reason: str) -> None:
    """A moderator hides a proposal, with a reason (logged; the author is told)."""
    reason = _reason(reason)
    previous = proposal.state
    transition(proposal, S.HIDDEN, actor, reason)
    proposal.status_before_hiding = previous.value
    _resolve_flags(proposal)
    audit(actor, "budget.proposal_hidden", proposal.author, f"proposal {proposal.id}: {reason}")


def restore_proposal(actor: User, proposal: Proposal, reason: str) -> None:
    """A moderator restores a hidden proposal to the status it had (logged)."""
    reason = _reason(reason)
    if proposal.state is not S.HIDDEN or not proposal.status_before_hiding:
        raise TransitionRefused(_("Only a hidden proposal can be restored."))
    transition(proposal, S(proposal.status_before_hiding), actor, reason)
    proposal.status_before_hiding = None
    audit(actor, "budget.proposal_restored", proposal.author,
          f"proposal {proposal.id}: {reason}")


def dismiss_flags(actor: User, proposal: Proposal) -> None:
    """A moderator keeps the proposal online and closes its reports (logged)."""
    _resolve_flags(proposal)
    audit(actor, "budget.flags_dismissed", proposal.author, f"proposal {proposal.id}")


def merge_proposals(actor: User, duplicate: Proposal, target: Proposal) -> None:
    """Merge a duplicate into another proposal: its authors become co-authors and its
    followers follow the target; everyone is told (logged)."""
    if duplicate.id == target.id:
        raise BudgetError(_("Choose another proposal to merge into."), "target_id")
    if duplicate.campaign_id != target.campaign_id:
        raise BudgetError(_("Both proposals must belong to the same campaign."), "target_id")
    if target.state not in (S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO):
        raise BudgetError(_("The proposal to merge into must still be open (submitted or "
                            "under review)."), "target_id")
    transition(duplicate, S.MERGED, actor,
               _("Merged into “%(title)s”.", title=target.title), notify_people=False)
    duplicate.merged_into_id = target.id
    newcomers = [u for u in _authors(duplicate) if u.id not in target.author_ids]
    for user in newcomers:
        db.session.add(ProposalCoauthor(proposal_id=target.id, user_id=user.id,
                                        from_proposal_id=duplicate.id))
    db.session.flush()
    db.session.refresh(target, ["coauthors"])
    for user in _authors(duplicate) + followers(duplicate):
        _follow(user, target)
    notify_many(_authors(duplicate), lambda: _(
        "Your proposal “%(dup)s” was merged with “%(title)s”, which is very similar: you are "
        "now one of its authors.", dup=duplicate.title, title=target.title), _link(target),
        email_subject=lambda: _("Your budget proposal was merged"))
    notify_many([u for u in _authors(target) if u.id not in {n.id for n in newcomers}],
                lambda: _("The similar proposal “%(dup)s” was merged into yours, “%(title)s”.",
                          dup=duplicate.title, title=target.title), _link(target),
                email_subject=lambda: _("A similar proposal was merged into yours"))
    notify_many([f for f in followers(duplicate) if f.id not in duplicate.author_ids],
                lambda: _("The proposal “%(dup)s” that you follow was merged into "
                          "“%(title)s”; you now follow that one.", dup=duplicate.title,
                          title=target.title), _link(target))
    audit(actor, "budget.proposals_merged", duplicate.author,
          f"proposal {duplicate.id} merged into {target.id}")


# ---------------------------------------------------------------- listing

def search_proposals(campaign: Campaign, *, quartier_id: int | None = None,
                     city_wide: bool = False, theme_id: int | None = None,
                     status: str | None = None, text: str = "", offset: int = 0,
                     limit: int = 30) -> tuple[list[Proposal], bool]:
    """Public proposals of a campaign, filtered; returns (page, has_next)."""
    stmt = select(Proposal).where(Proposal.campaign_id == campaign.id,
                                  Proposal.status.in_([s.value for s in PUBLIC_STATUSES]))
    if city_wide:
        stmt = stmt.where(Proposal.quartier_id.is_(None))
    elif quartier_id is not None:
        stmt = stmt.where(Proposal.quartier_id == quartier_id)
    if theme_id is not None:
        stmt = stmt.where(Proposal.theme_id == theme_id)
    if status in {s.value for s in PUBLIC_STATUSES}:
        stmt = stmt.where(Proposal.status == status)
    else:  # withdrawn and merged ones stay readable, but only when asked for
        stmt = stmt.where(Proposal.status.notin_([S.WITHDRAWN.value, S.MERGED.value]))
    text = (text or "").strip()[:100]
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(Proposal.title.ilike(like), Proposal.description.ilike(like),
                              Proposal.address.ilike(like)))
    rows = list(db.session.execute(
        stmt.order_by(Proposal.submitted_at.desc(), Proposal.id.desc())
        .offset(offset).limit(limit + 1)).scalars())
    return rows[:limit], len(rows) > limit


def count_open_proposals(campaign: Campaign) -> int:
    """Public proposals of a campaign, not counting withdrawn and merged ones."""
    from sqlalchemy import func

    shown = [s.value for s in PUBLIC_STATUSES if s not in (S.WITHDRAWN, S.MERGED)]
    return db.session.scalar(select(func.count(Proposal.id)).where(
        Proposal.campaign_id == campaign.id, Proposal.status.in_(shown))) or 0


def proposals_of(user: User) -> list[Proposal]:
    """The user's own proposals (as author or co-author), newest first."""
    return list(db.session.execute(
        select(Proposal).where(or_(
            Proposal.author_id == user.id,
            Proposal.id.in_(select(ProposalCoauthor.proposal_id)
                            .where(ProposalCoauthor.user_id == user.id))))
        .order_by(Proposal.id.desc())).scalars())


def votable_proposals(campaign: Campaign) -> dict[Envelope, list[Proposal]]:
    """Per envelope, the proposals that go to the vote: feasible (or already selected),
    answer published, cost validated. Part 2 builds its ballots on this."""
    out: dict[Envelope, list[Proposal]] = {e: [] for e in campaign.envelopes}
    rows = db.session.execute(
        select(Proposal).where(Proposal.campaign_id == campaign.id,
                               Proposal.status.in_([S.FEASIBLE.value, S.SELECTED.value]))
        .order_by(Proposal.id)).scalars()
    for proposal in rows:
        envelope = campaign.envelope_for(proposal.quartier_id)
        if envelope is not None and proposal.is_votable:
            out[envelope].append(proposal)
    return out


def _export_budget_data(user: Any) -> dict[str, Any]:
    """What the participatory budget holds about a person (RGPD export)."""
    from civic.budgeting.comments import export_comment_reports
    from civic.budgeting.models import (
        Notification,
        ProposalComment,
        ProposalFlag,
        ProposalFollow,
    )

    def iso(d: Any) -> str | None:
        return d.isoformat() + "Z" if d else None

    proposals = db.session.execute(
        select(Proposal).where(Proposal.author_id == user.id).order_by(Proposal.id)).scalars()
    comments = db.session.execute(select(ProposalComment).where(
        ProposalComment.author_id == user.id).order_by(ProposalComment.id)).scalars()
    follows = db.session.execute(select(ProposalFollow.proposal_id).where(
        ProposalFollow.user_id == user.id)).scalars()
    flags = db.session.execute(select(ProposalFlag).where(
        ProposalFlag.user_id == user.id)).scalars()
    notes = db.session.execute(select(Notification).where(
        Notification.user_id == user.id).order_by(Notification.id)).scalars()
    return {
        "proposals": [{"id": p.id, "campaign_id": p.campaign_id, "title": p.title,
                       "description": p.description, "status": p.status,
                       "estimated_cost_cents": p.estimated_cost_cents, "address": p.address,
                       "latitude": p.latitude, "longitude": p.longitude,
                       "created_at": iso(p.created_at), "submitted_at": iso(p.submitted_at)}
                      for p in proposals],
        # A hidden comment is still the author's own data (right of access): its text is
        # exported to them, with the moderators' reason.
        "comments": [{"proposal_id": c.proposal_id, "body": c.body, "at": iso(c.at),
                      "hidden_at": iso(c.hidden_at), "hidden_reason": c.hidden_reason}
                     for c in comments],
        "comment_reports": export_comment_reports(user),
        "following": list(follows),
        "flags": [{"proposal_id": f.proposal_id, "reason": f.reason, "at": iso(f.at)}
                  for f in flags],
        "notifications": [{"at": iso(n.at), "message": n.message, "link": n.link,
                           "read": n.read_at is not None} for n in notes],
    }


EXPORT_SECTIONS["participatory_budget"] = _export_budget_data
