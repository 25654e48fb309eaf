"""Participatory budget pages: campaigns, proposals, moderation, the resident's space.

Views are thin: form → one service → commit → redirect. Object-level rules (only the
author edits; a hidden proposal is the moderators') are enforced by the services too.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_currency, to_user_timezone, to_utc
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from civic.accounts.models import User
from civic.budgeting import comments, notify
from civic.budgeting import images as image_store
from civic.budgeting import services as budget
from civic.budgeting.forms import (
    AnswerForm,
    AssistedProposalForm,
    CommentForm,
    CommentModerationForm,
    CommentReportForm,
    FlagForm,
    MergeForm,
    ModerationForm,
    ProposalForm,
    campaign_form,
)
from civic.budgeting.models import Campaign, Proposal, ProposalComment, ProposalImage
from civic.budgeting.states import (
    DATED_PHASES,
    PHASE_ACTIONS,
    PUBLIC_STATUSES,
    Phase,
    ProposalStatus,
    TransitionRefused,
)
from civic.extensions import db
from civic.forms import digits
from civic.permissions import public, requires, user_can
from civic.territory.models import Commune, Quartier
from civic.viewutil import ConfirmForm, attach_error, change, confirmed, form_status

bp = Blueprint("budgeting", __name__, url_prefix="/budget-participatif", cli_group="budget")
PAGE = 30


@bp.app_template_filter("cents")
def cents_filter(cents: int | None) -> str:
    """Format an amount stored in cents, in the reader's language."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, "EUR")


@bp.app_template_filter("status_title")
def status_title_filter(value: str | None) -> str:
    """Translated title of a proposal status value."""
    return ProposalStatus(value).title if value else ""


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        return 1


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    if not budget.campaign_is_public(campaign) and not user_can(current_user, "budget.manage"):
        abort(404)
    return campaign


def _proposal_or_404(proposal_id: int) -> Proposal:
    proposal = db.get_or_404(Proposal, proposal_id)
    if not budget.is_visible(current_user, proposal):
        abort(404)
    return proposal


def _quartier_labels() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Quartier, Commune).join(Commune).order_by(Commune.name, Quartier.name)).all()
    return [(q.id, f"{q.name} ({c.name})") for q, c in rows]


def _cents(euros: int | None) -> int:
    return int(euros or 0) * 100


def _start(day) -> datetime:  # noqa: ANN001
    """Midnight, Paris time, of a date typed in the form, as naive UTC."""
    return to_utc(datetime.combine(day, time()))


# ---------------------------------------------------------------- campaigns

@bp.route("/campagnes")
@public
def campaigns():
    """Public list of campaigns (and, for coordinators, those not yet open)."""
    rows = budget.public_campaigns()
    upcoming = []
    if user_can(current_user, "budget.manage"):
        upcoming = [c for c in db.session.execute(select(Campaign).order_by(Campaign.id.desc()))
                    .scalars() if not budget.campaign_is_public(c)]
    return render_template("budgeting/campaigns.html", campaigns=rows, upcoming=upcoming)


def _campaign_data(form, quartiers: list[tuple[int, str]]) -> budget.CampaignData:  # noqa: ANN001
    return budget.CampaignData(
        title=form.title.data or "", description=form.description.data or "",
        total_cents=_cents(form.total.data), city_cents=_cents(form.city_envelope.data),
        quartier_cents={qid: _cents(getattr(form, f"envelope_{qid}").data)
                        for qid, _label in quartiers},
        starts={p: _start(getattr(form, f"{p.value}_starts").data) for p in DATED_PHASES},
        min_age=form.min_age.data, require_verified=bool(form.require_verified.data),
        require_residence=bool(form.require_residence.data),
        ballot_format=form.ballot_format.data, max_choices=form.max_choices.data,
        points_total=form.points_total.data, min_projects=form.min_projects.data,
        counting_rule=form.counting_rule.data,
        themes=tuple((form.themes.data or "").splitlines()),
    )


def _campaign_form_page(campaign: Campaign | None):  # noqa: ANN202
    quartiers = _quartier_labels()
    form = campaign_form(quartiers)
    if campaign is not None and request.method == "GET":
        form.title.data, form.description.data = campaign.title, campaign.description
        form.total.data = campaign.total_cents // 100
        envelopes = {e.quartier_id: e.amount_cents for e in campaign.envelopes}
        form.city_envelope.data = envelopes.get(None, 0) // 100
        for qid, _label in quartiers:
            getattr(form, f"envelope_{qid}").data = envelopes.get(qid, 0) // 100
        for name in budget.FAIRNESS_FIELDS:
            getattr(form, name).data = getattr(campaign, name)
        form.themes.data = "\n".join(t.name for t in campaign.themes)
        for phase, start in zip(DATED_PHASES, campaign.phase_starts, strict=True):
            getattr(form, f"{phase.value}_starts").data = to_user_timezone(start).date()
    if form.validate_on_submit():
        data = _campaign_data(form, quartiers)
        if campaign is not None:
            # A date left as shown keeps its exact time (e.g. a phase closed early at 14:32).
            kept = dict(data.starts)
            for phase, start in zip(DATED_PHASES, campaign.phase_starts, strict=True):
                if getattr(form, f"{phase.value}_starts").data == to_user_timezone(start).date():
                    kept[phase] = start
            data = budget.CampaignData(**{**data.__dict__, "starts": kept})
        with change(budget.BudgetError, form, _("Campaign saved.")) as step:
            saved = budget.save_campaign(current_user, campaign, data)
        if step.ok:
            return redirect(url_for("budgeting.campaign", campaign_id=saved.id))
    return render_template("budgeting/campaign_form.html", form=form, campaign=campaign,
                           frozen=campaign is not None and campaign.settings_frozen
                           ), form_status(form)


@bp.route("/campagnes/nouvelle", methods=["GET", "POST"])
@requires("budget.manage")
def campaign_new():
    """Create a campaign: envelopes, eligibility, ballot, calendar."""
    return _campaign_form_page(None)


@bp.route("/campagnes/<int:campaign_id>/modifier", methods=["GET", "POST"])
@requires("budget.manage")
def campaign_edit(campaign_id: int):
    """Edit a campaign (fairness settings are frozen once the vote opens)."""
    return _campaign_form_page(db.get_or_404(Campaign, campaign_id))


@bp.route("/campagnes/<int:campaign_id>")
@public
def campaign(campaign_id: int):
    """A campaign: its calendar, envelopes and what residents can do now."""
    campaign = _campaign_or_404(campaign_id)
    if budget.sync_phase(campaign):  # the first visit after the vote opens does its work
        db.session.commit()
    phase = campaign.phase()
    reason = None
    if current_user.is_authenticated and phase is Phase.SUBMISSION:
        reason = budget.proposal_eligibility(current_user, campaign, None)
    return render_template(
        "budgeting/campaign.html", campaign=campaign, phase=phase, Phase=Phase,
        calendar=list(zip(DATED_PHASES, campaign.phase_starts, strict=True)),
        action=PHASE_ACTIONS[phase], proposal_count=budget.count_open_proposals(campaign),
        reason=reason, close_form=ConfirmForm())


@bp.route("/campagnes/<int:campaign_id>/cloturer-la-phase", methods=["POST"])
@requires("budget.manage")
def campaign_close_phase(campaign_id: int):
    """Close the current phase now (logged)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    confirmed()
    with change(budget.BudgetError) as step:
        following = budget.close_phase_early(current_user, campaign)
        step.success = _("Phase closed: the campaign is now in the phase “%(phase)s”.",
                         phase=following.title)
    return redirect(url_for("budgeting.campaign", campaign_id=campaign.id))


# ---------------------------------------------------------------- proposals

@bp.route("/campagnes/<int:campaign_id>/propositions")
@public
def proposals(campaign_id: int):
    """Browse, filter and search the public proposals."""
    campaign = _campaign_or_404(campaign_id)
    area = request.args.get("quartier", "")
    quartier_id = None
    if digits(area) and len(area) < 10:
        quartier_id = int(area)
    theme = request.args.get("theme", "")
    theme_id = int(theme) if digits(theme) and len(theme) < 10 else None
    status = request.args.get("statut", "")
    text = request.args.get("q", "")[:100]
    page = _page()
    rows, has_next = budget.search_proposals(
        campaign, quartier_id=quartier_id, city_wide=area == "ville", theme_id=theme_id,
        status=status or None, text=text, offset=(page - 1) * PAGE, limit=PAGE)
    statuses = [s for s in ProposalStatus if s in PUBLIC_STATUSES]
    return render_template("budgeting/proposals.html", campaign=campaign, proposals=rows,
                           page=page, has_next=has_next, area=area, theme=theme,
                           status=status, q=text, statuses=statuses)


def _proposal_form(form_class, campaign: Campaign, user: User):  # noqa: ANN001, ANN202
    form = form_class()
    choices = [("", _("Whole city"))]
    for envelope in campaign.envelopes:
        if envelope.quartier_id is not None:
            choices.append((str(envelope.quartier_id), envelope.quartier.label))
    form.quartier_id.choices = choices
    form.theme_id.choices = [("", _("— Choose —"))] + [(str(t.id), t.name)
                                                      for t in campaign.themes]
    if request.method == "GET" and form.quartier_id.data is None \
            and campaign.envelope_for(user.quartier_id) is not None:
        form.quartier_id.data = user.quartier_id
    return form


def _proposal_data(form) -> budget.ProposalData:  # noqa: ANN001
    cost = form.estimated_cost.data
    return budget.ProposalData(
        title=form.title.data or "", description=form.description.data or "",
        quartier_id=form.quartier_id.data, theme_id=form.theme_id.data,
        estimated_cost_cents=_cents(cost) if cost is not None else 0,
        address=form.address.data or "", latitude=form.latitude.data,
        longitude=form.longitude.data, accept_rules=bool(form.accept_rules.data))


def _form_map(campaign: Campaign, form):  # noqa: ANN001, ANN202
    """The campaign's quartiers drawn without tiles, with the point typed so far."""
    from civic.budgeting.mapsvg import outline_map

    point = (form.latitude.data, form.longitude.data)
    try:
        return outline_map([e.quartier for e in campaign.envelopes if e.quartier],
                           point if None not in point else None)
    except (ValueError, TypeError, KeyError):  # an outline the map cannot draw: no map
        return None


def _uploads() -> list[budget.Upload]:
    return [budget.Upload(f.filename or "", f.read()) for f in request.files.getlist("images")
            if f and f.filename]


@bp.route("/campagnes/<int:campaign_id>/proposer", methods=["GET", "POST"])
@requires("account")
def proposal_new(campaign_id: int):
    """Propose a project (save a draft or submit it)."""
    campaign = _campaign_or_404(campaign_id)
    reason = budget.proposal_eligibility(current_user, campaign, None)
    form = _proposal_form(ProposalForm, campaign, current_user)
    if reason is None and form.validate_on_submit():
        try:
            proposal = budget.save_proposal(current_user, campaign, None, _proposal_data(form),
                                            _uploads(), submit=bool(form.submit.data))
            db.session.commit()
        except budget.BudgetError as exc:
            attach_error(form, exc)
        else:
            flash(_("Your proposal was submitted: thank you!") if form.submit.data
                  else _("Your draft was saved. Submit it before the end of the phase."),
                  "success")
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))
    return render_template("budgeting/proposal_form.html", form=form, campaign=campaign,
                           proposal=None, reason=reason,
                           outline=_form_map(campaign, form)), form_status(form)


@bp.route("/propositions/<int:proposal_id>")
@public
def proposal(proposal_id: int):
    """A proposal: description, images, the city's answer, its history and comments."""
    return _proposal_page(_proposal_or_404(proposal_id))


def _proposal_page(proposal: Proposal, comment_form: CommentForm | None = None,
                   status: int = 200):  # noqa: ANN202
    """The proposal's page (also re-shown with a refused comment, its text kept)."""
    from civic.budgeting.mapsvg import outline_map
    from civic.review import services as review

    outline = None
    if proposal.latitude is not None:
        areas = [proposal.quartier] if proposal.quartier else [
            e.quartier for e in proposal.campaign.envelopes if e.quartier]
        try:
            outline = outline_map(areas, (proposal.latitude, proposal.longitude))
        except (ValueError, TypeError, KeyError):
            outline = None
    reviews = []
    if user_can(current_user, "budget.manage") or user_can(current_user, "review.queue"):
        reviews = [(r, review.can_read_notes(current_user, r))
                   for r in review.reviews_of(proposal)]
    if comment_form is None and current_user.is_authenticated:
        comment_form = CommentForm(formdata=None)
    return render_template(
        "budgeting/proposal.html", proposal=proposal, campaign=proposal.campaign,
        S=ProposalStatus, Phase=Phase, comments=comments.comment_views(proposal, current_user),
        following=budget.is_following(current_user, proposal),
        is_author=current_user.is_authenticated and current_user.id in proposal.author_ids,
        is_owner=current_user.is_authenticated and current_user.id == proposal.author_id,
        # Forms (and so a CSRF token and a session) only for signed-in people: a visitor's
        # page sets no cookie and can be served from the page cache.
        comment_form=comment_form,
        confirm=ConfirmForm() if current_user.is_authenticated else None, reviews=reviews,
        followers=len(budget.followers(proposal)), outline=outline), status


def _own_proposal(proposal_id: int) -> Proposal:
    proposal = db.get_or_404(Proposal, proposal_id)
    if proposal.author_id != current_user.id:
        abort(403)  # forged request for someone else's proposal
    return proposal


@bp.route("/propositions/<int:proposal_id>/modifier", methods=["GET", "POST"])
@requires("account")
def proposal_edit(proposal_id: int):
    """The author edits their draft or submitted proposal (until the phase ends)."""
    proposal = _own_proposal(proposal_id)
    campaign = proposal.campaign
    form = _proposal_form(ProposalForm, campaign, current_user)
    reason = budget.proposal_eligibility(current_user, campaign, None)
    if reason is None and proposal.state not in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED):
        reason = _("A proposal whose status is “%(status)s” can no longer be edited.",
                   status=proposal.state.title)
    if request.method == "GET":
        form.title.data, form.description.data = proposal.title, proposal.description
        form.quartier_id.data, form.theme_id.data = proposal.quartier_id, proposal.theme_id
        form.estimated_cost.data = proposal.estimated_cost_cents // 100
        form.address.data = proposal.address
        form.latitude.data, form.longitude.data = proposal.latitude, proposal.longitude
        form.accept_rules.data = proposal.rules_accepted_at is not None
    if form.validate_on_submit():
        try:
            budget.save_proposal(current_user, campaign, proposal, _proposal_data(form),
                                 _uploads(), submit=bool(form.submit.data))
            db.session.commit()
        except budget.BudgetError as exc:
            attach_error(form, exc)
        except TransitionRefused as exc:
            attach_error(form, exc)
        else:
            flash(_("Your proposal was saved."), "success")
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))
    return render_template("budgeting/proposal_form.html", form=form, campaign=campaign,
                           proposal=proposal, reason=reason, confirm=ConfirmForm(),
                           outline=_form_map(campaign, form)), form_status(form)


def _act(proposal: Proposal, action, success: str):  # noqa: ANN001, ANN202
    """Run a one-button service on a proposal and come back to its page."""
    confirmed()
    with change((budget.BudgetError, TransitionRefused), success=success):
        try:
            action()
        except budget.NotYours:
            db.session.rollback()
            abort(403)
    return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))


@bp.route("/propositions/<int:proposal_id>/deposer", methods=["POST"])
@requires("account")
def proposal_submit(proposal_id: int):
    """Submit a draft."""
    proposal = _own_proposal(proposal_id)
    return _act(proposal, lambda: budget.submit_proposal(current_user, proposal),
                _("Your proposal was submitted: thank you!"))


@bp.route("/propositions/<int:proposal_id>/retirer", methods=["POST"])
@requires("account")
def proposal_withdraw(proposal_id: int):
    """Withdraw one's proposal."""
    proposal = _own_proposal(proposal_id)
    return _act(proposal, lambda: budget.withdraw_proposal(current_user, proposal),
                _("Your proposal was withdrawn."))


@bp.route("/propositions/<int:proposal_id>/images/<int:image_id>")
@public
def image(proposal_id: int, image_id: int):
    """An image, served only if its proposal is visible to the reader."""
    proposal = _proposal_or_404(proposal_id)
    img = db.get_or_404(ProposalImage, image_id)
    if img.proposal_id != proposal.id:
        abort(404)
    path = image_store.path_for(img.token, request.args.get("taille", "full"))
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/propositions/<int:proposal_id>/images/<int:image_id>/supprimer", methods=["POST"])
@requires("account")
def image_delete(proposal_id: int, image_id: int):
    """The author removes an image."""
    proposal = _own_proposal(proposal_id)
    img = db.get_or_404(ProposalImage, image_id)
    confirmed()
    with change(budget.BudgetError, success=_("Image removed.")):
        budget.delete_image(current_user, proposal, img)
    return redirect(url_for("budgeting.proposal_edit", proposal_id=proposal.id))


@bp.route("/propositions/<int:proposal_id>/commentaires", methods=["POST"])
@requires("account")
def comment(proposal_id: int):
    """Comment on a proposal."""
    proposal = _proposal_or_404(proposal_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            budget.add_comment(current_user, proposal, form.body.data)
            db.session.commit()
        except budget.BudgetError as exc:
            attach_error(form, exc)  # re-shown below with the typed text
        else:
            flash(_("Your comment was published."), "success")
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id)
                            + "#commentaires")
    elif not form.body.errors:
        form.body.errors = [_("Write your comment (2,000 characters at most).")]
    return _proposal_page(proposal, form, 422)


def _comment_or_404(comment_id: int) -> ProposalComment:
    """A comment whose proposal the reader may see (else 404)."""
    comment = db.get_or_404(ProposalComment, comment_id)
    _proposal_or_404(comment.proposal_id)
    return comment


def _reason_choices() -> list[tuple[str, str]]:
    return [(r.value, r.title) for r in comments.CommentReason]


@bp.route("/commentaires/<int:comment_id>/signaler", methods=["GET", "POST"])
@requires("account")
def comment_report(comment_id: int):
    """Report a comment to the moderators (once; not one's own)."""
    comment = _comment_or_404(comment_id)
    back = url_for("budgeting.proposal", proposal_id=comment.proposal_id) + \
        f"#commentaire-{comment.id}"
    form = CommentReportForm()
    form.reason.choices = _reason_choices()
    if form.validate_on_submit():
        try:
            comments.report_comment(current_user, comment, form.reason.data,
                                    form.details.data or "")
            db.session.commit()
        except comments.AlreadyReported as exc:
            db.session.rollback()
            flash(exc.message, "info")
            return redirect(back)
        except budget.BudgetError as exc:
            attach_error(form, exc)
        else:
            flash(_("Thank you: the moderators will look at your report."), "success")
            return redirect(back)
    return render_template(
        "budgeting/comment_report.html", form=form, comment=comment, back=back,
        own=comment.author_id == current_user.id, hidden=comment.is_hidden,
        already=comments.has_reported(current_user, comment)), form_status(form)


@bp.route("/moderation/commentaires")
@requires(comments.MODERATOR_PERMISSION)
def comment_queue():
    """Reported comments, the longest-waiting first, and the hidden ones."""
    page = _page()
    items, has_next = comments.report_queue(offset=(page - 1) * PAGE, limit=PAGE)
    return render_template("budgeting/comment_queue.html", items=items, page=page,
                           has_next=has_next, hidden=comments.hidden_comments(),
                           reason_title=comments.reason_title)


@bp.route("/commentaires/<int:comment_id>/moderer", methods=["GET", "POST"])
@requires(comments.MODERATOR_PERMISSION)
def comment_moderate(comment_id: int):
    """Hide (with a reason), restore, or keep a comment and close its reports (audited)."""
    comment = db.get_or_404(ProposalComment, comment_id)
    form = CommentModerationForm()
    form.decision.choices = [(d, str(comments.DECISIONS[d]))
                             for d in comments.decisions_for(comment)]
    form.reason.choices = _reason_choices()
    if request.method == "GET" and len(form.decision.choices) == 1:
        form.decision.data = form.decision.choices[0][0]
    if form.validate_on_submit():
        with change(budget.BudgetError, form, _("Moderation decision recorded.")) as step:
            comments.decide(current_user, comment, form.decision.data, form.reason.data,
                            form.note.data or "")
        if step.ok:
            return redirect(url_for("budgeting.comment_queue"))
    return render_template("budgeting/comment_moderate.html", form=form, comment=comment,
                           reports=comments.reports_of(comment),
                           reason_title=comments.reason_title), form_status(form)


@bp.route("/propositions/<int:proposal_id>/suivre", methods=["POST"])
@requires("account")
def follow(proposal_id: int):
    """Follow a proposal, or stop following it."""
    proposal = _proposal_or_404(proposal_id)
    confirmed()
    with change(budget.BudgetError) as step:
        now_following = budget.toggle_follow(current_user, proposal)
        step.success = (_("You follow this proposal: you will be told of its changes.")
                        if now_following else _("You no longer follow this proposal."))
    return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))


@bp.route("/propositions/<int:proposal_id>/signaler", methods=["GET", "POST"])
@requires("account")
def flag(proposal_id: int):
    """Report a proposal to the moderators."""
    proposal = _proposal_or_404(proposal_id)
    form = FlagForm()
    if form.validate_on_submit():
        with change(budget.BudgetError, form,
                    _("Thank you: the moderators will look at your report.")) as step:
            budget.flag_proposal(current_user, proposal, form.reason.data)
        if step.ok:
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))
    return render_template("budgeting/flag.html", form=form, proposal=proposal), form_status(form)


@bp.route("/propositions/<int:proposal_id>/repondre", methods=["GET", "POST"])
@requires("account")
def answer(proposal_id: int):
    """The author answers the city services' question."""
    from civic.review import services as review

    proposal = _own_proposal(proposal_id)
    form = AnswerForm()
    if form.validate_on_submit():
        with change((budget.BudgetError, TransitionRefused), form,
                    _("Thank you: your answer was sent to the services.")) as step:
            review.answer_question(current_user, proposal, form.reply.data)
        if step.ok:
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))
    return render_template("budgeting/answer.html", form=form, proposal=proposal), form_status(form)


# ---------------------------------------------------------------- moderation

@bp.route("/campagnes/<int:campaign_id>/moderation")
@requires("budget.manage")
def moderation(campaign_id: int):
    """Reported and hidden proposals of a campaign."""
    campaign = db.get_or_404(Campaign, campaign_id)
    hidden = db.session.execute(select(Proposal).where(
        Proposal.campaign_id == campaign.id, Proposal.status == ProposalStatus.HIDDEN.value)
        .order_by(Proposal.id)).scalars().all()
    return render_template("budgeting/moderation.html", campaign=campaign,
                           flagged=budget.flagged_proposals(campaign), hidden=hidden)


@bp.route("/propositions/<int:proposal_id>/moderer", methods=["GET", "POST"])
@requires("budget.manage")
def moderate(proposal_id: int):
    """Hide or restore a proposal, or dismiss its reports (with a reason, logged)."""
    from civic.budgeting.models import ProposalFlag

    proposal = db.get_or_404(Proposal, proposal_id)
    form = ModerationForm()
    if form.validate_on_submit():
        with change((budget.BudgetError, TransitionRefused), form,
                    _("Moderation decision recorded.")) as step:
            if form.action.data == "hide":
                budget.hide_proposal(current_user, proposal, form.reason.data or "")
            elif form.action.data == "restore":
                budget.restore_proposal(current_user, proposal, form.reason.data or "")
            else:
                budget.dismiss_flags(current_user, proposal)
        if step.ok:
            return redirect(url_for("budgeting.moderation", campaign_id=proposal.campaign_id))
    flags = db.session.execute(select(ProposalFlag).where(
        ProposalFlag.proposal_id == proposal.id).order_by(ProposalFlag.id)).scalars().all()
    return render_template("budgeting/moderate.html", form=form, proposal=proposal,
                           flags=flags), form_status(form)


@bp.route("/propositions/<int:proposal_id>/fusionner", methods=["GET", "POST"])
@requires("budget.manage")
def merge(proposal_id: int):
    """Merge a duplicate into another proposal of the campaign."""
    proposal = db.get_or_404(Proposal, proposal_id)
    form = MergeForm()
    open_statuses = [ProposalStatus.SUBMITTED.value, ProposalStatus.UNDER_REVIEW.value,
                     ProposalStatus.NEEDS_INFO.value]
    targets = db.session.execute(select(Proposal).where(
        Proposal.campaign_id == proposal.campaign_id, Proposal.id != proposal.id,
        Proposal.status.in_(open_statuses)).order_by(Proposal.title)).scalars().all()
    form.target_id.choices = [("", _("— Choose —"))] + [
        (str(p.id), f"{p.title} (#{p.id})") for p in targets]
    if form.validate_on_submit():
        target = db.session.get(Proposal, form.target_id.data) if form.target_id.data else None
        with change((budget.BudgetError, TransitionRefused), form,
                    _("Proposals merged; their authors and followers were told.")) as step:
            if target is None:
                raise budget.BudgetError(_("Choose a proposal from the list."), "target_id")
            budget.merge_proposals(current_user, proposal, target)
        if step.ok:
            return redirect(url_for("budgeting.proposal", proposal_id=target.id))
    return render_template("budgeting/merge.html", form=form, proposal=proposal), form_status(form)


# ---------------------------------------------------------------- the resident's space

@bp.route("/mon-espace")
@requires("account")
def my_space():
    """My proposals and my notifications."""
    notes = notify.notifications_for(current_user)
    return render_template("budgeting/my_space.html", proposals=budget.proposals_of(current_user),
                           notifications=notes, form=ConfirmForm(),
                           unread=sum(1 for n in notes if n.read_at is None))


@bp.route("/mon-espace/notifications-lues", methods=["POST"])
@requires("account")
def notifications_read():
    """Mark all my notifications read."""
    if ConfirmForm().validate_on_submit():
        notify.mark_all_read(current_user)
        db.session.commit()
    return redirect(url_for("budgeting.my_space"))


@bp.route("/campagnes/<int:campaign_id>/guichet/<int:user_id>", methods=["GET", "POST"])
@requires("counter.assist")
def assisted_proposal(campaign_id: int, user_id: int):
    """An agent files a proposal for a resident at a counter (logged, resident told)."""
    campaign = _campaign_or_404(campaign_id)
    resident = db.get_or_404(User, user_id)
    if resident.deleted_at is not None:
        abort(404)
    reason = budget.proposal_eligibility(resident, campaign, None)
    form = _proposal_form(AssistedProposalForm, campaign, resident)
    if reason is None and form.validate_on_submit():
        try:
            proposal = budget.save_proposal(resident, campaign, None, _proposal_data(form),
                                            _uploads(), submit=True, filed_by=current_user)
            db.session.commit()
        except budget.BudgetError as exc:
            attach_error(form, exc)
        else:
            flash(_("The proposal was filed for %(name)s.", name=resident.display_name),
                  "success")
            return redirect(url_for("budgeting.proposal", proposal_id=proposal.id))
    return render_template("budgeting/proposal_form.html", form=form, campaign=campaign,
                           proposal=None, reason=reason, resident=resident,
                           outline=_form_map(campaign, form)), form_status(form)


@bp.app_context_processor
def budget_helpers() -> dict:
    """Helpers for the budget templates (durations in the reader's language)."""
    from flask_babel import format_timedelta

    def budget_campaigns_open() -> list[Campaign]:
        return [c for c in budget.public_campaigns() if c.phase() is Phase.SUBMISSION]

    return {"format_timedelta": format_timedelta,
            "budget_campaigns_open": budget_campaigns_open}


@bp.cli.command("tick")
def tick_command() -> None:
    """Do the work of every phase that has begun (idempotent; cron-friendly)."""
    import click

    from civic.voting.reminders import send_vote_reminders

    done = budget.tick()
    db.session.commit()
    reminded = send_vote_reminders()  # the one reminder before the vote closes
    db.session.commit()
    if reminded:
        done.append(f"vote reminders sent: {reminded}")
    click.echo("\n".join(done) if done else "nothing to do")


@bp.cli.command("remind")
def remind_command() -> None:
    """Email residents who started a ballot and did not confirm it, once, in the last
    48 hours of the vote (idempotent; also run by `tick`)."""
    import click

    from civic.voting.reminders import send_vote_reminders

    sent = send_vote_reminders()
    db.session.commit()
    click.echo(f"vote reminders sent: {sent}")
