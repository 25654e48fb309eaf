"""Pabulib .pb files (META / PROJECTS / VOTES) read and written losslessly."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

from civic.counting.model import (
    VOTE_TYPES,
    Ballot,
    CountingError,
    Instance,
    PabulibError,
    Profile,
    Project,
    format_money,
    parse_money,
)

SECTIONS = ("meta", "projects", "votes")
# META keys the reader turns into Instance fields or recomputes; all other keys
# are kept verbatim, in file order.
STRUCTURAL_META = ("budget", "vote_type", "num_projects", "num_votes")
LEADING_META = ("description", "country", "unit", "subunit", "district", "instance")


def _fields(line: str) -> list[str]:
    """Split one line on ';' with CSV quoting (only when the line has a quote)."""
    if '"' not in line:
        return line.split(";")
    # Python's csv tolerates a field that starts with a quote but is not fully
    # quoted (Czestochowa 2020: `"Odkupmy" i my - ...`), as Pabulib's tools do.
    import csv  # only for lines with quotes: not imported by most files

    return next(csv.reader([line], delimiter=";"))


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines without their LF / CRLF ending (not str.splitlines: names
    may hold characters it treats as breaks)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line[:-1] if line.endswith("\r") else line


def _int(text: str, what: str, line: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise PabulibError(
            f"{what} {text.strip()!r} is not a whole number", line
        ) from None


def read_pabulib(source: str | os.PathLike[str]) -> tuple[Instance, Profile]:
    """Read a .pb file from a path."""
    try:
        with open(source, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise PabulibError(f"cannot read {source}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PabulibError("not valid UTF-8", line) from None
    return parse_pabulib(text)


def parse_pabulib(text: str) -> tuple[Instance, Profile]:
    """Parse the text of a .pb file; PabulibError names the faulty line."""
    # The cyclic garbage collector would rescan the growing list of ballots
    # again and again (Łódź: 90,494); nothing built here forms a cycle.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text)
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str) -> tuple[Instance, Profile]:
    section = ""
    header: list[str] | None = None
    meta: list[tuple[str, str]] = []
    meta_lines: dict[str, int] = {}
    projects: list[Project] = []
    project_columns: list[str] = []
    ids: dict[str, int] = {}
    raw_ballots: list[tuple[int, list[str]]] = []
    vote_columns: list[str] = []
    seen_sections: list[str] = []
    expect_header = False

    for number, line in _lines(text):
        if section == "votes" and not expect_header and ";" in line:
            # Hot path: tens of thousands of vote lines, checked further down.
            raw_ballots.append((number, line))
            continue
        if not line.strip():
            continue
        fields = _fields(line)
        first = fields[0].strip().lower()
        if first in SECTIONS and all(not f.strip() for f in fields[1:]):
            expected = SECTIONS[len(seen_sections)] if len(seen_sections) < 3 else None
            if first != expected:
                raise PabulibError(f"section {first.upper()} out of order", number)
            seen_sections.append(first)
            section, expect_header = first, True
            continue
        if not section:
            raise PabulibError("the file must start with META", number)
        if expect_header:
            header = [h.strip() for h in fields]
            expect_header = False
            if section == "projects":
                for col in ("project_id", "cost"):
                    if col not in header:
                        raise PabulibError(
                            f"PROJECTS header has no {col} column", number
                        )
                project_columns = header
            elif section == "votes":
                if "vote" not in header:
                    raise PabulibError("VOTES header has no vote column", number)
                vote_columns = header
            if len(set(header)) != len(header):
                raise PabulibError("a column name is repeated in the header", number)
            continue
        assert header is not None
        if section == "meta":
            if len(fields) < 2:
                raise PabulibError("META line needs key;value", number)
            key = fields[0].strip()
            if key in meta_lines:
                raise PabulibError(f"META key {key!r} appears twice", number)
            meta_lines[key] = number
            meta.append((key, ";".join(fields[1:]).strip()))
        elif section == "projects":
            if len(fields) != len(header):
                raise PabulibError(
                    f"project line has {len(fields)} fields, header has {len(header)}",
                    number,
                )
            row = dict(zip(header, fields))
            pid = row["project_id"].strip()
            if not pid or any(c in pid for c in ", "):
                raise PabulibError(f"bad project_id {pid!r}", number)
            if pid in ids:
                raise PabulibError(f"project {pid} appears twice", number)
            try:
                cost = parse_money(row["cost"])
            except ValueError as exc:
                raise PabulibError(f"project {pid}: cost {exc}", number) from None
            extra = tuple(
                (k, v)
                for k, v in zip(header, fields)
                if k not in ("project_id", "cost")
            )
            ids[pid] = number
            projects.append(Project(id=pid, cost=cost, extra=extra))
        else:
            raw_ballots.append((number, line))

    if len(seen_sections) < 3:
        missing = SECTIONS[len(seen_sections)].upper()
        raise PabulibError(f"section {missing} is missing")

    md = dict(meta)
    if "budget" not in md:
        raise PabulibError("META has no budget")
    try:
        budget = parse_money(md["budget"])
    except ValueError as exc:
        raise PabulibError(f"budget {exc}", meta_lines["budget"]) from None
    vote_type = md.get("vote_type", "").strip()
    if vote_type == "choose-1":
        vote_type = "approval"
    if vote_type not in VOTE_TYPES:
        raise PabulibError(
            f"vote_type {vote_type!r} is not one of {', '.join(VOTE_TYPES)}",
            meta_lines.get("vote_type"),
        )
    limits = {}
    for key in (
        "min_length",
        "max_length",
        "min_sum_points",
        "max_sum_points",
        "min_points",
        "max_points",
    ):
        if md.get(key, "").strip():
            limits[key] = _int(md[key], key, meta_lines[key])
    for key in ("min_sum_cost", "max_sum_cost"):
        if md.get(key, "").strip():
            try:
                limits[key] = parse_money(md[key])
            except ValueError as exc:
                raise PabulibError(f"{key} {exc}", meta_lines[key]) from None
    if "min_project_score_threshold" in md and md["min_project_score_threshold"]:
        _int(
            md["min_project_score_threshold"],
            "threshold",
            meta_lines["min_project_score_threshold"],
        )

    costs = {p.id: p.cost for p in projects}
    ballots = []
    voter_ids: set[str] = set()
    scored = vote_type in ("cumulative", "scoring")
    if scored and "points" not in vote_columns:
        raise PabulibError(f"{vote_type} ballots need a points column")
    skip = {"voter_id", "vote", "points"}
    vote_at = vote_columns.index("vote")
    voter_at = vote_columns.index("voter_id") if "voter_id" in vote_columns else None
    points_at = vote_columns.index("points") if scored else None
    # Sorted by name, as Ballot keeps its extra columns.
    extra_at = sorted(
        ((i, k) for i, k in enumerate(vote_columns) if k not in skip),
        key=lambda x: x[1],
    )
    known = {pid: pid for pid in costs}  # also interns ids shared by all ballots
    width = len(vote_columns)
    new_ballot = object.__new__
    set_field = object.__setattr__
    # Ballots with the same vote (or the same extra columns) share one tuple:
    # fewer objects to build, and fewer for the garbage collector to scan.
    votes_seen: dict[str, tuple[str, ...]] = {}
    extras_seen: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    extra_keys = [k for _, k in extra_at]
    extra_values = [i for i, _ in extra_at]
    for number, line in raw_ballots:
        fields = _fields(line)
        if len(fields) != width:
            raise PabulibError(
                f"vote line has {len(fields)} fields, header has {width}", number
            )
        voter_id = fields[voter_at].strip() if voter_at is not None else ""
        if voter_id:
            if voter_id in voter_ids:
                raise PabulibError(f"voter {voter_id} appears twice", number)
            voter_ids.add(voter_id)
        raw = fields[vote_at]
        chosen = votes_seen.get(raw)
        if chosen is None:
            try:
                chosen = tuple([known[x] for x in raw.split(",")]) if raw else ()
            except KeyError:
                names = [x.strip() for x in raw.split(",") if x.strip()]
                for pid in names:
                    if pid not in known:
                        raise PabulibError(
                            f"vote for unknown project {pid}", number
                        ) from None
                chosen = tuple([known[x] for x in names])
            if len(set(chosen)) != len(chosen):
                raise PabulibError("a project appears twice in one ballot", number)
            votes_seen[raw] = chosen
        points = None
        if points_at is not None:
            raw_points = [x for x in fields[points_at].split(",") if x.strip()]
            points = tuple(_int(x, "points", number) for x in raw_points)
            if len(points) != len(chosen):
                raise PabulibError(
                    f"{len(chosen)} projects but {len(points)} points", number
                )
        if limits:
            _check_ballot(chosen, points, limits, costs, number)
        if ";" in voter_id:
            raise PabulibError("voter_id holds a quoted ;", number)
        # Everything Ballot.__post_init__ checks is checked above; skipping it
        # halves the time to read Łódź's 90,494 ballots.
        ballot = new_ballot(Ballot)
        set_field(ballot, "projects", chosen)
        set_field(ballot, "points", points)
        set_field(ballot, "voter_id", voter_id)
        values = tuple([fields[i] for i in extra_values])
        extra = extras_seen.get(values)
        if extra is None:
            extra = tuple([(k, v) for k, v in zip(extra_keys, values) if v])
            extras_seen[values] = extra
        set_field(ballot, "extra", extra)
        ballots.append(ballot)

    for key, actual in (("num_projects", len(projects)), ("num_votes", len(ballots))):
        if md.get(key, "").strip():
            declared = _int(md[key], key, meta_lines[key])
            if declared != actual:
                raise PabulibError(
                    f"{key} says {declared} but the file has {actual}", meta_lines[key]
                )

    kept_meta = tuple((k, v) for k, v in meta if k not in STRUCTURAL_META)
    try:
        instance = Instance(
            budget=budget, projects=tuple(projects), meta=kept_meta, vote_type=vote_type
        )
    except CountingError as exc:
        raise PabulibError(str(exc)) from None
    profile = Profile(
        ballots=tuple(ballots),
        vote_type=vote_type,
        project_columns=tuple(project_columns),
        vote_columns=tuple(vote_columns),
    )
    return instance, profile


def _check_ballot(
    chosen: tuple[str, ...],
    points: tuple[int, ...] | None,
    limits: dict[str, int],
    costs: dict[str, int],
    number: int,
) -> None:
    """Check one ballot against the META constraints of the file."""
    n = len(chosen)
    # An empty ballot is a voter who abstained on every project: Pabulib keeps
    # it (it counts in MES's number of voters), so length limits skip it.
    if n and "min_length" in limits and n < limits["min_length"]:
        raise PabulibError(
            f"ballot has {n} projects, min_length is {limits['min_length']}", number
        )
    if "max_length" in limits and n > limits["max_length"]:
        raise PabulibError(
            f"ballot has {n} projects, max_length is {limits['max_length']}", number
        )
    if n and ("min_sum_cost" in limits or "max_sum_cost" in limits):
        total = sum(costs[p] for p in chosen)
        if total < limits.get("min_sum_cost", 0):
            raise PabulibError("ballot costs less than min_sum_cost", number)
        if "max_sum_cost" in limits and total > limits["max_sum_cost"]:
            raise PabulibError("ballot costs more than max_sum_cost", number)
    if points is not None:
        total = sum(points)
        if n and "min_sum_points" in limits and total < limits["min_sum_points"]:
            raise PabulibError(
                f"ballot gives {total} points, min_sum_points is "
                f"{limits['min_sum_points']}",
                number,
            )
        if "max_sum_points" in limits and total > limits["max_sum_points"]:
            raise PabulibError(
                f"ballot gives {total} points, max_sum_points is "
                f"{limits['max_sum_points']}",
                number,
            )
        for value in points:
            if "min_points" in limits and value < limits["min_points"]:
                raise PabulibError(f"{value} points is below min_points", number)
            if "max_points" in limits and value > limits["max_points"]:
                raise PabulibError(f"{value} points is above max_points", number)


def _row(fields: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _columns(
    rows: list[tuple[tuple[str, str], ...]], given: tuple[str, ...]
) -> list[str]:
    """Extra column names: those of the original header first, then new ones."""
    names = [c for c in given]
    for extra in rows:
        for key, _ in extra:
            if key not in names:
                names.append(key)
    return names


def format_pabulib(instance: Instance, profile: Profile) -> str:
    """The .pb text of an instance and profile (read_pabulib gives them back)."""
    if instance.vote_type != profile.vote_type:
        raise CountingError("instance and profile have different vote types")
    out = ["META\n", "key;value\n"]
    structural = [
        ("num_projects", str(len(instance.projects))),
        ("num_votes", str(len(profile.ballots))),
        ("budget", format_money(instance.budget)),
        ("vote_type", instance.vote_type),
    ]
    cut = 0
    for i, (key, _) in enumerate(instance.meta):
        if key in LEADING_META:
            cut = i + 1
    rows = list(instance.meta[:cut]) + structural + list(instance.meta[cut:])
    for key, value in rows:
        out.append(_row([key, value]))
    base = ("project_id", "cost")
    pcols = _columns(
        [p.extra for p in instance.projects],
        tuple(c for c in profile.project_columns if c not in base),
    )
    out.append("PROJECTS\n")
    out.append(_row(list(base) + pcols))
    for p in instance.projects:
        values = dict(p.extra)
        out.append(
            _row([p.id, format_money(p.cost)] + [values.get(c, "") for c in pcols])
        )
    scored = profile.vote_type in ("cumulative", "scoring")
    base = ("voter_id", "vote") + (("points",) if scored else ())
    vcols = _columns(
        [b.extra for b in profile.ballots],
        tuple(c for c in profile.vote_columns if c not in base),
    )
    out.append("VOTES\n")
    out.append(_row(list(base) + vcols))
    for i, b in enumerate(profile.ballots):
        values = dict(b.extra)
        fields = [b.voter_id or str(i + 1), ",".join(b.projects)]
        if scored:
            fields.append(",".join(str(x) for x in (b.points or ())))
        out.append(_row(fields + [values.get(c, "") for c in vcols]))
    return "".join(out)


def write_pabulib(
    instance: Instance, profile: Profile, path: str | os.PathLike[str]
) -> None:
    """Write a .pb file (UTF-8, LF line endings)."""
    with open(path, "w", encoding="utf-8") as file:
        file.write(format_pabulib(instance, profile))
