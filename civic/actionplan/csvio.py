"""A plan as one CSV file, both ways: the format is documented in civic/actionplan/README.md.

Export then import into an empty plan then export again gives the same bytes (a test checks
it on the three seed plans). An import reads and checks the whole file first and writes
nothing unless every line is valid; each refused line is reported with its number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

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
)
from civic.actionplan.services import (
    MAX_YEAR,
    MIN_YEAR,
    ActionPlanError,
    clean_source_url,
    format_euros_input,
    parse_euros,
    parse_number,
)
from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.audit import audit
from civic.extensions import db
from civic.territory.models import Quartier

# The columns, in the order the export writes them. An import accepts them in any order
# and treats a missing column as empty, so a hand-made file may keep only what it needs.
COLUMNS = (
    "record", "key", "parent", "kind", "code", "printed_code", "title", "subtitle",
    "short_title", "description", "expected_impact", "note", "territory", "period_start",
    "period_end", "period_note", "publics_note", "announced_actions", "source_text",
    "scope_codes", "weight", "porteur", "partners", "budget", "status", "replaced_by",
    "quartiers", "publics", "tags", "unit", "baseline", "baseline_year", "source", "year",
    "public", "target", "measured", "stage", "date", "participants", "source_url",
)
RECORDS = ("plan", "level", "public", "tag", "node", "indicator", "value", "participation")
DELIMITER = ";"  # what a French spreadsheet writes and reads by default
LIST_SEPARATOR = "|"  # inside a cell: quartier codes, public and tag keys
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_RECORDS = 20_000
SLUG_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


class CsvImportError(ActionPlanError):
    """A refused import: every problem found, as (line number, message); line 0 = the file."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(_("The file was not imported: nothing has been changed."))
        self.errors = errors


# --- export -----------------------------------------------------------------------------


def format_number(value: float | int | None) -> str:
    """A number as the export writes it: no trailing .0, a point as decimal separator."""
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _walk(nodes: list[PlanNode]) -> Iterator[PlanNode]:
    for node in sorted(nodes, key=lambda n: n.position):
        yield node
        yield from _walk(list(node.children))


def export_rows(plan: Plan) -> Iterator[dict[str, str]]:
    """The plan as CSV records (dicts keyed by column), in the order the export writes them."""
    yield {"record": "plan", "title": plan.title, "subtitle": _text(plan.subtitle),
           "territory": _text(plan.territory), "period_start": _text(plan.period_start),
           "period_end": _text(plan.period_end), "period_note": _text(plan.period_note),
           "note": plan.source_note or "", "publics_note": _text(plan.publics_note),
           "announced_actions": _text(plan.announced_actions)}
    for level in sorted(plan.levels, key=lambda lv: lv.position):
        yield {"record": "level", "key": level.kind, "title": level.label}
    for public in sorted(plan.publics, key=lambda p: p.position):
        yield {"record": "public", "key": public.key, "title": public.label,
               "source_text": public.source_text, "scope_codes": public.scope_codes}
    for tag in sorted(plan.tags, key=lambda t: t.position):
        yield {"record": "tag", "key": tag.key, "title": tag.label, "source_text": tag.source_text}
    action_kind = plan.action_kind
    for node in _walk([n for n in plan.nodes if n.parent_id is None and n.parent is None]):
        row = {"record": "node", "key": node.key, "parent": node.parent.key if node.parent else "",
               "kind": node.kind, "code": _text(node.code),
               "printed_code": _text(node.printed_code), "title": node.title,
               "short_title": _text(node.short_title), "description": _text(node.description),
               "expected_impact": node.expected_impact or "", "note": _text(node.note),
               "weight": str(node.weight),
               "publics": LIST_SEPARATOR.join(
                   p.key for p in sorted(node.publics, key=lambda p: p.position)),
               "tags": LIST_SEPARATOR.join(
                   t.key for t in sorted(node.tags, key=lambda t: t.position))}
        if node.kind == action_kind:
            row.update({
                "porteur": _text(node.porteur), "partners": node.partners or "",
                "period_start": _text(node.period_start), "period_end": _text(node.period_end),
                "budget": format_euros_input(node.budget_cents), "status": node.status.value,
                "replaced_by": node.replaced_by.key if node.replaced_by else "",
                "quartiers": LIST_SEPARATOR.join(sorted(q.code for q in node.quartiers)),
                "source_url": _text(node.source_url),
            })
        yield row
        for number, indicator in enumerate(sorted(node.indicators, key=lambda i: i.id), 1):
            ind_key = f"{node.key}/{number}"
            yield {"record": "indicator", "key": ind_key, "parent": node.key,
                   "title": indicator.name, "unit": indicator.unit,
                   "baseline": format_number(indicator.baseline),
                   "baseline_year": _text(indicator.baseline_year), "source": indicator.source}
            for value in sorted(indicator.values, key=lambda v: v.year):
                yield {"record": "value", "parent": ind_key, "year": str(value.year),
                       "target": format_number(value.target),
                       "measured": format_number(value.measured)}
            for part in sorted(indicator.breakdowns,
                               key=lambda b: (b.public.position, b.public.key, b.year)):
                yield {"record": "value", "parent": ind_key, "year": str(part.year),
                       "public": part.public.key, "target": format_number(part.target),
                       "measured": format_number(part.measured)}
        for entry in sorted(node.participations, key=lambda p: (p.held_on, p.id)):
            yield {"record": "participation", "parent": node.key, "stage": entry.stage.value,
                   "date": entry.held_on.isoformat(), "participants": str(entry.participants),
                   "description": entry.description}


def export_plan_csv(plan: Plan) -> bytes:
    """The plan as CSV bytes: UTF-8 with a BOM (spreadsheets need it), ``;``, CRLF."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=DELIMITER, restval="",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in export_rows(plan):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


# --- import: reading and checking -------------------------------------------------------


@dataclass
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        return self.cells.get(name, "")


@dataclass
class _Parsed:
    """Everything the file says, checked, ready to be written."""

    plan: dict[str, Any] = field(default_factory=dict)
    levels: list[tuple[str, str]] = field(default_factory=list)
    publics: list[dict[str, str]] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> values, file order
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: list[dict[str, Any]] = field(default_factory=list)
    participations: list[dict[str, Any]] = field(default_factory=list)


def _read_rows(raw: bytes, errors: list[tuple[int, str]]) -> list[_Row] | None:
    """Decode and split the file; None (with an error) when it is not a readable CSV."""
    if len(raw) > MAX_CSV_BYTES:
        errors.append((0, _("The file is too large (%(num)d MB at most).",
                            num=MAX_CSV_BYTES // (1024 * 1024))))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.append((0, _("The file is not UTF-8 text. Export it as CSV (UTF-8).")))
        return None
    if "\x00" in text:
        errors.append((0, _("The file is not a CSV text file.")))
        return None
    if not text.strip():
        errors.append((0, _("The file is empty.")))
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[_Row] = []
    number = 1
    try:
        header = [h.strip().lower() for h in next(reader)]
        unknown = [h for h in header if h not in COLUMNS]
        if unknown or "record" not in header or len(set(header)) != len(header):
            errors.append((1, _("Unknown or repeated column(s): %(cols)s. The columns are: "
                                "%(expected)s.", cols=", ".join(unknown) or "record",
                                expected=DELIMITER.join(COLUMNS))))
            return None
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_RECORDS:
                errors.append((number, _("Too many lines: %(num)d at most.", num=MAX_RECORDS)))
                return None
            if len(cells) != len(header):
                errors.append((number, _("Expected %(n)d columns, found %(m)d.",
                                         n=len(header), m=len(cells))))
                continue
            row = _Row(number, dict(zip(header, (c.strip() for c in cells), strict=True)))
            row.cells["record"] = row.get("record").lower()
            rows.append(row)
    except csv.Error as exc:
        errors.append((number + 1 if rows or number > 1 else 1,
                       _("Unreadable line: %(err)s", err=str(exc))))
        return None
    return rows


class _LineErrors:
    """Problems of one line, joined into one message."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)


def _year(row: _Row, name: str, problems: _LineErrors) -> int | None:
    raw = row.get(name)
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}", raw) or not MIN_YEAR <= int(raw) <= MAX_YEAR:
        problems.add(_("%(column)s: enter a year between %(a)d and %(b)d, not %(value)r.",
                       column=name, a=MIN_YEAR, b=MAX_YEAR, value=raw[:20]))
        return None
    return int(raw)


def _int(row: _Row, name: str, problems: _LineErrors, *, default: int | None = None
         ) -> int | None:
    raw = row.get(name)
    if not raw:
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        problems.add(_("%(column)s: enter a whole number of 0 or more, not %(value)r.",
                       column=name, value=raw[:20]))
        return default
    return int(raw)


def _number(row: _Row, name: str, problems: _LineErrors) -> float | None:
    try:
        return parse_number(row.get(name), name)
    except ActionPlanError:
        problems.add(_("%(column)s: enter a number, for example 12 or 12,5, not %(value)r.",
                       column=name, value=row.get(name)[:20]))
        return None


def _length(row: _Row, name: str, limit: int, problems: _LineErrors) -> str:
    value = row.get(name)
    if len(value) > limit:
        problems.add(_("%(column)s: %(num)d characters at most.", column=name, num=limit))
        return value[:limit]
    return value


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def _check_rows(rows: list[_Row], errors: list[tuple[int, str]]) -> _Parsed:
    """Check every line on its own, then what lines say about one another."""
    parsed = _Parsed()
    lines: dict[tuple[str, str], int] = {}  # (record, key) -> line, to spot duplicates
    quartiers = {q.code: q.id for q in db.session.execute(select(Quartier)).scalars()}
    level_kinds = {r.get("key") for r in rows if r.get("record") == "level"}
    action_kind = next((r.get("key") for r in reversed(rows) if r.get("record") == "level"),
                       None)
    public_keys = {r.get("key") for r in rows if r.get("record") == "public"}
    tag_keys = {r.get("key") for r in rows if r.get("record") == "tag"}
    node_kinds = {r.get("key"): r.get("kind") for r in rows if r.get("record") == "node"}
    indicator_keys = {r.get("key") for r in rows if r.get("record") == "indicator"}
    for row in rows:
        problems = _LineErrors()
        record, key = row.get("record"), row.get("key")
        if record not in RECORDS:
            problems.add(_("Unknown record type %(value)r: use one of %(allowed)s.",
                           value=record[:20], allowed=", ".join(RECORDS)))
        elif record in ("level", "public", "tag", "node", "indicator"):
            if not key:
                problems.add(_("The key column is empty."))
            elif (record, key) in lines:
                problems.add(_("The key %(key)r is already used on line %(line)d.",
                               key=key[:40], line=lines[(record, key)]))
            else:
                lines[(record, key)] = row.line
        if record == "plan":
            _check_plan(row, parsed, lines, problems)
        elif record == "level":
            label = _length(row, "title", 120, problems)
            if len(key) > 40:
                problems.add(_("key: %(num)d characters at most.", num=40))
            if not label:
                problems.add(_("Give the level's label in the title column."))
            parsed.levels.append((key, label))
        elif record in ("public", "tag"):
            label = _length(row, "title", 255, problems)
            if len(key) > 80:
                problems.add(_("key: %(num)d characters at most.", num=80))
            if not label:
                problems.add(_("Give the label in the title column."))
            item = {"key": key, "label": label, "source_text": row.get("source_text")}
            if record == "public":
                item["scope_codes"] = _length(row, "scope_codes", 255, problems)
                parsed.publics.append(item)
            else:
                parsed.tags.append(item)
        elif record == "node":
            values = _check_node(row, problems, level_kinds, action_kind, node_kinds,
                                 public_keys, tag_keys, quartiers)
            if key and key not in parsed.nodes:
                parsed.nodes[key] = values
        elif record == "indicator":
            values = _check_indicator(row, problems, node_kinds, action_kind)
            if key and key not in parsed.indicators:
                parsed.indicators[key] = values
        elif record == "value":
            parsed.values.append(_check_value(row, problems, indicator_keys, public_keys, lines))
        elif record == "participation":
            parsed.participations.append(
                _check_participation(row, problems, node_kinds, action_kind))
        if problems.items:
            errors.append((row.line, " ".join(problems.items)))
    if not level_kinds:
        errors.append((0, _("The file declares no level: add level lines (axe, action…).")))
    if "plan" not in {r.get("record") for r in rows}:
        errors.append((0, _("The file has no plan line (record plan, with the title).")))
    _check_cycles(parsed, errors)
    _check_levels(parsed, errors)
    return parsed


def _check_levels(parsed: _Parsed, errors: list[tuple[int, str]]) -> None:
    """A node sits at a deeper level than its parent (an axe holds priorités, not the
    reverse; a level may be skipped, as when an action hangs directly under an axe)."""
    depth = {kind: i for i, (kind, _label) in enumerate(parsed.levels)}
    labels = " → ".join(kind for kind, _label in parsed.levels)
    for values in parsed.nodes.values():
        parent = parsed.nodes.get(values["parent"] or "")
        if parent is None or values["kind"] not in depth or parent["kind"] not in depth:
            continue
        if depth[values["kind"]] <= depth[parent["kind"]]:
            errors.append((values["line"], _(
                "A node of level %(kind)s cannot be inside a node of level %(parent)s: the "
                "levels go %(levels)s.", kind=values["kind"], parent=parent["kind"],
                levels=labels)))


def _check_plan(row: _Row, parsed: _Parsed, lines: dict, problems: _LineErrors) -> None:
    if ("plan", "") in lines:
        problems.add(_("Only one plan line is allowed (the first is on line %(line)d).",
                       line=lines[("plan", "")]))
        return
    lines[("plan", "")] = row.line
    title = _length(row, "title", 255, problems)
    if not title:
        problems.add(_("Give the plan's title in the title column."))
    start, end = _year(row, "period_start", problems), _year(row, "period_end", problems)
    if start and end and start > end:
        problems.add(_("The period cannot end before it starts."))
    parsed.plan = {
        "title": title, "subtitle": _length(row, "subtitle", 255, problems) or None,
        "territory": _length(row, "territory", 255, problems) or None,
        "period_start": start, "period_end": end,
        "period_note": row.get("period_note") or None, "source_note": row.get("note"),
        "publics_note": row.get("publics_note") or None,
        "announced_actions": _int(row, "announced_actions", problems),
    }


def _check_node(row: _Row, problems: _LineErrors, level_kinds: set[str],
                action_kind: str | None, node_kinds: dict[str, str], public_keys: set[str],
                tag_keys: set[str], quartiers: dict[str, int]) -> dict[str, Any]:
    key, kind, parent = row.get("key"), row.get("kind"), row.get("parent")
    if len(key) > 120:
        problems.add(_("key: %(num)d characters at most.", num=120))
    if kind not in level_kinds:
        problems.add(_("Unknown level %(value)r: declare it on a level line.", value=kind[:40]))
    if parent and parent not in node_kinds:
        problems.add(_("Unknown parent %(value)r: no node line has this key.",
                       value=parent[:40]))
    title = row.get("title")
    if not title:
        problems.add(_("Give the node's title in the title column."))
    is_action = kind == action_kind
    start, end = _year(row, "period_start", problems), _year(row, "period_end", problems)
    if start and end and start > end:
        problems.add(_("The period cannot end before it starts."))
    budget = None
    try:
        budget = parse_euros(row.get("budget"))
    except ActionPlanError:
        problems.add(_("budget: enter an amount in euros of 0 or more, not %(value)r.",
                       value=row.get("budget")[:20]))
    status = ActionStatus.PLANNED
    if row.get("status"):
        try:
            status = ActionStatus(row.get("status"))
        except ValueError:
            problems.add(_("Unknown status %(value)r: use one of %(allowed)s.",
                           value=row.get("status")[:20],
                           allowed=", ".join(s.value for s in ActionStatus)))
    replaced_by = row.get("replaced_by")
    if replaced_by:
        if replaced_by == key or node_kinds.get(replaced_by) != action_kind:
            problems.add(_("replaced_by: give the key of another action of the file."))
        if status != ActionStatus.REPLACED:
            problems.add(_("Only a replaced action names the action that replaces it."))
    elif status == ActionStatus.REPLACED:
        problems.add(_("A replaced action needs the key of its replacement in replaced_by."))
    action_only = [name for name in ("porteur", "partners", "period_start", "period_end",
                                     "budget", "status", "replaced_by", "quartiers",
                                     "source_url")
                   if row.get(name)]
    if action_only and not is_action and kind in level_kinds:
        problems.add(_("Only actions (level %(kind)s) have: %(columns)s.",
                       kind=action_kind or "", columns=", ".join(action_only)))
    codes = _list(row.get("quartiers"))
    unknown_quartiers = [c for c in codes if c not in quartiers]
    if unknown_quartiers:
        problems.add(_("Unknown quartier code(s): %(codes)s.",
                       codes=", ".join(unknown_quartiers)[:200]))
    source_url = None
    try:
        source_url = clean_source_url(row.get("source_url"))
    except ActionPlanError as exc:
        problems.add(f"source_url: {exc.message}")
    publics, tags = _list(row.get("publics")), _list(row.get("tags"))
    missing = [k for k in publics if k not in public_keys]
    if missing:
        problems.add(_("Unknown public key(s): %(keys)s.", keys=", ".join(missing)[:200]))
    missing = [k for k in tags if k not in tag_keys]
    if missing:
        problems.add(_("Unknown theme key(s): %(keys)s.", keys=", ".join(missing)[:200]))
    return {
        "line": row.line, "parent": parent or None, "kind": kind,
        "code": _length(row, "code", 40, problems) or None,
        "printed_code": _length(row, "printed_code", 60, problems) or None,
        "title": title, "short_title": _length(row, "short_title", 255, problems) or None,
        "description": row.get("description") or None,
        "expected_impact": row.get("expected_impact"), "note": row.get("note") or None,
        "weight": _int(row, "weight", problems, default=1),
        "porteur": _length(row, "porteur", 160, problems) or None,
        "partners": row.get("partners"), "period_start": start, "period_end": end,
        "budget_cents": budget, "status": status, "replaced_by": replaced_by or None,
        "quartiers": [quartiers[c] for c in codes if c in quartiers],
        "publics": publics, "tags": tags, "source_url": source_url,
    }


def _check_indicator(row: _Row, problems: _LineErrors, node_kinds: dict[str, str],
                     action_kind: str | None) -> dict[str, Any]:
    parent = row.get("parent")
    if node_kinds.get(parent) != action_kind or not parent:
        problems.add(_("parent: give the key of an action of the file, not %(value)r.",
                       value=parent[:40]))
    name = _length(row, "title", 255, problems)
    if not name:
        problems.add(_("Name what is measured in the title column."))
    unit = _length(row, "unit", 40, problems)
    if not unit:
        problems.add(_("Give the unit, for example people or %."))
    return {"node": parent, "name": name, "unit": unit,
            "baseline": _number(row, "baseline", problems),
            "baseline_year": _year(row, "baseline_year", problems),
            "source": _length(row, "source", 255, problems)}


def _check_value(row: _Row, problems: _LineErrors, indicator_keys: set[str],
                 public_keys: set[str], lines: dict) -> dict[str, Any]:
    parent, public = row.get("parent"), row.get("public")
    if parent not in indicator_keys:
        problems.add(_("parent: give the key of an indicator of the file, not %(value)r.",
                       value=parent[:40]))
    if public and public not in public_keys:
        problems.add(_("Unknown public key(s): %(keys)s.", keys=public[:80]))
    year = _year(row, "year", problems)
    if year is None and not row.get("year"):
        problems.add(_("Give the year."))
    target, measured = _number(row, "target", problems), _number(row, "measured", problems)
    if not row.get("target") and not row.get("measured"):
        problems.add(_("Enter a target, a measured value, or both."))
    if year is not None:
        slot = ("value", f"{parent}\x00{public}\x00{year}")
        if slot in lines:
            problems.add(_("This indicator already has a value for this year and public on "
                           "line %(line)d.", line=lines[slot]))
        else:
            lines[slot] = row.line
    return {"indicator": parent, "public": public or None, "year": year, "target": target,
            "measured": measured}


def _check_participation(row: _Row, problems: _LineErrors, node_kinds: dict[str, str],
                         action_kind: str | None) -> dict[str, Any]:
    parent = row.get("parent")
    if node_kinds.get(parent) != action_kind or not parent:
        problems.add(_("parent: give the key of an action of the file, not %(value)r.",
                       value=parent[:40]))
    stage = None
    try:
        stage = ParticipationStage(row.get("stage"))
    except ValueError:
        problems.add(_("Unknown stage %(value)r: use one of %(allowed)s.",
                       value=row.get("stage")[:20],
                       allowed=", ".join(s.value for s in ParticipationStage)))
    held_on = None
    try:
        held_on = date.fromisoformat(row.get("date"))
        if not MIN_YEAR <= held_on.year <= MAX_YEAR:
            raise ValueError
    except ValueError:
        problems.add(_("date: enter a date as YYYY-MM-DD, not %(value)r.",
                       value=row.get("date")[:20]))
    participants = _int(row, "participants", problems)
    if participants is None and not row.get("participants"):
        problems.add(_("Give how many residents took part."))
    description = row.get("description")
    if not description:
        problems.add(_("Say what residents did, in the description column."))
    return {"node": parent, "stage": stage, "held_on": held_on,
            "participants": participants, "description": description[:4000]}


def _check_cycles(parsed: _Parsed, errors: list[tuple[int, str]]) -> None:
    """A node may not be its own ancestor (a parent chain that loops never reaches a root)."""
    reported: set[str] = set()
    for key in parsed.nodes:
        chain: list[str] = []
        current: str | None = key
        while current is not None and current in parsed.nodes and current not in chain:
            chain.append(current)
            current = parsed.nodes[current]["parent"]
        if current is not None and current in chain:
            loop = chain[chain.index(current):]
            if key in loop and key not in reported:
                reported.update(loop)
                errors.append((parsed.nodes[key]["line"], _(
                    "Cyclic parent: %(chain)s. A node cannot be its own ancestor.",
                    chain=" → ".join([*loop, loop[0]])[:300])))


# --- import: writing --------------------------------------------------------------------


def import_plan_csv(actor: Any, raw: bytes, *, slug: str | None,
                    filename: str | None = None) -> Plan:
    """Create a plan (or fill an empty one) from a CSV file: all lines or nothing.

    Raises CsvImportError with every refused line; writes nothing then.
    """
    errors: list[tuple[int, str]] = []
    if filename is not None and not filename.lower().endswith((".csv", ".txt")):
        raise ActionPlanError(_("Choose a CSV file (ending in .csv), such as the plan's "
                                "export."), "file")
    slug = (slug or "").strip().lower()
    if not SLUG_RE.fullmatch(slug) or len(slug) > 80:
        raise ActionPlanError(_("Enter an identifier in lowercase letters, digits and "
                                "hyphens, for example plan-2026."), "slug")
    plan = db.session.execute(select(Plan).where(Plan.slug == slug)).scalar_one_or_none()
    if plan is not None and plan.nodes:
        raise ActionPlanError(_("The plan %(slug)s already has content: import into a new "
                                "identifier (or an empty plan).", slug=slug), "slug")
    rows = _read_rows(raw, errors)
    if rows is None:
        raise CsvImportError(errors)
    parsed = _check_rows(rows, errors)
    if errors:
        by_line: dict[int, list[str]] = {}
        for line, message in errors:
            by_line.setdefault(line, []).append(message)
        raise CsvImportError([(line, " ".join(by_line[line])) for line in sorted(by_line)])
    return _write(actor, plan, slug, parsed)


def _write(actor: Any, plan: Plan | None, slug: str, parsed: _Parsed) -> Plan:
    """Write a checked file: the plan, its levels, publics, tags, nodes and measures."""
    if plan is None:
        plan = Plan(slug=slug, action_kind=parsed.levels[-1][0])
        db.session.add(plan)
    for name, value in parsed.plan.items():
        setattr(plan, name, value)
    plan.action_kind = parsed.levels[-1][0]
    for collection in (plan.levels, plan.publics, plan.tags):
        collection.clear()
    db.session.flush()
    plan.levels = [PlanLevel(kind=k, label=label, position=i)
                   for i, (k, label) in enumerate(parsed.levels)]
    plan.publics = [PlanPublic(position=i, **p) for i, p in enumerate(parsed.publics)]
    plan.tags = [PlanTag(position=i, **t) for i, t in enumerate(parsed.tags)]
    db.session.flush()
    publics = {p.key: p for p in plan.publics}
    tags = {t.key: t for t in plan.tags}
    quartiers = {q.id: q for q in db.session.execute(select(Quartier)).scalars()}
    nodes: dict[str, PlanNode] = {}
    positions: dict[str | None, int] = {}
    for key, values in parsed.nodes.items():
        parent = values["parent"]
        position = positions.get(parent, 0)
        positions[parent] = position + 1
        nodes[key] = PlanNode(
            plan=plan, key=key, position=position, kind=values["kind"], code=values["code"],
            printed_code=values["printed_code"], title=values["title"],
            short_title=values["short_title"], description=values["description"],
            expected_impact=values["expected_impact"], note=values["note"],
            weight=values["weight"], porteur=values["porteur"], partners=values["partners"],
            period_start=values["period_start"], period_end=values["period_end"],
            budget_cents=values["budget_cents"], status=values["status"],
            source_url=values["source_url"],
            quartiers=[quartiers[i] for i in values["quartiers"]],
            publics=[publics[k] for k in values["publics"]],
            tags=[tags[k] for k in values["tags"]])
        db.session.add(nodes[key])
    for key, values in parsed.nodes.items():
        if values["parent"]:
            nodes[key].parent = nodes[values["parent"]]
        if values["replaced_by"]:
            nodes[key].replaced_by = nodes[values["replaced_by"]]
    db.session.flush()
    indicators: dict[str, Indicator] = {}
    for key, values in parsed.indicators.items():
        indicators[key] = Indicator(node=nodes[values["node"]], name=values["name"],
                                    unit=values["unit"], baseline=values["baseline"],
                                    baseline_year=values["baseline_year"],
                                    source=values["source"])
        db.session.add(indicators[key])
        db.session.flush()  # ids in file order: the export numbers indicators by id
    recorder = getattr(actor, "id", None)
    for values in parsed.values:
        common = {"indicator": indicators[values["indicator"]], "year": values["year"],
                  "target": values["target"], "measured": values["measured"],
                  "recorded_by_id": recorder}
        if values["public"]:
            db.session.add(IndicatorBreakdown(public=publics[values["public"]], **common))
        else:
            db.session.add(IndicatorValue(**common))
    for values in parsed.participations:
        db.session.add(Participation(node=nodes[values["node"]], stage=values["stage"],
                                     held_on=values["held_on"],
                                     participants=values["participants"],
                                     description=values["description"],
                                     recorded_by_id=recorder))
    audit(actor, "actionplan.csv_import",
          detail=f"{slug}: {len(nodes)} nodes, {len(indicators)} indicators")
    db.session.flush()
    return plan
