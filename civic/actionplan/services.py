"""Action-plan services: seed import, status changes, indicators, progress, filters.

Services validate, change state and flush; the view (or the CLI) commits once (STYLE.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civic.accounts.services import AccountError
from civic.actionplan.models import (
    Indicator,
    IndicatorBreakdown,
    IndicatorValue,
    Participation,
    Plan,
    PlanLevel,
    PlanNode,
    PlanPublic,
    PlanTag,
    StatusChange,
)
from civic.actionplan.seed_data import SeedPlan, iter_nodes, load_seed_plans
from civic.actionplan.states import (
    STATUS_PROGRESS,
    TRANSITIONS,
    ActionStatus,
    ParticipationStage,
)
from civic.audit import audit
from civic.extensions import db
from civic.forms import digits
from civic.permissions import user_can
from civic.territory.models import Quartier
from civic.timeutil import utcnow

MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_ABS_VALUE = 1e12


class ActionPlanError(AccountError):
    """A refused change to the action plan; ``field`` names the form field concerned."""


# --- import -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import created or updated, per plan slug."""

    plans_created: int = 0
    plans_updated: int = 0
    nodes_created: int = 0
    nodes_updated: int = 0
    per_plan: dict[str, dict[str, int]] = field(default_factory=dict)


def _sync_children(plan: Plan, model: type, existing: list, wanted: list[dict[str, Any]]) -> list:
    """Update rows keyed by ``key`` in place, add the missing ones, drop the others."""
    by_key = {row.key: row for row in existing}
    rows = []
    for position, values in enumerate(wanted):
        row = by_key.pop(values["key"], None)
        if row is None:
            row = model(plan=plan, **values, position=position)
            db.session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.position = position
        rows.append(row)
    for row in by_key.values():
        db.session.delete(row)
    return rows


@dataclass(frozen=True)
class PlanImport:
    """The outcome of importing one seed plan."""

    plan: Plan
    created: bool
    changed: bool
    nodes_created: int
    nodes_changed: int


def import_plan(seed: SeedPlan) -> PlanImport:
    """Create or update one plan from a seed, keyed by its slug and each node's seed key.

    Only the transcribed fields (titles, codes, descriptions…) are overwritten: what the
    city recorded since (status, porteur, indicators, quartiers) is kept.
    """
    plan = db.session.execute(select(Plan).where(Plan.slug == seed.slug)).scalar_one_or_none()
    created = plan is None
    if plan is None:
        plan = Plan(slug=seed.slug, action_kind=seed.levels[-1].kind)
        db.session.add(plan)
    plan.title = seed.title
    plan.subtitle = seed.subtitle
    plan.territory = seed.territory
    plan.period_start = seed.period.start if seed.period else None
    plan.period_end = seed.period.end if seed.period else None
    plan.period_note = seed.period.note if seed.period else None
    plan.source_note = seed.source_note
    plan.publics_note = seed.publics_note
    announced = (seed.metadata or {}).get("announced_action_count")
    plan.announced_actions = announced if isinstance(announced, int) else None
    plan.action_kind = seed.levels[-1].kind
    changed = not created and db.session.is_modified(plan)
    # Levels are keyed by kind.
    by_kind = {lv.kind: lv for lv in plan.levels}
    for position, level in enumerate(seed.levels):
        row = by_kind.get(level.kind)
        if row is None:
            plan.levels.append(PlanLevel(kind=level.kind, label=level.label, position=position))
        else:
            row.label, row.position = level.label, position
    publics = _sync_children(plan, PlanPublic, list(plan.publics), [
        {"key": p.id, "label": p.label, "source_text": p.source_text,
         "scope_codes": " ".join(p.scope_codes)} for p in seed.publics_prioritaires
    ])
    tags = _sync_children(plan, PlanTag, list(plan.tags), [
        {"key": t.id, "label": t.label, "source_text": t.source_text}
        for t in seed.cross_cutting_tags
    ])
    db.session.flush()
    publics_by_key = {p.key: p for p in publics}
    tags_by_key = {t.key: t for t in tags}
    existing = {n.key: n for n in plan.nodes}
    keys: dict[int, str] = {}  # id(seed node) -> key, to find parents
    nodes_by_key: dict[str, PlanNode] = {}
    new = updated = 0
    # No autoflush while walking: it would flush each change before is_modified sees it.
    with db.session.no_autoflush:
        for visit in iter_nodes(seed):
            new, updated = _import_node(plan, seed, visit, existing, nodes_by_key, keys,
                                        publics_by_key, tags_by_key, new, updated)
    db.session.flush()
    return PlanImport(plan, created, changed, new, updated)


def _import_node(plan: Plan, seed: SeedPlan, visit: Any, existing: dict[str, PlanNode],
                 nodes_by_key: dict[str, PlanNode], keys: dict[int, str],
                 publics_by_key: dict[str, PlanPublic], tags_by_key: dict[str, PlanTag],
                 new: int, updated: int) -> tuple[int, int]:
    """Create or refresh one node from its seed visit; returns the updated counters."""
    seed_node = visit.node
    keys[id(seed_node)] = visit.key
    node = existing.get(visit.key)
    if node is None:
        node = PlanNode(plan=plan, key=visit.key)
        db.session.add(node)
        new += 1
    siblings = visit.parent.children if visit.parent is not None else seed.nodes
    node.parent = nodes_by_key[keys[id(visit.parent)]] if visit.parent is not None else None
    node.position = next(i for i, s in enumerate(siblings) if s is seed_node)
    node.kind = seed_node.kind
    node.code = seed_node.code
    node.printed_code = seed_node.printed_code
    node.title = seed_node.title
    node.short_title = seed_node.short_title
    node.description = seed_node.description
    node.expected_impact = "\n".join(seed_node.expected_impact)
    node.note = seed_node.note
    # Add the seed's publics and tags; keep those the city added since.
    for public in (publics_by_key[k] for k in seed_node.publics):
        if public not in node.publics:
            node.publics.append(public)
    for tag in (tags_by_key[k] for k in seed_node.tags):
        if tag not in node.tags:
            node.tags.append(tag)
    nodes_by_key[visit.key] = node
    if visit.key in existing and db.session.is_modified(node):
        updated += 1
    return new, updated


def import_seed_plans(seeds: Iterable[SeedPlan] | None = None) -> ImportReport:
    """Import the shipped seed frameworks; running it again changes nothing."""
    report = ImportReport()
    for seed in load_seed_plans() if seeds is None else seeds:
        result = import_plan(seed)
        report.plans_created += int(result.created)
        report.plans_updated += int(result.changed)
        report.nodes_created += result.nodes_created
        report.nodes_updated += result.nodes_changed
        counts: dict[str, int] = {lv.kind: 0 for lv in seed.levels}
        for visit in iter_nodes(seed):
            counts[visit.node.kind] += 1
        report.per_plan[seed.slug] = counts
    return report


# --- status -----------------------------------------------------------------------------


def parse_status(value: str) -> ActionStatus:
    """The status named by a form value, or a translated refusal."""
    try:
        return ActionStatus(value)
    except ValueError as exc:
        raise ActionPlanError(_("Choose a status from the list."), "status") from exc


def transition_refusal(action: PlanNode, new_status: ActionStatus) -> str | None:
    """Why the action cannot move to ``new_status`` (None when it can)."""
    if not action.is_action:
        return _("Only actions have a status.")
    if new_status == action.status:
        return _("The action already has this status.")
    if new_status not in TRANSITIONS[action.status]:
        allowed = [s.title for s in ActionStatus if s in TRANSITIONS[action.status]]
        if not allowed:
            return _("A %(status)s action is closed: its status can no longer change.",
                     status=action.status.title.lower())
        return _("A %(status)s action can only become: %(allowed)s.",
                 status=action.status.title.lower(),
                 allowed=", ".join(a.lower() for a in allowed))
    return None


def change_status(
    actor: Any,
    action: PlanNode,
    new_status: ActionStatus,
    note: str,
    replaced_by: PlanNode | None = None,
) -> StatusChange:
    """Move an action to a new status through the transition table, with a timeline entry."""
    refusal = transition_refusal(action, new_status)
    if refusal:
        raise ActionPlanError(refusal, "status")
    if new_status == ActionStatus.REPLACED:
        if replaced_by is None:
            raise ActionPlanError(_("Choose the action that replaces this one."), "replaced_by")
        if (replaced_by.id == action.id or replaced_by.plan_id != action.plan_id
                or not replaced_by.is_action):
            raise ActionPlanError(_("Choose another action of the same plan."), "replaced_by")
        if replaced_by.status in (ActionStatus.REPLACED, ActionStatus.ABANDONED):
            raise ActionPlanError(
                _("The replacing action must not itself be replaced or abandoned."),
                "replaced_by")
    elif replaced_by is not None:
        raise ActionPlanError(_("Only a replaced action names the action that replaces it."),
                              "replaced_by")
    note = (note or "").strip()
    if len(note) > 2000:
        raise ActionPlanError(_("Keep the note under %(num)d characters.", num=2000), "note")
    entry = StatusChange(
        node=action,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "display_name", "") or "",
        from_status=action.status.value,
        to_status=new_status.value,
        note=note,
    )
    db.session.add(entry)
    action.status = new_status
    action.replaced_by = replaced_by if new_status == ActionStatus.REPLACED else None
    audit(actor, "actionplan.status",
          detail=f"{action.plan.slug} {action.code or action.key}: "
                 f"{entry.from_status} -> {entry.to_status}"
                 + (f" (replaced by {replaced_by.code or replaced_by.key})" if replaced_by
                    else ""))
    db.session.flush()
    return entry


# --- action details ---------------------------------------------------------------------


def update_action(
    actor: Any,
    action: PlanNode,
    *,
    porteur: str | None,
    partners: str,
    period_start: int | None,
    period_end: int | None,
    budget_cents: int | None,
    quartier_ids: list[int],
    public_ids: list[int],
    tag_ids: list[int],
) -> None:
    """Record who carries an action, with whom, when, for how much, where and for whom."""
    if not action.is_action:
        raise ActionPlanError(_("Only actions have a porteur, a budget and quartiers."))
    for name, year in (("period_start", period_start), ("period_end", period_end)):
        if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
            raise ActionPlanError(_("Enter a year between %(a)d and %(b)d.", a=MIN_YEAR,
                                    b=MAX_YEAR), name)
    if period_start and period_end and period_start > period_end:
        raise ActionPlanError(_("The period cannot end before it starts."), "period_end")
    if budget_cents is not None and budget_cents < 0:
        raise ActionPlanError(_("The budget cannot be negative."), "budget")
    quartiers = list(db.session.execute(
        select(Quartier).where(Quartier.id.in_(quartier_ids))).scalars()) if quartier_ids else []
    if len(quartiers) != len(set(quartier_ids)):
        raise ActionPlanError(_("Choose quartiers from the list."), "quartiers")
    publics = [p for p in action.plan.publics if p.id in set(public_ids)]
    if len(publics) != len(set(public_ids)):
        raise ActionPlanError(_("Choose publics from the plan's list."), "publics")
    tags = [t for t in action.plan.tags if t.id in set(tag_ids)]
    if len(tags) != len(set(tag_ids)):
        raise ActionPlanError(_("Choose themes from the plan's list."), "tags")
    action.porteur = (porteur or "").strip()[:160] or None
    action.partners = "\n".join(p.strip() for p in (partners or "").splitlines() if p.strip())
    action.period_start, action.period_end = period_start, period_end
    action.budget_cents = budget_cents
    action.quartiers = quartiers
    action.publics = publics
    action.tags = tags
    audit(actor, "actionplan.action", detail=f"{action.plan.slug} {action.code or action.key}: "
                                             "details updated")
    db.session.flush()


def clean_source_url(url: str | None) -> str | None:
    """A link to where an action comes from: a path on this site or an http(s) address."""
    url = (url or "").strip()
    if not url:
        return None
    if len(url) > 500 or not url.isprintable() or " " in url or not (
            (url.startswith("/") and not url.startswith("//"))
            or url.startswith(("https://", "http://"))):
        raise ActionPlanError(_("Give a link starting with / or https://."), "source_url")
    return url


def add_action(
    actor: Any, plan: Plan, parent: PlanNode | None, *, title: str, key: str | None = None,
    code: str | None = None, description: str | None = None,
    expected_impact: Iterable[str] = (), porteur: str | None = None,
    budget_cents: int | None = None, period_start: int | None = None,
    period_end: int | None = None, quartier_ids: Iterable[int] = (),
    source_url: str | None = None,
) -> PlanNode:
    """Add an action at the end of a branch of a plan (or at its top level).

    For other domains that create actions (a winning participatory-budget project whose
    realisation is then followed here): give a stable ``key`` (e.g. ``budget-2026-p12``)
    so that a second call is refused instead of creating a duplicate, and ``source_url``
    to link back to where the action comes from. The action starts as planned.
    """
    if parent is not None and (parent.plan_id != plan.id or parent.is_action):
        raise ActionPlanError(_("Choose a branch of the same plan, not an action."), "parent")
    title = (title or "").strip()
    if not title:
        raise ActionPlanError(_("Give the action's title."), "title")
    siblings = [n for n in plan.nodes if n.parent is parent]
    existing = {n.key for n in plan.nodes}
    if not (key or "").strip():
        number = len(siblings) + 1
        while f"{parent.key if parent else plan.slug}#{number}" in existing:
            number += 1
        key = f"{parent.key if parent else plan.slug}#{number}"
    key = key.strip()
    if key in existing or len(key) > 120:
        raise ActionPlanError(_("The plan already has a node with the key %(key)s.", key=key),
                              "key")
    code = (code or "").strip() or None
    if code and (len(code) > 40 or any(n.code == code for n in plan.nodes)):
        raise ActionPlanError(_("The plan already has a node with the code %(key)s.", key=code),
                              "code")
    action = PlanNode(plan=plan, parent=parent, key=key, kind=plan.action_kind, code=code,
                      title=title, description=(description or "").strip() or None,
                      expected_impact="\n".join(i.strip() for i in expected_impact
                                                if i.strip()),
                      position=max((n.position for n in siblings), default=-1) + 1,
                      status=ActionStatus.PLANNED, source_url=clean_source_url(source_url))
    db.session.add(action)
    db.session.flush()
    update_action(actor, action, porteur=porteur, partners="", period_start=period_start,
                  period_end=period_end, budget_cents=budget_cents,
                  quartier_ids=list(quartier_ids), public_ids=[], tag_ids=[])
    audit(actor, "actionplan.add_action",
          detail=f"{plan.slug} {key}: {title[:80]}" + (f" ({source_url})" if source_url else ""))
    return action


# --- indicators -------------------------------------------------------------------------


def parse_number(text: str | float | int | None, field_name: str) -> float | None:
    """A decimal number typed by a person (comma or point), None when empty."""
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        cleaned = str(text).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if not cleaned:
            return None
        try:
            value = float(cleaned.replace(",", "."))
        except ValueError as exc:
            raise ActionPlanError(_("Enter a number, for example 12 or 12,5."),
                                  field_name) from exc
    if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
        raise ActionPlanError(_("Enter a number, for example 12 or 12,5."), field_name)
    return value


def add_indicator(
    actor: Any, action: PlanNode, *, name: str, unit: str, baseline: str | float | None,
    baseline_year: int | None, source: str,
) -> Indicator:
    """Attach an indicator (what is measured, its unit, baseline and source) to an action."""
    if not action.is_action:
        raise ActionPlanError(_("Only actions have indicators."))
    name, unit = (name or "").strip(), (unit or "").strip()
    if not name:
        raise ActionPlanError(_("Name what is measured."), "name")
    if not unit:
        raise ActionPlanError(_("Give the unit, for example people or %."), "unit")
    if baseline_year is not None and not MIN_YEAR <= baseline_year <= MAX_YEAR:
        raise ActionPlanError(_("Enter a year between %(a)d and %(b)d.", a=MIN_YEAR, b=MAX_YEAR),
                              "baseline_year")
    indicator = Indicator(node=action, name=name[:255], unit=unit[:40],
                          baseline=parse_number(baseline, "baseline"),
                          baseline_year=baseline_year, source=(source or "").strip()[:255])
    db.session.add(indicator)
    audit(actor, "actionplan.indicator",
          detail=f"{action.plan.slug} {action.code or action.key}: indicator {indicator.name!r}")
    db.session.flush()
    return indicator


def record_indicator_value(
    actor: Any, indicator: Indicator, *, year: int | None, target: str | float | None,
    measured: str | float | None,
) -> IndicatorValue:
    """Set an indicator's target and/or measured value for a year (numbers only)."""
    return _record_yearly(
        actor, indicator, IndicatorValue, {}, year=year, target=target, measured=measured,
        detail=f"indicator {indicator.id} {year}")


def record_breakdown(
    actor: Any, indicator: Indicator, public: PlanPublic | None, *, year: int | None,
    target: str | float | None, measured: str | float | None,
) -> IndicatorBreakdown:
    """Set an indicator's target and/or measured value for a year and one public prioritaire.

    The public must be one of the plan's publics; the whole-population value stays apart.
    """
    if public is None or public.plan_id != indicator.node.plan_id:
        raise ActionPlanError(_("Choose a public from the plan's list."), "public")
    return _record_yearly(
        actor, indicator, IndicatorBreakdown, {"public": public}, year=year, target=target,
        measured=measured, detail=f"indicator {indicator.id} {year} public {public.key}")


def _record_yearly(actor: Any, indicator: Indicator, model: type, keys: dict[str, Any], *,
                   year: int | None, target: str | float | None, measured: str | float | None,
                   detail: str) -> Any:
    """Upsert one year's row of `model` (IndicatorValue or IndicatorBreakdown) for the
    indicator and `keys`. An empty field keeps what was recorded before (a target set in
    January, measured later); audited."""
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        raise ActionPlanError(_("Enter a year between %(a)d and %(b)d.", a=MIN_YEAR, b=MAX_YEAR),
                              "year")
    target_value = parse_number(target, "target")
    measured_value = parse_number(measured, "measured")
    if target_value is None and measured_value is None:
        raise ActionPlanError(_("Enter a target, a measured value, or both."), "measured")
    where = [model.indicator_id == indicator.id, model.year == year]
    where += [getattr(model, f"{name}_id") == obj.id for name, obj in keys.items()]
    row = db.session.execute(select(model).where(*where)).scalar_one_or_none()
    if row is None:
        row = model(indicator=indicator, year=year, **keys)
        db.session.add(row)
    if target_value is not None:
        row.target = target_value
    if measured_value is not None:
        row.measured = measured_value
    row.recorded_at = utcnow()
    row.recorded_by_id = getattr(actor, "id", None)
    audit(actor, "actionplan.indicator_value",
          detail=f"{detail}: target={row.target} measured={row.measured}")
    db.session.flush()
    return row


@dataclass(frozen=True)
class BreakdownTable:
    """An indicator's values per year (rows) and public (columns), for an accessible table."""

    years: list[int]
    publics: list[PlanPublic]
    cells: dict[tuple[int, int], IndicatorBreakdown]  # (year, public id) -> values
    overall: dict[int, IndicatorValue]  # year -> whole-population values


def breakdown_table(indicator: Indicator) -> BreakdownTable | None:
    """The indicator's values per public prioritaire (None when none was recorded)."""
    if not indicator.breakdowns:
        return None
    publics = sorted({b.public for b in indicator.breakdowns}, key=lambda p: p.position)
    cells = {(b.year, b.public_id): b for b in indicator.breakdowns}
    years = sorted({b.year for b in indicator.breakdowns})
    return BreakdownTable(years, publics, cells,
                          {v.year: v for v in indicator.values if v.year in years})


def public_of(action: PlanNode, public_id: int | None) -> PlanPublic | None:
    """One of the plan's publics by id (None when none was chosen)."""
    if public_id is None:
        return None
    public = next((p for p in action.plan.publics if p.id == public_id), None)
    if public is None:
        raise ActionPlanError(_("Choose a public from the plan's list."), "public")
    return public


# --- residents' participation -----------------------------------------------------------

MAX_PARTICIPANTS = 1_000_000


def parse_stage(value: str | None) -> ParticipationStage:
    """The participation stage named by a form value, or a translated refusal."""
    try:
        return ParticipationStage(value)
    except ValueError as exc:
        raise ActionPlanError(_("Choose at the start, at the heart or at the end."),
                              "stage") from exc


def record_participation(
    actor: Any, action: PlanNode, *, stage: str | None, held_on: date | None,
    participants: int | None, description: str | None,
) -> Participation:
    """Record what residents did at one stage of an action, when, and how many took part.

    Le Havre Ensemble asks that residents be involved « au début, au cœur, et à la fin des
    actions »; the three stages are recorded separately so that a missing one shows.
    """
    if not action.is_action:
        raise ActionPlanError(_("Only actions record residents' participation."))
    the_stage = parse_stage(stage)
    if held_on is None or not MIN_YEAR <= held_on.year <= MAX_YEAR:
        raise ActionPlanError(_("Enter the date, for example 2026-03-14."), "held_on")
    if participants is None or not 0 <= participants <= MAX_PARTICIPANTS:
        raise ActionPlanError(_("Enter how many residents took part (0 or more)."),
                              "participants")
    text = (description or "").strip()
    if not text:
        raise ActionPlanError(_("Say what residents did."), "description")
    if len(text) > 4000:
        raise ActionPlanError(_("Keep the note under %(num)d characters.", num=4000),
                              "description")
    entry = Participation(node=action, stage=the_stage, held_on=held_on,
                          participants=participants, description=text,
                          recorded_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    audit(actor, "actionplan.participation",
          detail=f"{action.plan.slug} {action.code or action.key}: {the_stage.value} "
                 f"{held_on.isoformat()} ({participants})")
    db.session.flush()
    return entry


@dataclass(frozen=True)
class StageSummary:
    """One stage of an action's participation: its records and how many took part."""

    stage: ParticipationStage
    entries: list[Participation]

    @property
    def participants(self) -> int:
        """Total participants over the stage's records."""
        return sum(e.participants for e in self.entries)


def participation_by_stage(action: PlanNode) -> list[StageSummary]:
    """The action's participation records grouped by stage, in the stages' order."""
    return [StageSummary(stage, [e for e in action.participations if e.stage == stage])
            for stage in ParticipationStage]


# --- progress ---------------------------------------------------------------------------


def indicator_progress(indicator: Indicator) -> float | None:
    """Percent reached in the latest year with both a target and a measured value.

    With a baseline: (measured − baseline) / (target − baseline), so a target to lower
    (unemployment from 30 % to 20 %) works too; without one: measured / target.
    Clamped to 0–100.
    """
    for value in sorted(indicator.values, key=lambda v: v.year, reverse=True):
        reached = reached_percent(indicator, value.target, value.measured)
        if reached is not None:
            return reached
    return None


def reached_percent(indicator: Indicator, target: float | None, measured: float | None
                    ) -> float | None:
    """How much of one year's target was reached, by the rule of indicator_progress."""
    if target is None or measured is None:
        return None
    base = indicator.baseline
    if base is not None and target != base:
        ratio = (measured - base) / (target - base)
    elif target != 0:
        ratio = measured / target
    else:
        return None
    return max(0.0, min(100.0, ratio * 100))


def action_progress(action: PlanNode) -> float | None:
    """An action's progress from its status, or its indicators while it is under way."""
    default = STATUS_PROGRESS[action.status]
    if default is None:
        return None
    if action.status in (ActionStatus.IN_PROGRESS, ActionStatus.EVOLVED):
        measured = [p for p in map(indicator_progress, action.indicators) if p is not None]
        if measured:
            return sum(measured) / len(measured)
    return float(default)


def progress(node: PlanNode, _cache: dict[int, float | None] | None = None) -> float | None:
    """Progress of a node in percent, rolled up the tree (None: nothing to measure).

    An action: its status (prévue 0, en cours / évoluée 50 or its indicators, réalisée 100;
    remplacée and abandonnée are left out). Any other node: the mean of its children's
    progress weighted by their weight (1 unless set), ignoring children without progress.
    """
    cache = {} if _cache is None else _cache
    if node.id in cache:
        return cache[node.id]
    if node.is_action:
        result = action_progress(node)
    else:
        total = weights = 0.0
        for child in node.children:
            child_progress = progress(child, cache)
            if child_progress is None or child.weight <= 0:
                continue
            total += child_progress * child.weight
            weights += child.weight
        result = total / weights if weights else None
    cache[node.id] = result
    return result


def plan_progress(plan: PlanNode | Plan, cache: dict[int, float | None] | None = None
                  ) -> float | None:
    """Progress of a whole plan: the weighted mean of its top-level nodes."""
    cache = {} if cache is None else cache
    total = weights = 0.0
    for node in roots(plan):
        p = progress(node, cache)
        if p is None or node.weight <= 0:
            continue
        total += p * node.weight
        weights += node.weight
    return total / weights if weights else None


def roots(plan: Any) -> list[PlanNode]:
    """Top-level nodes of a plan, in order."""
    return sorted((n for n in plan.nodes if n.parent is None), key=lambda n: n.position)


# --- reading ----------------------------------------------------------------------------


def list_plans() -> list[Plan]:
    """Every plan, by title."""
    return list(db.session.execute(select(Plan).order_by(Plan.title)).scalars())


# Ids arrive from URLs; beyond a 32-bit integer no row can match (and SQLite would overflow).
MAX_ID = 2**31 - 1


def get_node(node_id: int) -> PlanNode | None:
    """The node with this id, if any."""
    return db.session.get(PlanNode, node_id) if 0 < node_id <= MAX_ID else None


def get_plan(plan_id: int) -> Plan | None:
    """A plan with its whole tree loaded in a few queries (for pages and the API)."""
    if not 0 < plan_id <= MAX_ID:
        return None
    return db.session.execute(
        select(Plan).where(Plan.id == plan_id).options(
            selectinload(Plan.levels),
            selectinload(Plan.nodes).selectinload(PlanNode.children),
            selectinload(Plan.nodes).selectinload(PlanNode.quartiers),
            selectinload(Plan.nodes).selectinload(PlanNode.publics),
            selectinload(Plan.nodes).selectinload(PlanNode.tags),
            selectinload(Plan.nodes).selectinload(PlanNode.indicators)
            .selectinload(Indicator.values),
            selectinload(Plan.nodes).selectinload(PlanNode.indicators)
            .selectinload(Indicator.breakdowns),
            selectinload(Plan.nodes).selectinload(PlanNode.participations),
        )
    ).scalar_one_or_none()


def get_action(node_id: int) -> PlanNode | None:
    """The action with this id (None for unknown ids and for nodes that are not actions)."""
    node = get_node(node_id)
    return node if node is not None and node.is_action else None


# --- porteurs -----------------------------------------------------------------------------


def can_update_action(user: Any, node: PlanNode | None) -> bool:
    """True if the user may update this action: the coordination team (actionplan.manage),
    or a porteur whose grant is scoped to this very action."""
    if node is None or not node.is_action or not getattr(user, "is_authenticated", False):
        return False
    if user_can(user, "actionplan.manage"):
        return True
    return user.has_role("porteur", node.id)


def actions_of_porteur(user: Any) -> list[PlanNode]:
    """The actions a porteur's grants are scoped to, plan by plan, in the plan's order."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids = user.scopes("porteur")
    if not ids:
        return []
    nodes = db.session.execute(select(PlanNode).where(PlanNode.id.in_(ids))).scalars().all()
    return sorted((n for n in nodes if n.is_action), key=lambda n: (n.plan_id, n.key, n.id))


@dataclass(frozen=True)
class ActionFilter:
    """Which actions a visitor wants to see; empty fields do not filter."""

    quartier_id: int | None = None
    public_id: int | None = None
    status: ActionStatus | None = None
    porteur: str | None = None

    @property
    def active(self) -> bool:
        """True when at least one criterion is set."""
        return any(v is not None for v in (self.quartier_id, self.public_id, self.status,
                                           self.porteur))

    def matches(self, action: PlanNode) -> bool:
        """True when the action meets every criterion."""
        if self.status is not None and action.status != self.status:
            return False
        if self.porteur is not None and action.porteur != self.porteur:
            return False
        if self.quartier_id is not None and self.quartier_id not in {
                q.id for q in action.quartiers}:
            return False
        return self.public_id is None or self.public_id in {p.id for p in action.publics}


def matching_actions(plan: Plan, criteria: ActionFilter) -> list[PlanNode]:
    """The plan's actions that meet the criteria."""
    return [n for n in plan.nodes if n.is_action and criteria.matches(n)]


def visible_nodes(plan: Plan, criteria: ActionFilter) -> set[int] | None:
    """Ids of the nodes to show: matching actions and their ancestors (None: no filter)."""
    if not criteria.active:
        return None
    by_id = {n.id: n for n in plan.nodes}
    keep: set[int] = set()
    for node in matching_actions(plan, criteria):
        current: PlanNode | None = node
        while current is not None and current.id not in keep:
            keep.add(current.id)
            current = by_id.get(current.parent_id) if current.parent_id else None
    return keep


def porteurs(plan: Plan) -> list[str]:
    """Distinct porteurs of a plan's actions, sorted."""
    return sorted({n.porteur for n in plan.nodes if n.porteur})


def replacement_for(action: PlanNode, node_id: int | None) -> PlanNode | None:
    """The action chosen to replace ``action`` (None when none was chosen)."""
    if node_id is None:
        return None
    replacement = get_action(node_id)
    if replacement is None or replacement.plan_id != action.plan_id:
        raise ActionPlanError(_("Choose another action of the same plan."), "replaced_by")
    return replacement


def indicator_of(action: PlanNode, indicator_id: int | None) -> Indicator:
    """One of the action's indicators, by id."""
    indicator = (db.session.get(Indicator, indicator_id)
                 if indicator_id and 0 < indicator_id <= MAX_ID else None)
    if indicator is None or indicator.node_id != action.id:
        raise ActionPlanError(_("Choose an indicator from the list."), "indicator")
    return indicator


def parse_euros(text: str | None) -> int | None:
    """An amount in euros typed by a person ("1 200,50"), as integer cents; None when empty."""
    value = parse_number(text, "budget")
    if value is None:
        return None
    if value < 0:
        raise ActionPlanError(_("The budget cannot be negative."), "budget")
    return round(value * 100)


def format_euros_input(cents: int | None) -> str:
    """Cents as the euros a form field shows ("1200.5"), empty for None."""
    if cents is None:
        return ""
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


def parse_filter(plan: Plan, args: Any) -> tuple[ActionFilter, list[str]]:
    """Read the plan page's GET filters; unknown values are reported and ignored."""
    errors: list[str] = []

    def as_int(name: str, valid: set[int]) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if digits(raw) and int(raw) in valid:
            return int(raw)
        errors.append(_("Unknown value ignored: %(value)s.", value=raw[:40]))
        return None

    quartier_id = as_int("quartier", set(db.session.execute(select(Quartier.id)).scalars()))
    public_id = as_int("public", {p.id for p in plan.publics})
    status = None
    raw_status = (args.get("statut") or "").strip()
    if raw_status:
        try:
            status = ActionStatus(raw_status)
        except ValueError:
            errors.append(_("Unknown value ignored: %(value)s.", value=raw_status[:40]))
    porteur = (args.get("porteur") or "").strip() or None
    if porteur is not None and porteur not in porteurs(plan):
        errors.append(_("Unknown value ignored: %(value)s.", value=porteur[:40]))
        porteur = None
    return ActionFilter(quartier_id, public_id, status, porteur), errors


# --- chart ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of an indicator chart, in SVG user units."""

    year: int
    series: str  # "target" or "measured"
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A small bar chart of an indicator: target and measured value side by side per year."""

    width: int
    height: int
    baseline_y: float
    bars: list[Bar]
    labels: list[tuple[int, float]]  # (year, x of the label's centre)
    max_value: float


CHART_HEIGHT, BAR_WIDTH, GROUP_GAP, MARGIN = 120, 22, 16, 8


def indicator_chart(indicator: Indicator) -> Chart | None:
    """Bar geometry for an indicator's yearly values (None when there are no values)."""
    values = [v for v in indicator.values if v.target is not None or v.measured is not None]
    if not values:
        return None
    top = max(max(v.target or 0, v.measured or 0) for v in values)
    top = top if top > 0 else 1.0
    bars: list[Bar] = []
    labels: list[tuple[int, float]] = []
    group = 2 * BAR_WIDTH + GROUP_GAP
    for i, value in enumerate(values):
        x0 = MARGIN + i * group
        for j, (series, number) in enumerate((("target", value.target),
                                              ("measured", value.measured))):
            if number is None:
                continue
            height = max(0.0, number) / top * CHART_HEIGHT
            bars.append(Bar(value.year, series, number, x0 + j * BAR_WIDTH,
                            MARGIN + CHART_HEIGHT - height, BAR_WIDTH - 2, height))
        labels.append((value.year, x0 + BAR_WIDTH))
    width = int(2 * MARGIN + len(values) * group)
    return Chart(width, CHART_HEIGHT + 2 * MARGIN + 18, MARGIN + CHART_HEIGHT, bars, labels, top)
