"""The draw by lot of a council's habitants, reproducible by anyone from its seed.

Pure Python (no Flask, no database), so the published algorithm is this file:

1. Each volunteer belongs to one stratum: their gender (women / men: the loi Lamy and the
   cadre de référence ask for parity among drawn habitants) and, when the coordinator sets
   age bands, their age band on the day of the draw.
2. The seats are split between strata (``quotas``): half women, half men; within a gender,
   evenly across the age bands, the remainder going to the first bands in the order given.
3. Within each stratum, volunteers are sorted by ``SHA-256("<seed>:<volunteer number>")``
   (hexadecimal, ascending) and the first ``quota`` are drawn.

Anyone holding the public report (seed, volunteer numbers per stratum, quotas) can re-run
step 3 with any SHA-256 tool and find the same list. If a stratum has fewer volunteers than
seats, nothing is drawn and every missing place is named (``ShortStrata``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

GENDERS = ("female", "male")


@dataclass(frozen=True)
class AgeBand:
    """An age band, bounds included; ``high`` None means no upper bound."""

    low: int
    high: int | None

    @property
    def key(self) -> str:
        """Stable text form, e.g. ``16-29`` or ``60+``."""
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"

    def contains(self, age: int) -> bool:
        """True if ``age`` falls in the band."""
        return age >= self.low and (self.high is None or age <= self.high)


@dataclass(frozen=True)
class Candidate:
    """A volunteer as the draw sees it: a public number and a stratum, nothing else."""

    number: int
    stratum: str


@dataclass(frozen=True)
class Shortfall:
    """A stratum without enough volunteers for its seats."""

    stratum: str
    seats: int
    volunteers: int

    @property
    def missing(self) -> int:
        """How many more volunteers the stratum needs."""
        return self.seats - self.volunteers


class SortitionError(ValueError):
    """The draw cannot be run as asked."""


@dataclass
class ShortStrata(SortitionError):
    """Some strata have fewer volunteers than seats: nothing is drawn."""

    shortfalls: list[Shortfall] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{s.stratum}: {s.seats} seats, {s.volunteers} volunteers"
                         for s in self.shortfalls)


@dataclass(frozen=True)
class DrawResult:
    """Who was drawn, stratum by stratum, in draw order."""

    seed: str
    quotas: dict[str, int]
    volunteers: dict[str, list[int]]
    drawn: dict[str, list[int]]

    @property
    def drawn_numbers(self) -> list[int]:
        """Every drawn volunteer number, strata in quota order."""
        return [n for stratum in self.quotas for n in self.drawn[stratum]]


def parse_age_bands(text: str | None) -> list[AgeBand]:
    """Read bands such as ``16-29, 30-59, 60+``; they must not overlap."""
    bands: list[AgeBand] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().replace(" ", "")
        if not part:
            continue
        try:
            if part.endswith("+"):
                band = AgeBand(int(part[:-1]), None)
            else:
                low, high = part.split("-")
                band = AgeBand(int(low), int(high))
        except ValueError as exc:
            raise SortitionError(part) from exc
        if band.low < 0 or band.low > 130 or (band.high is not None
                                               and not band.low <= band.high <= 130):
            raise SortitionError(part)
        bands.append(band)
    bands.sort(key=lambda b: b.low)
    for before, after in zip(bands, bands[1:], strict=False):
        if before.high is None or before.high >= after.low:
            raise SortitionError(f"{before.key} / {after.key}")
    return bands


def stratum_of(gender: str, age: int | None, bands: Sequence[AgeBand]) -> str | None:
    """The stratum key of a volunteer (None: outside every band, or no usable gender)."""
    if gender not in GENDERS:
        return None
    if not bands:
        return gender
    if age is None:
        return None
    band = next((b for b in bands if b.contains(age)), None)
    return None if band is None else f"{gender} {band.key}"


def quotas(seats: int, bands: Sequence[AgeBand]) -> dict[str, int]:
    """Seats per stratum: parity between women and men, then evenly across age bands."""
    if seats <= 0 or seats % 2:
        raise SortitionError("seats must be a positive even number (parity)")
    per_gender = seats // 2
    if not bands:
        return {g: per_gender for g in GENDERS}
    result: dict[str, int] = {}
    for gender in GENDERS:
        base, extra = divmod(per_gender, len(bands))
        for i, band in enumerate(bands):
            result[f"{gender} {band.key}"] = base + (1 if i < extra else 0)
    return result


def ticket(seed: str, number: int) -> str:
    """A volunteer's place in the draw order: SHA-256 of ``seed:number`` in hexadecimal."""
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def draw(seed: str, candidates: Iterable[Candidate], seats_by_stratum: dict[str, int]
         ) -> DrawResult:
    """Draw ``seats_by_stratum[s]`` volunteers in each stratum, reproducibly from ``seed``."""
    if not seed:
        raise SortitionError("a draw needs a seed")
    by_stratum: dict[str, list[int]] = {s: [] for s in seats_by_stratum}
    for c in candidates:
        if c.stratum in by_stratum:
            by_stratum[c.stratum].append(c.number)
    short = [Shortfall(s, n, len(by_stratum[s])) for s, n in seats_by_stratum.items()
             if len(by_stratum[s]) < n]
    if short:
        raise ShortStrata(short)
    drawn = {s: sorted(numbers, key=lambda n: ticket(seed, n))[:seats_by_stratum[s]]
             for s, numbers in by_stratum.items()}
    return DrawResult(seed=seed, quotas=dict(seats_by_stratum),
                      volunteers={s: sorted(v) for s, v in by_stratum.items()}, drawn=drawn)
