"""Open-data JSON endpoints (GET only, public data only)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from civic.actionplan import services as actionplan
from civic.actionplan.models import Plan, PlanNode
from civic.api.openapi import openapi_document
from civic.councils import cycle
from civic.councils import services as councils
from civic.councils.models import College, CouncilDraw, Meeting
from civic.extensions import db
from civic.permissions import public
from civic.territory.models import Commune, Quartier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_LIMIT = 500
TEXT_MAX = 200  # as declared in the OpenAPI document (TEXT_PARAM)
MAX_OFFSET = 2**31 - 1


def _json(data: Any, status: int = 200) -> Response:
    resp = Response(json.dumps(data, ensure_ascii=False), status=status,
                    mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    if status != 200:
        return resp  # conditions apply to successful answers only (RFC 9110, 13.2.1)
    resp.add_etag()
    return resp.make_conditional(request)


def _error(status: int, message: str) -> Response:
    return _json({"error": message, "status": status}, status)


def _paging() -> tuple[int, int] | Response:
    try:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        return _error(400, "limit and offset must be integers")
    # Offsets past a 32-bit integer overflow SQLite (a 500) and can match nothing anyway.
    if not (1 <= limit <= MAX_LIMIT) or not (0 <= offset <= MAX_OFFSET):
        return _error(400, f"limit must be between 1 and {MAX_LIMIT}, "
                           f"offset between 0 and {MAX_OFFSET}")
    return limit, offset


def quartier_json(q: Quartier) -> dict[str, Any]:
    """Public representation of a quartier."""
    return {
        "code": q.code,
        "name": q.name,
        "commune": q.commune.name,
        "population": q.population,
        "is_priority": q.is_priority,
        "outline": json.loads(q.outline_geojson) if q.outline_geojson else None,
    }


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return _json(openapi_document())


@bp.route("/communes")
@public
def communes():
    """Communes with their quartier codes."""
    rows = db.session.execute(select(Commune).order_by(Commune.name).options(
        selectinload(Commune.quartiers).load_only(Quartier.code))).scalars().all()
    return _json({"items": [
        {"name": c.name, "insee_code": c.insee_code, "quartiers": [q.code for q in c.quartiers]}
        for c in rows
    ]})


@bp.route("/quartiers")
@public
def quartiers():
    """Quartiers, paginated, filterable by commune name and priority flag."""
    paging = _paging()
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    stmt = select(Quartier).join(Commune).options(contains_eager(Quartier.commune))
    commune = request.args.get("commune")
    if commune is not None and len(commune) > TEXT_MAX:
        return _error(400, f"commune must be at most {TEXT_MAX} characters")
    if commune:
        stmt = stmt.where(Commune.name == commune)
    priority = request.args.get("priority")
    if priority is not None:
        if priority not in ("true", "false"):
            return _error(400, "priority must be true or false")
        stmt = stmt.where(Quartier.is_priority.is_(priority == "true"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(
        stmt.order_by(Quartier.code).offset(offset).limit(limit)
    ).scalars().all()
    return _json({"items": [quartier_json(q) for q in rows], "total": total,
                  "limit": limit, "offset": offset})


@bp.route("/quartiers/<code>")
@public
def quartier(code: str):
    """One quartier by its code."""
    if len(code) > TEXT_MAX:
        return _error(400, f"code must be at most {TEXT_MAX} characters")
    q = db.session.execute(
        select(Quartier).where(Quartier.code == code.upper()[:20])
        .options(joinedload(Quartier.commune))
    ).scalar_one_or_none()
    if q is None:
        return _error(404, "no quartier with this code")
    return _json(quartier_json(q))


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def plan_summary_json(plan: Plan, cache: dict[int, float | None]) -> dict[str, Any]:
    """Public summary of a plan."""
    return {
        "id": plan.id,
        "slug": plan.slug,
        "title": plan.title,
        "subtitle": plan.subtitle,
        "territory": plan.territory,
        "period": {"start": plan.period_start, "end": plan.period_end},
        "levels": [{"kind": lv.kind, "label": lv.label} for lv in plan.levels],
        "action_kind": plan.action_kind,
        "progress": _percent(actionplan.plan_progress(plan, cache)),
    }


def node_json(node: PlanNode, cache: dict[int, float | None], children: bool) -> dict[str, Any]:
    """Public representation of a node (with its subtree when ``children``)."""
    data: dict[str, Any] = {
        "id": node.id,
        "kind": node.kind,
        "level": node.level_label,
        "code": node.code,
        "title": node.title,
        "is_action": node.is_action,
        "status": node.status.value if node.is_action else None,
        "weight": node.weight,
        "progress": _percent(actionplan.progress(node, cache)),
    }
    if children:
        data["children"] = [node_json(c, cache, True) for c in node.children]
    return data


@bp.route("/plans")
@public
def plans():
    """Action plans with their overall progress."""
    cache: dict[int, float | None] = {}
    return _json({"items": [plan_summary_json(p, cache) for p in actionplan.list_plans()]})


@bp.route("/plans/<int:plan_id>")
@public
def plan(plan_id: int):
    """One plan with its whole tree: codes, levels, status and progress of every node."""
    the_plan = actionplan.get_plan(plan_id)
    if the_plan is None:
        return _error(404, "no plan with this id")
    cache: dict[int, float | None] = {}
    data = plan_summary_json(the_plan, cache)
    data["source_note"] = the_plan.source_note
    data["publics_prioritaires"] = [{"id": p.id, "label": p.label,
                                     "scope_codes": p.scope_codes.split()}
                                    for p in the_plan.publics]
    data["cross_cutting_tags"] = [{"id": t.id, "label": t.label} for t in the_plan.tags]
    data["nodes"] = [node_json(n, cache, True) for n in actionplan.roots(the_plan)]
    return _json(data)


@bp.route("/actions/<int:action_id>")
@public
def action(action_id: int):
    """One action with its details, indicators (values per year) and timeline."""
    node = actionplan.get_action(action_id)
    if node is None:
        return _error(404, "no action with this id")
    cache: dict[int, float | None] = {}
    data = node_json(node, cache, False)
    data.update({
        "plan_id": node.plan_id,
        "parent_id": node.parent_id,
        "description": node.description,
        "expected_impact": node.impacts,
        "porteur": node.porteur,
        "partners": node.partner_list,
        "period": {"start": node.period_start, "end": node.period_end},
        "budget_cents": node.budget_cents,
        "replaced_by_id": node.replaced_by_id,
        "quartiers": [q.code for q in node.quartiers],
        "publics_prioritaires": [p.label for p in node.publics],
        "tags": [t.label for t in node.tags],
        "indicators": [{
            "id": i.id, "name": i.name, "unit": i.unit, "baseline": i.baseline,
            "baseline_year": i.baseline_year, "source": i.source,
            "values": [{"year": v.year, "target": v.target, "measured": v.measured}
                       for v in i.values],
        } for i in node.indicators],
        "timeline": [{"at": e.at.isoformat() + "Z", "from": e.from_status, "to": e.to_status,
                      "note": e.note} for e in node.history],
        "council_avis": [{"council_id": a.council_id, "council": a.council.name,
                          "opinion": a.opinion.value, "rating": a.rating, "text": a.text,
                          "at": _utc(a.at)} for a in councils.avis_on(node)],
        "evaluations": [{"year": e.year, "outcome": e.outcome.value,
                         "replaced_by_id": e.replaced_by_id, "reasons": e.reasons}
                        for e in cycle.evaluations_of(node)],
    })
    return _json(data)
@bp.route("/bienveilleurs/statistics")
@public
def bienveilleurs_statistics():
    """Bienveilleurs network statistics per quartier for a year; counts under 5 are null."""
    from datetime import date

    from civic.bienveilleurs.services import SUPPRESSION_THRESHOLD, published_statistics

    try:
        year = int(request.args.get("year", date.today().year))
    except ValueError:
        return _error(400, "year must be an integer")
    if not (2000 <= year <= 2100):
        return _error(400, "year must be between 2000 and 2100")
    stats = published_statistics(year)
    db.session.commit()  # the first reading after a period closes publishes it

    def table(rows: dict, code: str) -> dict[str, int | None]:
        return {k: c.value for k, c in rows[code].items()}

    return _json({
        "year": year, "end": stats.end.isoformat(),
        "published_at": _iso(stats.published_at), "revision": stats.revision,
        "suppression_threshold": SUPPRESSION_THRESHOLD, "rounding_base": stats.rounding,
        "quartiers": [{
            "code": q.code, "name": q.name,
            "referrals_by_need": table(stats.by_need, q.code),
            "referrals_by_outcome": table(stats.by_outcome, q.code),
            "median_days_to_contact": stats.median_days_to_contact[q.code],
            "network_by_type": table(stats.network, q.code),
            "conciergerie_by_barrier": table(stats.conciergerie, q.code),
        } for q in stats.quartiers],
    })
# ---------------------------------------------------------------- participatory budget

def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value else None


def campaign_json(c: Any) -> dict[str, Any]:
    """Public representation of a campaign: money in cents, times in UTC."""
    from civic.budgeting.states import DATED_PHASES

    return {
        "id": c.id, "title": c.title, "total_cents": c.total_cents,
        "current_phase": c.phase().value,
        "phases": [{"phase": p.value, "starts_at": _iso(s)}
                   for p, s in zip(DATED_PHASES, c.phase_starts, strict=True)],
        "envelopes": [{"quartier": e.quartier.code if e.quartier else None,
                       "amount_cents": e.amount_cents} for e in c.envelopes],
        "themes": [t.name for t in c.themes],
        "ballot_format": c.ballot_format, "counting_rule": c.counting_rule,
        "settings_frozen": c.settings_frozen,
    }


def proposal_json(p: Any) -> dict[str, Any]:
    """Public fields of a proposal (no author identity beyond the display name)."""
    return {
        "id": p.id, "campaign_id": p.campaign_id, "title": p.title,
        "description": p.description, "status": p.status,
        "quartier": p.quartier.code if p.quartier else None,
        "theme": p.theme.name if p.theme else None,
        "estimated_cost_cents": p.estimated_cost_cents,
        "validated_cost_cents": p.validated_cost_cents,
        "answer": p.answer_public if p.answer_published_at else None,
        "answer_published_at": _iso(p.answer_published_at),
        "submitted_at": _iso(p.submitted_at),
    }


def _public_campaign(campaign_id: int) -> Any:
    from civic.budgeting.models import Campaign
    from civic.budgeting.services import campaign_is_public

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign_is_public(campaign):
        return None
    return campaign


@bp.route("/campaigns")
@public
def campaigns():
    """Participatory-budget campaigns with their envelopes and phases."""
    from civic.budgeting.services import public_campaigns

    return _json({"items": [campaign_json(c) for c in public_campaigns()]})


@bp.route("/campaigns/<int:campaign_id>")
@public
def campaign(campaign_id: int):
    """One campaign."""
    c = _public_campaign(campaign_id)
    if c is None:
        return _error(404, "no public campaign with this id")
    return _json(campaign_json(c))


@bp.route("/campaigns/<int:campaign_id>/proposals")
@public
def campaign_proposals(campaign_id: int):
    """A campaign's public proposals, paginated, filterable by status."""
    from civic.budgeting.models import Proposal
    from civic.budgeting.states import PUBLIC_STATUSES

    c = _public_campaign(campaign_id)
    if c is None:
        return _error(404, "no public campaign with this id")
    paging = _paging()
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    statuses = sorted(s.value for s in PUBLIC_STATUSES)
    stmt = select(Proposal).where(Proposal.campaign_id == c.id,
                                  Proposal.status.in_(statuses))
    status = request.args.get("status")
    if status is not None:
        if status not in statuses:
            return _error(400, "status must be one of: " + ", ".join(statuses))
        stmt = stmt.where(Proposal.status == status)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Proposal.id).offset(offset).limit(limit)).scalars()
    return _json({"items": [proposal_json(p) for p in rows], "total": total,
                  "limit": limit, "offset": offset})


def _utc(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def meeting_json(m: Any) -> dict[str, Any]:
    """Public representation of a meeting (minutes only once approved)."""
    return {
        "id": m.id, "council_id": m.council_id, "starts_at": _utc(m.starts_at),
        "duration_minutes": m.duration_minutes, "location": m.location, "agenda": m.agenda,
        "convened": m.convened_at is not None,
        "attendance": {"present": sum(1 for a in m.attendance if a.present),
                       "members": len(m.attendance)} if m.attendance else None,
        "minutes": m.minutes if m.minutes_approved_at else None,
        "minutes_approved_at": _utc(m.minutes_approved_at),
    }


def council_json(c: Any, full: bool) -> dict[str, Any]:
    """Public information of a council: members' published names only, rules checked."""
    members = councils.current_members(c)
    data: dict[str, Any] = {
        "id": c.id, "name": c.name, "quartier": c.quartier.code if c.quartier else None,
        "members": {college.value: len([m for m in members if m.college == college])
                    for college in College},
        "rules": [{"rule": r.rule, "ok": r.ok, "detail": r.detail}
                  for r in councils.rule_checks(c)],
    }
    if full:
        data["description"] = c.description
        data["member_list"] = [{"name": m.published_name, "college": m.college.value,
                                "organisation": m.organisation or None,
                                "drawn": m.draw_id is not None,
                                "term_start": m.term_start.isoformat(),
                                "term_end": m.term_end.isoformat() if m.term_end else None}
                               for m in members]
        data["draws"] = [{"id": d.id, "at": _utc(d.at), "seed": d.seed, "seats": d.seats,
                          **councils.draw_report(d)}
                         for d in db.session.execute(select(CouncilDraw).where(
                             CouncilDraw.council_id == c.id).order_by(CouncilDraw.id)).scalars()]
        data["avis"] = [{"action_id": a.node_id, "opinion": a.opinion.value, "rating": a.rating,
                         "text": a.text, "at": _utc(a.at)} for a in councils.avis_of(c)]
    return data


@bp.route("/councils")
@public
def councils_list():
    """Councils with their quartier, member counts per collège and the rules checked."""
    return _json({"items": [council_json(c, False) for c in councils.list_councils()]})


@bp.route("/councils/<int:council_id>")
@public
def council(council_id: int):
    """One council: published member names, draw reports, avis."""
    c = councils.get_council(council_id)
    if c is None:
        return _error(404, "no council with this id")
    return _json(council_json(c, True))


@bp.route("/meetings")
@public
def meetings():
    """Council meetings, latest first, paginated; filter by council id."""
    paging = _paging()
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    stmt = select(Meeting)
    council_id = request.args.get("council")
    if council_id is not None:
        try:
            council_number = int(council_id)
        except ValueError:
            return _error(400, "council must be an integer")
        if not 0 <= council_number <= MAX_OFFSET:
            return _error(400, "council out of range")
        stmt = stmt.where(Meeting.council_id == council_number)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Meeting.starts_at.desc(), Meeting.id)
                              .offset(offset).limit(limit)).scalars().all()
    return _json({"items": [meeting_json(m) for m in rows], "total": total,
                  "limit": limit, "offset": offset})


@bp.route("/calls")
@public
def calls():
    """Yearly calls for projects: criteria, applications, councils' avis and decisions."""
    return _json({"items": [{
        "id": c.id, "plan_id": c.plan_id, "year": c.year, "title": c.title,
        "criteria": c.criteria_list, "max_cofinancing_percent": c.max_cofinancing_percent,
        "closes_on": c.closes_on.isoformat(),
        "applications": [{
            "id": a.id, "porteur": a.porteur, "title": a.title,
            "quartier": a.quartier.code if a.quartier else None,
            "budget_cents": a.budget_cents, "requested_cents": a.requested_cents,
            "avis": [{"council_id": v.council_id, "opinion": v.opinion.value, "text": v.text}
                     for v in a.avis],
            "decision": a.decision.value if a.decision else None,
            "decision_reasons": a.decision_reasons if a.decision else None,
        } for a in c.applications],
    } for c in cycle.list_calls()]})


# ---------------------------------------------------------------- vote results (issue 5)

def _results_envelope_json(run: Any) -> dict[str, Any]:
    """One envelope's published count: rule, winners, explanations, digests."""
    from civic.voting.results import envelope_results

    r = envelope_results(run, check_chain=False)
    doc = r.document
    return {
        "envelope_id": r.envelope.id,
        "quartier": r.envelope.quartier.code if r.envelope.quartier else None,
        "budget_cents": doc["budget_cents"], "rule": doc["rule"],
        "completion": doc["completion"], "tie_break": doc["tie_break"],
        "vote_type": doc["vote_type"], "ballots": doc["ballots"],
        "total_cost_cents": doc["total_cost_cents"],
        "winners": [{"proposal_id": int(ln.pid), "title": ln.proposal.title if ln.proposal
                     else "", "cost_cents": ln.figures["cost_cents"],
                     "votes": ln.figures["votes"], "score": ln.figures["score"]}
                    for ln in r.winners],
        "explanations": [{"proposal_id": int(ln.pid), "funded": ln.funded,
                          "reason": ln.figures["reason"], "text": ln.explanation,
                          "cost_cents": ln.figures["cost_cents"], "votes": ln.figures["votes"],
                          "score": ln.figures["score"], "order": ln.figures["order"],
                          "funded_by_other_rule": ln.other_funded} for ln in r.lines],
        "comparison": [{"rule": side["rule"], "projects": side["projects"],
                        "total_cost_cents": side["total_cost_cents"],
                        "voters": side["voters"],
                        "voters_with_a_funded_choice": side["satisfied"]}
                       for side in r.comparison],
        "input_digest": run.input_digest, "output_digest": run.output_digest,
        "chain_head": run.chain_head, "published_at": _iso(run.published_at),
    }


@bp.route("/campaigns/<int:campaign_id>/results")
@public
def campaign_results(campaign_id: int):
    """A campaign's published results, per envelope (empty until published)."""
    from civic.voting.count import published_run

    c = _public_campaign(campaign_id)
    if c is None:
        return _error(404, "no public campaign with this id")
    runs = [published_run(e) for e in c.envelopes]
    return _json({"campaign_id": c.id, "published": any(runs),
                  "envelopes": [_results_envelope_json(r) for r in runs if r is not None]})


@bp.route("/campaigns/<int:campaign_id>/ballots")
@public
def campaign_ballots(campaign_id: int):
    """The published, anonymised ballots of one envelope (default: city-wide), ordered by
    lookup, each with its hash-chain link; withheld under 5 ballots."""
    from civic.voting.ballots import chain, parse_choices
    from civic.voting.count import MIN_PUBLISHED, published_entries, published_run

    c = _public_campaign(campaign_id)
    if c is None:
        return _error(404, "no public campaign with this id")
    paging = _paging()
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    raw = request.args.get("envelope")
    if raw is None:
        envelope = c.envelope_for(None) or (c.envelopes[0] if c.envelopes else None)
    else:
        try:
            wanted = int(raw)
        except ValueError:
            return _error(400, "envelope must be an integer")
        envelope = next((e for e in c.envelopes if e.id == wanted), None)
    if envelope is None:
        return _error(404, "no envelope with this id in this campaign")
    run = published_run(envelope)
    if run is None:
        return _error(404, "the ballots of this envelope are not published")
    entries = published_entries(envelope)
    withheld = len(entries) < MIN_PUBLISHED
    items = []
    if not withheld and offset < len(entries):
        links = chain(entries[:offset + limit])
        for i, (lookup, choices) in enumerate(entries[offset:offset + limit]):
            points = parse_choices(choices)
            items.append({"position": offset + i + 1, "lookup": lookup, "choices": choices,
                          "projects": [{"proposal_id": pid, "points": n}
                                       for pid, n in sorted(points.items())],
                          "chain_link": links[offset + i]})
    return _json({"campaign_id": c.id, "envelope_id": envelope.id, "withheld": withheld,
                  "chain_head": run.chain_head, "total": len(entries), "items": items,
                  "limit": limit, "offset": offset})


@bp.errorhandler(404)
def api_404(_exc: Exception) -> Response:
    """JSON errors inside the API."""
    return _error(404, "not found")
