"""Election data as frozen dataclasses: what the counting rules read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

VOTE_TYPES = ("approval", "cumulative", "scoring", "ordinal")

# Money is integer cents everywhere (house style); Pabulib files write currency
# units, sometimes with decimals ("400000.0", "2372571.24").
CENTS_PER_UNIT = 100


class CountingError(Exception):
    """Base class of every error the counting package raises on bad input."""


class PabulibError(CountingError):
    """A .pb file is malformed; says which line and what is wrong."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


def parse_money(text: str) -> int:
    """Read a decimal amount of currency ("400000.0", "12,5") as exact cents."""
    raw = text.strip().replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError(f"{text.strip()!r} is not an amount of money")
    cents = amount * CENTS_PER_UNIT
    if cents != cents.to_integral_value():
        raise ValueError(f"{text.strip()!r} has more than two decimal places")
    if cents < 0:
        raise ValueError(f"{text.strip()!r} is negative")
    return int(cents)


def format_money(cents: int) -> str:
    """Write cents as currency units, without decimals when they are whole."""
    units, rest = divmod(cents, CENTS_PER_UNIT)
    return str(units) if rest == 0 else f"{units}.{rest:02d}"


def _clean_extra(
    extra: Iterable[tuple[str, str]], reserved: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """Extra columns with empty cells dropped (a .pb file cannot tell them apart
    from missing ones), checked to be writable."""
    if not extra:
        return ()
    cleaned = []
    names = set()
    for key, value in extra:
        if key in names or key in reserved or not key or key != key.strip():
            raise CountingError(f"column name {key!r} is reserved, repeated or padded")
        names.add(key)
        if "\n" in key or "\r" in key or "\n" in value or "\r" in value:
            raise CountingError(f"column {key!r} holds a line break")
        if value != "":
            cleaned.append((key, value))
    # Sorted: the column order belongs to the file (Profile keeps it), not
    # to the project or ballot, so equal rows compare equal.
    return tuple(sorted(cleaned))


@dataclass(frozen=True)
class Project:
    """A project on the ballot: its id, its cost in cents, other columns verbatim."""

    id: str
    cost: int
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.id or any(c in self.id for c in ',;"\n\r\t '):
            raise CountingError(
                f"project id {self.id!r} is empty or holds a space , ; or quote"
            )
        if not isinstance(self.cost, int) or self.cost < 0:
            raise CountingError(
                f"project {self.id}: cost must be a whole number of cents >= 0"
            )
        object.__setattr__(
            self, "extra", _clean_extra(self.extra, ("project_id", "cost"))
        )

    def get(self, key: str, default: str | None = None) -> str | None:
        """Value of an extra column (name, selected, district…), or default."""
        for k, v in self.extra:
            if k == key:
                return v
        return default


@dataclass(frozen=True)
class Instance:
    """What is being decided: the budget (cents), the projects and the META block."""

    budget: int
    projects: tuple[Project, ...]
    meta: tuple[tuple[str, str], ...] = ()
    vote_type: str = "approval"

    def __post_init__(self) -> None:
        if not isinstance(self.budget, int) or self.budget < 0:
            raise CountingError("budget must be a whole number of cents >= 0")
        if self.vote_type not in VOTE_TYPES:
            raise CountingError(f"unknown vote_type {self.vote_type!r}")
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise CountingError("two projects have the same id")

    @property
    def meta_dict(self) -> dict[str, str]:
        """The META block as a dict."""
        return dict(self.meta)

    def project(self, project_id: str) -> Project:
        """The project with this id (KeyError if absent)."""
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)

    @property
    def threshold(self) -> int | None:
        """META min_project_score_threshold (Warsaw, Łódź), if the file has one."""
        value = self.meta_dict.get("min_project_score_threshold")
        return None if value in (None, "") else int(Decimal(value))


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot: project ids (ranked order for ordinal), points if scored."""

    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    voter_id: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.projects)) != len(self.projects):
            raise CountingError("a project appears twice in one ballot")
        if self.points is not None and len(self.points) != len(self.projects):
            raise CountingError("a ballot needs one number of points per project")
        if any(c in self.voter_id for c in ";\n\r"):
            raise CountingError(f"voter id {self.voter_id!r} holds ; or a line break")
        extra = _clean_extra(self.extra, ("voter_id", "vote", "points"))
        object.__setattr__(self, "extra", extra)

    def get(self, key: str, default: str | None = None) -> str | None:
        """Value of an extra column (age, neighborhood…), or default."""
        for k, v in self.extra:
            if k == key:
                return v
        return default


@dataclass(frozen=True)
class Profile:
    """All ballots of an election, in file order; empty ballots included."""

    ballots: tuple[Ballot, ...]
    vote_type: str = "approval"
    project_columns: tuple[str, ...] = field(default=(), compare=False)
    vote_columns: tuple[str, ...] = field(default=(), compare=False)

    def __len__(self) -> int:
        return len(self.ballots)


def approval_profile(
    sets: Iterable[Iterable[str]], extras: Iterable[Mapping[str, str]] | None = None
) -> Profile:
    """Build an approval profile in memory (e.g. from the app's database)."""
    extras_list = list(extras) if extras is not None else None
    ballots = []
    for i, s in enumerate(sets):
        extra = tuple(extras_list[i].items()) if extras_list is not None else ()
        ballots.append(Ballot(projects=tuple(s), voter_id=str(i + 1), extra=extra))
    return Profile(ballots=tuple(ballots), vote_type="approval")


def make_instance(
    budget: int, costs: Mapping[str, int], meta: Mapping[str, str] | None = None
) -> Instance:
    """Build an approval instance in memory: budget and costs in cents."""
    projects = tuple(Project(id=str(k), cost=int(v)) for k, v in costs.items())
    return Instance(budget=budget, projects=projects, meta=tuple((meta or {}).items()))
