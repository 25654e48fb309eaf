"""Load and validate the action-plan seed frameworks shipped in ``civic/actionplan/seeds/``.

Standard library only: the Flask command ``flask actionplan import-seeds`` builds on this.
The JSON schema is documented in ``civic/actionplan/seeds/README.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
SCHEMA_VERSION = 1
CODE_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")

_PLAN_KEYS = {
    "schema_version", "slug", "title", "subtitle", "territory", "period", "sources", "field_sources",
    "source_note", "levels", "publics_prioritaires", "publics_note", "cross_cutting_tags", "metadata", "nodes",
}
_NODE_KEYS = {
    "kind", "code", "printed_code", "code_derived", "title", "short_title", "description",
    "expected_impact", "tags", "publics", "alt_titles", "note", "children",
}


class SeedDataError(ValueError):
    """A seed file breaks the schema; the message names the file and the node path."""


@dataclass(frozen=True)
class Period:
    """Years a plan covers, as far as the source gives them."""

    start: int | None
    end: int | None
    note: str | None = None


@dataclass(frozen=True)
class SeedSource:
    """A seed text a plan was transcribed from."""

    file: str
    role: str


@dataclass(frozen=True)
class Level:
    """One level of a plan's tree (kind is the machine name, label the French display name)."""

    kind: str
    label: str


@dataclass(frozen=True)
class PublicPrioritaire:
    """A priority public declared by the plan; empty scope_codes means the whole plan."""

    id: str
    label: str
    source_text: str
    scope_codes: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class TagObjective:
    """An objective the source attaches to a cross-cutting theme."""

    printed_code: str | None
    title: str


@dataclass(frozen=True)
class CrossCuttingTag:
    """A transversal theme any node may carry; never a branch of the tree."""

    id: str
    label: str
    source_text: str
    source: str
    objectives: tuple[TagObjective, ...] = ()


@dataclass(frozen=True)
class AltTitle:
    """Another wording of a node's title found in another source."""

    title: str
    source: str


@dataclass(frozen=True)
class SeedNode:
    """One node of a plan tree (axe, priorité, orientation, objectif, mesure, action…)."""

    kind: str
    title: str
    code: str | None = None
    printed_code: str | None = None
    code_derived: bool = False
    short_title: str | None = None
    description: str | None = None
    expected_impact: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    alt_titles: tuple[AltTitle, ...] = ()
    note: str | None = None
    children: tuple[SeedNode, ...] = ()


@dataclass(frozen=True)
class SeedPlan:
    """A whole framework: metadata, levels, publics, tags and the node tree."""

    slug: str
    title: str
    territory: str | None
    period: Period | None
    sources: tuple[SeedSource, ...]
    source_note: str
    levels: tuple[Level, ...]
    publics_prioritaires: tuple[PublicPrioritaire, ...]
    cross_cutting_tags: tuple[CrossCuttingTag, ...]
    nodes: tuple[SeedNode, ...]
    file_name: str
    subtitle: str | None = None
    publics_note: str | None = None
    field_sources: Mapping[str, str] | None = field(default=None, hash=False)
    metadata: Mapping[str, Any] | None = field(default=None, hash=False)

    def level_label(self, kind: str) -> str:
        """Return the display label of a node kind."""
        for level in self.levels:
            if level.kind == kind:
                return level.label
        raise KeyError(kind)


@dataclass(frozen=True)
class NodeVisit:
    """A node met in a depth-first walk, with its parent's code, depth (0 = top) and key."""

    node: SeedNode
    parent: SeedNode | None
    parent_code: str | None
    depth: int
    key: str


def iter_nodes(plan: SeedPlan) -> Iterator[NodeVisit]:
    """Yield every node depth-first (pre-order) with its parent code and a stable key.

    The key is the node's code when it has one, else the parent's key (or the plan slug) plus
    ``#n`` (1-based position among siblings); it is stable as long as the seed file is.
    """

    def walk(nodes: tuple[SeedNode, ...], parent: SeedNode | None, parent_key: str, depth: int) -> Iterator[NodeVisit]:
        for position, node in enumerate(nodes, 1):
            key = node.code if node.code else f"{parent_key}#{position}"
            yield NodeVisit(node, parent, parent.code if parent else None, depth, key)
            yield from walk(node.children, node, key, depth + 1)

    yield from walk(plan.nodes, None, plan.slug, 0)


def count_by_kind(plan: SeedPlan) -> dict[str, int]:
    """Count the plan's nodes per kind, in level order."""
    counts = {level.kind: 0 for level in plan.levels}
    for visit in iter_nodes(plan):
        counts[visit.node.kind] += 1
    return counts


def seed_files(seeds_dir: Path = SEEDS_DIR) -> list[Path]:
    """List the seed JSON files, sorted by name."""
    return sorted(seeds_dir.glob("*.json"))


def load_seed_plans(seeds_dir: Path = SEEDS_DIR) -> list[SeedPlan]:
    """Load and validate every seed plan; raise SeedDataError on the first broken file."""
    plans = [load_seed_plan(path) for path in seed_files(seeds_dir)]
    slugs = [plan.slug for plan in plans]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise SeedDataError(f"{seeds_dir}: duplicate plan slug(s): {', '.join(duplicates)}")
    return plans


def load_seed_plan(path: Path) -> SeedPlan:
    """Load and validate one seed JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SeedDataError(f"{path.name}: cannot read JSON: {exc}") from exc
    return parse_plan(data, path.name)


def parse_plan(data: Any, file_name: str) -> SeedPlan:
    """Validate a decoded seed document and build its SeedPlan; errors name file and node path."""
    where = file_name
    if not isinstance(data, dict):
        raise SeedDataError(f"{where}: top level must be an object")
    unknown = set(data) - _PLAN_KEYS
    if unknown:
        raise SeedDataError(f"{where}: unknown key(s) {sorted(unknown)}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise SeedDataError(f"{where}: schema_version must be {SCHEMA_VERSION}")
    slug = _req_str(data, "slug", where)
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        raise SeedDataError(f"{where}: slug {slug!r} must be lowercase words joined by '-'")
    levels = _parse_levels(data.get("levels"), where)
    kinds = [level.kind for level in levels]
    tags = tuple(_parse_tag(t, f"{where}: cross_cutting_tags[{i}]") for i, t in enumerate(_list(data, "cross_cutting_tags", where)))
    tag_ids = _unique_ids([t.id for t in tags], f"{where}: cross_cutting_tags")
    publics = tuple(
        _parse_public(p, f"{where}: publics_prioritaires[{i}]")
        for i, p in enumerate(_list(data, "publics_prioritaires", where))
    )
    public_ids = _unique_ids([p.id for p in publics], f"{where}: publics_prioritaires")
    raw_nodes = _list(data, "nodes", where)
    if not raw_nodes:
        raise SeedDataError(f"{where}: nodes must not be empty")
    codes: dict[str, str] = {}
    nodes = tuple(
        _parse_node(n, f"nodes[{i}]", where, None, -1, 1, kinds, tag_ids, public_ids, codes)
        for i, n in enumerate(raw_nodes)
    )
    for public in publics:
        for code in public.scope_codes:
            if code not in codes:
                raise SeedDataError(f"{where}: publics_prioritaires {public.id!r}: scope code {code!r} is not a node code")
    sources = tuple(
        SeedSource(file=_req_str(s, "file", f"{where}: sources[{i}]"), role=_req_str(s, "role", f"{where}: sources[{i}]"))
        for i, s in enumerate(_list(data, "sources", where))
    )
    if not sources:
        raise SeedDataError(f"{where}: sources must not be empty")
    return SeedPlan(
        slug=slug,
        title=_req_str(data, "title", where),
        territory=_opt_str(data, "territory", where),
        period=_parse_period(data.get("period"), where),
        sources=sources,
        source_note=_req_str(data, "source_note", where),
        levels=levels,
        publics_prioritaires=publics,
        cross_cutting_tags=tags,
        nodes=nodes,
        file_name=file_name,
        subtitle=_opt_str(data, "subtitle", where),
        publics_note=_opt_str(data, "publics_note", where),
        field_sources=_opt_mapping(data, "field_sources", where),
        metadata=_opt_mapping(data, "metadata", where),
    )


def _parse_node(
    raw: Any,
    path: str,
    where: str,
    parent_code: str | None,
    parent_level: int,
    depth: int,
    kinds: list[str],
    tag_ids: set[str],
    public_ids: set[str],
    codes: dict[str, str],
) -> SeedNode:
    """Validate one node and its subtree (kind order, depth, code consistency, tags, publics)."""
    if not isinstance(raw, dict):
        raise SeedDataError(f"{where}: {path}: node must be an object")
    code = raw.get("code")
    here = f"{where}: {path}" + (f" (code {code})" if isinstance(code, str) else "")
    unknown = set(raw) - _NODE_KEYS
    if unknown:
        raise SeedDataError(f"{here}: unknown key(s) {sorted(unknown)}")
    title = _req_str(raw, "title", here)
    kind = _req_str(raw, "kind", here)
    if kind not in kinds:
        raise SeedDataError(f"{here}: kind {kind!r} is not a declared level ({', '.join(kinds)})")
    if depth > len(kinds):
        raise SeedDataError(f"{here}: depth {depth} exceeds the {len(kinds)} declared levels")
    level = kinds.index(kind)
    if level <= parent_level:
        raise SeedDataError(f"{here}: a {kind!r} cannot sit under a {kinds[parent_level]!r} (levels must go deeper)")
    if code is not None:
        if not isinstance(code, str) or not CODE_RE.fullmatch(code):
            raise SeedDataError(f"{here}: code {code!r} must look like '2' or '2.1.3'")
        if code in codes:
            raise SeedDataError(f"{here}: duplicate code {code!r} (already used at {codes[code]})")
        codes[code] = path
        if parent_code is None and parent_level >= 0:
            raise SeedDataError(f"{here}: code {code!r} under a parent without code")
        if parent_code is None and "." in code:
            raise SeedDataError(f"{here}: top-level code {code!r} must be a single number")
        if parent_code is not None and code.rpartition(".")[0] != parent_code:
            raise SeedDataError(f"{here}: code {code!r} is not consistent with parent code {parent_code!r} (expected {parent_code}.N)")
    node_tags = _str_tuple(raw, "tags", here)
    for tag in node_tags:
        if tag not in tag_ids:
            raise SeedDataError(f"{here}: unknown tag {tag!r} (declared: {', '.join(sorted(tag_ids)) or 'none'})")
    node_publics = _str_tuple(raw, "publics", here)
    for public in node_publics:
        if public not in public_ids:
            raise SeedDataError(f"{here}: unknown public {public!r} (declared: {', '.join(sorted(public_ids)) or 'none'})")
    children_raw = raw.get("children", [])
    if not isinstance(children_raw, list):
        raise SeedDataError(f"{here}: children must be a list")
    children = tuple(
        _parse_node(c, f"{path}.children[{i}]", where, code, level, depth + 1, kinds, tag_ids, public_ids, codes)
        for i, c in enumerate(children_raw)
    )
    alt_raw = raw.get("alt_titles", [])
    if not isinstance(alt_raw, list):
        raise SeedDataError(f"{here}: alt_titles must be a list")
    code_derived = raw.get("code_derived", False)
    if not isinstance(code_derived, bool):
        raise SeedDataError(f"{here}: code_derived must be true or false")
    return SeedNode(
        kind=kind,
        title=title,
        code=code,
        printed_code=_opt_str(raw, "printed_code", here),
        code_derived=code_derived,
        short_title=_opt_str(raw, "short_title", here),
        description=_opt_str(raw, "description", here),
        expected_impact=_str_tuple(raw, "expected_impact", here),
        tags=node_tags,
        publics=node_publics,
        alt_titles=tuple(
            AltTitle(_req_str(a, "title", f"{here}: alt_titles[{i}]"), _req_str(a, "source", f"{here}: alt_titles[{i}]"))
            for i, a in enumerate(alt_raw)
        ),
        note=_opt_str(raw, "note", here),
        children=children,
    )


def _parse_levels(raw: Any, where: str) -> tuple[Level, ...]:
    """Validate the declared levels (non-empty, unique kinds)."""
    if not isinstance(raw, list) or not raw:
        raise SeedDataError(f"{where}: levels must be a non-empty list")
    levels = tuple(Level(_req_str(lv, "kind", f"{where}: levels[{i}]"), _req_str(lv, "label", f"{where}: levels[{i}]")) for i, lv in enumerate(raw))
    _unique_ids([lv.kind for lv in levels], f"{where}: levels")
    return levels


def _parse_tag(raw: Any, where: str) -> CrossCuttingTag:
    """Validate one cross-cutting tag."""
    objectives = tuple(
        TagObjective(_opt_str(o, "printed_code", f"{where}.objectives[{i}]"), _req_str(o, "title", f"{where}.objectives[{i}]"))
        for i, o in enumerate(_list(raw, "objectives", where, required=False))
    )
    return CrossCuttingTag(
        id=_req_str(raw, "id", where),
        label=_req_str(raw, "label", where),
        source_text=_req_str(raw, "source_text", where),
        source=_req_str(raw, "source", where),
        objectives=objectives,
    )


def _parse_public(raw: Any, where: str) -> PublicPrioritaire:
    """Validate one public prioritaire."""
    return PublicPrioritaire(
        id=_req_str(raw, "id", where),
        label=_req_str(raw, "label", where),
        source_text=_req_str(raw, "source_text", where),
        scope_codes=_str_tuple(raw, "scope_codes", where),
        source=_req_str(raw, "source", where),
    )


def _parse_period(raw: Any, where: str) -> Period | None:
    """Validate the optional period object."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SeedDataError(f"{where}: period must be an object or null")
    start, end = raw.get("start"), raw.get("end")
    for name, value in (("start", start), ("end", end)):
        if value is not None and not isinstance(value, int):
            raise SeedDataError(f"{where}: period.{name} must be a year or null")
    if start is not None and end is not None and start > end:
        raise SeedDataError(f"{where}: period starts after it ends")
    return Period(start, end, _opt_str(raw, "note", where))


def _unique_ids(ids: list[str], where: str) -> set[str]:
    """Return ids as a set, failing on duplicates."""
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise SeedDataError(f"{where}: duplicate id {value!r}")
        seen.add(value)
    return seen


def _req_str(obj: Any, key: str, where: str) -> str:
    """Return a required non-empty string field."""
    if not isinstance(obj, dict):
        raise SeedDataError(f"{where}: must be an object")
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SeedDataError(f"{where}: {key} must be a non-empty string")
    return value


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    """Return an optional string field."""
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise SeedDataError(f"{where}: {key} must be a string or null")
    return value


def _opt_mapping(obj: dict[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    """Return an optional object field."""
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise SeedDataError(f"{where}: {key} must be an object")
    return value


def _list(obj: Any, key: str, where: str, required: bool = True) -> list[Any]:
    """Return a list field (missing optional lists are empty)."""
    if not isinstance(obj, dict):
        raise SeedDataError(f"{where}: must be an object")
    if key not in obj and not required:
        return []
    value = obj.get(key)
    if not isinstance(value, list):
        raise SeedDataError(f"{where}: {key} must be a list")
    return value


def _str_tuple(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """Return an optional list of non-empty strings as a tuple."""
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SeedDataError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(value)
