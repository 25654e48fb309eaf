"""Results of a participatory-budget vote: the results page (public once published, a
preview for coordinators), re-count and publication, downloads, the published ballot list
and the "check my ballot" page."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

import civic.voting.cli  # noqa: F401  (flask budget import-pabulib | count | export-pabulib)
from civic.budgeting import services as budget
from civic.budgeting.models import Campaign, Envelope
from civic.budgeting.states import Phase
from civic.extensions import db, limiter
from civic.permissions import public, requires, user_can
from civic.viewutil import ConfirmForm, confirmed
from civic.voting import count as counting
from civic.voting import results as res

bp = Blueprint("results", __name__, url_prefix="/budget-participatif")
PER_PAGE = 100


class ReceiptForm(FlaskForm):
    """The receipt a voter was shown after voting."""

    receipt = StringField(_l("Receipt code"), validators=[InputRequired(), Length(max=80)],
                          description=_l("26 letters and digits, as shown after your vote "
                                         "(dashes and spaces do not matter)."))


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.get_or_404(Campaign, campaign_id)
    if not budget.campaign_is_public(campaign) and not user_can(current_user, "budget.manage"):
        abort(404)
    return campaign


def _envelope_or_404(campaign: Campaign, envelope_id: int) -> Envelope:
    envelope = db.session.get(Envelope, envelope_id)
    if envelope is None or envelope.campaign_id != campaign.id:
        abort(404)
    return envelope


def _run_or_404(envelope: Envelope):  # noqa: ANN202
    """The published run, or for coordinators the latest one (preview)."""
    run = counting.published_run(envelope)
    if run is None and user_can(current_user, "budget.manage"):
        run = counting.latest_run(envelope)
    if run is None:
        abort(404)
    return run


@bp.route("/campagnes/<int:campaign_id>/resultats")
@public
def results(campaign_id: int):
    """The results of every envelope, the comparison, turnout and downloads."""
    campaign = _campaign_or_404(campaign_id)
    published = counting.is_published(campaign)
    manager = user_can(current_user, "budget.manage")
    preview = manager and not published
    envelopes = res.campaign_results(campaign, preview=preview) if (published or preview) \
        else []
    return render_template(
        "voting/results_campaign.html", campaign=campaign, published=published,
        preview=preview, envelopes=envelopes, manager=manager,
        closed=campaign.phase().index >= Phase.RESULTS.index,
        turnout=res.turnout(campaign) if (published or preview) else None,
        runs=res.runs_of(campaign) if manager else [],
        form=ConfirmForm() if manager else None,  # no session (and no CSRF) for visitors
        rule=counting.declared_rule(campaign), name=res.envelope_name,
        min_published=counting.MIN_PUBLISHED)


@bp.route("/campagnes/<int:campaign_id>/resultats/recompter", methods=["POST"])
@requires("budget.manage")
def recount(campaign_id: int):
    """Count every envelope again (a new run each; nothing published)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    confirmed()
    try:
        runs = counting.count_campaign(campaign, current_user)
        db.session.commit()
    except counting.CountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Counted again: %(num)d envelope(s). Compare the output digests with the "
                "previous runs.", num=len(runs)), "success")
    return redirect(url_for("results.results", campaign_id=campaign.id))


@bp.route("/campagnes/<int:campaign_id>/resultats/publier", methods=["POST"])
@requires("budget.manage")
def publish(campaign_id: int):
    """Publish the latest count of every envelope (winners, ballot list, chain head)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    confirmed()
    try:
        counting.publish_results(campaign, current_user)
        db.session.commit()
    except counting.CountError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        res.verify_published(campaign)  # the first visitors do not wait for the re-chaining
        flash(_("The results are published."), "success")
    return redirect(url_for("results.results", campaign_id=campaign.id))


def _download(content: str, mimetype: str, name: str) -> Response:
    resp = Response(content, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.route("/campagnes/<int:campaign_id>/resultats/<int:envelope_id>.csv")
@public
def download_csv(campaign_id: int, envelope_id: int):
    """One envelope's results as CSV (one line per project)."""
    campaign = _campaign_or_404(campaign_id)
    run = _run_or_404(_envelope_or_404(campaign, envelope_id))
    return _download(_results_csv(run), "text/csv",
                     f"resultats-{campaign.id}-{envelope_id}.csv")


def _results_csv(run) -> str:  # noqa: ANN001
    result = res.envelope_results(run, check_chain=False)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["project_id", "title", "cost_cents", "votes", "score", "funded",
                     "order", "reason", f"funded_by_{result.document['other']['rule']}"])
    for ln in result.lines:
        writer.writerow([ln.pid, ln.proposal.title if ln.proposal else "",
                         ln.figures["cost_cents"], ln.figures["votes"], ln.figures["score"],
                         int(ln.funded), ln.figures["order"] or "", ln.figures["reason"],
                         int(ln.other_funded)])
    return out.getvalue()


@bp.route("/campagnes/<int:campaign_id>/resultats/<int:envelope_id>.json")
@public
def download_json(campaign_id: int, envelope_id: int):
    """One envelope's count exactly as stored (canonical JSON), with its digests."""
    campaign = _campaign_or_404(campaign_id)
    run = _run_or_404(_envelope_or_404(campaign, envelope_id))
    return _download(_results_json(campaign, run), "application/json",
                     f"resultats-{campaign.id}-{envelope_id}.json")


def _results_json(campaign: Campaign, run) -> str:  # noqa: ANN001
    doc = {"campaign_id": campaign.id, "envelope_id": run.envelope_id, "run_id": run.id,
           "input_digest": run.input_digest, "output_digest": run.output_digest,
           "chain_head": run.chain_head or None,
           "published": run.published_at is not None,
           "titles": {ln.pid: ln.proposal.title for ln in res.envelope_results(
               run, check_chain=False).lines if ln.proposal},
           "count": json.loads(run.output_json)}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1)


@bp.route("/campagnes/<int:campaign_id>/resultats/<int:envelope_id>.pb")
@public
def download_pabulib(campaign_id: int, envelope_id: int):
    """One envelope as a Pabulib file, ballots included (published, 5 ballots or more)."""
    from civic.voting.pabulib_io import export_text

    campaign = _campaign_or_404(campaign_id)
    envelope = _envelope_or_404(campaign, envelope_id)
    run = counting.published_run(envelope)
    if run is None or run.ballots_count < counting.MIN_PUBLISHED:
        abort(404)
    return _download(export_text(envelope), "text/plain; charset=utf-8",
                     f"campagne-{campaign.id}-enveloppe-{envelope_id}.pb")


@bp.route("/campagnes/<int:campaign_id>/donnees-ouvertes.zip")
@public
def open_data_bundle(campaign_id: int):
    """Everything published about a campaign's vote in one zip: per envelope the results
    (CSV, JSON), the Pabulib file and the chained ballot list (when 5 ballots or more), a
    README and the SHA-256 of every file. Same data, same bytes (fixed file dates)."""
    from civic.voting.pabulib_io import export_text

    campaign = _campaign_or_404(campaign_id)
    runs = [(e, counting.published_run(e)) for e in campaign.envelopes]
    runs = [(e, r) for e, r in runs if r is not None]
    if not runs:
        abort(404)
    files: dict[str, str] = {}
    for envelope, run in runs:
        stem = f"enveloppe-{envelope.id}"
        files[f"{stem}/resultats.csv"] = _results_csv(run)
        files[f"{stem}/resultats.json"] = _results_json(campaign, run)
        if run.ballots_count >= counting.MIN_PUBLISHED:
            files[f"{stem}/vote.pb"] = export_text(envelope)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["position", "lookup", "choices", "chain_link"])
            listing = res.ballot_page(run, 1, max(1, run.ballots_count))
            writer.writerows(listing.entries)
            files[f"{stem}/bulletins.csv"] = out.getvalue()
    readme = [f"{campaign.title}", "",
              "Open data of the vote (civic). One folder per envelope:"]
    for envelope, run in runs:
        readme.append(f"- enveloppe-{envelope.id}: {res.envelope_name(envelope)}; "
                      f"{run.ballots_count} ballots; chain head {run.chain_head or '-'}")
    readme += ["", "resultats.csv / resultats.json: the published count (rule, winners, "
               "explanations, greedy vs MES comparison) with its input and output digests.",
               "vote.pb: projects and anonymised ballots in the Pabulib format "
               "(https://pabulib.org/format).",
               "bulletins.csv: the published ballot list, ordered by lookup; each chain_link "
               "is sha256(previous link, lookup, choices); the last one is the chain head "
               "shown on the results page. A voter's lookup is sha256 of their receipt.",
               f"Lists of fewer than {counting.MIN_PUBLISHED} ballots are withheld.",
               "SHA256SUMS: the checksum of every file."]
    files["LISEZMOI.txt"] = "\n".join(readme) + "\n"
    sums = "".join(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}\n"
                   for name, text in sorted(files.items()))
    files["SHA256SUMS"] = sums
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"campagne-{campaign.id}/{name}", (2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    resp = Response(buffer.getvalue(), mimetype="application/zip")
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="campagne-{campaign.id}-donnees-ouvertes.zip"')
    return resp


@bp.route("/campagnes/<int:campaign_id>/bulletins/<int:envelope_id>")
@public
def ballots(campaign_id: int, envelope_id: int):
    """The published, anonymised, chained ballot list of an envelope."""
    campaign = _campaign_or_404(campaign_id)
    envelope = _envelope_or_404(campaign, envelope_id)
    run = counting.published_run(envelope)
    try:
        page = max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        page = 1
    listing = res.ballot_page(run, page, PER_PAGE) if run is not None else None
    if listing is not None and not listing.withheld and not listing.entries and page > 1:
        abort(404)
    titles = {}
    if listing is not None and not listing.withheld:
        titles = {ln.pid: ln.proposal.title for ln in res.envelope_results(
            run, check_chain=False).lines if ln.proposal}
    return render_template("voting/results_ballots.html", campaign=campaign,
                           envelope=envelope, run=run, listing=listing, page=page,
                           per_page=PER_PAGE, titles=titles, name=res.envelope_name,
                           min_published=counting.MIN_PUBLISHED)


def _check_limit() -> str:
    from flask import current_app

    return current_app.config.get("CIVIC_RECEIPT_CHECK_LIMIT", "20 per minute")


@bp.route("/campagnes/<int:campaign_id>/verifier-mon-bulletin", methods=["GET", "POST"])
@limiter.limit(_check_limit, methods=["POST"])
@public
def check_ballot(campaign_id: int):
    """A voter types their receipt: is their ballot in the published list, unchanged?"""
    campaign = _campaign_or_404(campaign_id)
    form = ReceiptForm()
    answer = None
    status = 200
    if form.validate_on_submit():
        try:
            answer = res.check_receipt(campaign, form.receipt.data)
        except res.BadReceipt:
            form.receipt.errors = [_("This is not a receipt code: a receipt has 26 letters and "
                                     "digits.")]
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template("voting/results_check.html", campaign=campaign, form=form,
                           answer=answer, published=counting.is_published(campaign),
                           name=res.envelope_name), status


@bp.app_context_processor
def results_helpers() -> dict:
    """For the campaign page: the full counting rule (declared before the vote)."""
    return {"declared_counting_rule": counting.declared_rule}
