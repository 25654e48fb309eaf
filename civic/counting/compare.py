"""Side-by-side of two outcomes, as Aarau published to explain MES."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from civic.counting.api import Outcome
from civic.counting.model import Profile

GROUP_COLUMNS = ("district", "neighborhood", "neighbourhood", "quartier")


@dataclass(frozen=True)
class Side:
    """One outcome's figures: projects, money, voters with a winner they chose."""

    rule: str
    projects: int
    total_cost: int  # cents
    voters: int
    satisfied: int  # voters with at least one approved project funded
    by_group: tuple[tuple[str, int, int], ...] = ()  # (group, voters, satisfied)

    @property
    def share(self) -> Fraction:
        """Share of voters with at least one approved project funded."""
        return Fraction(self.satisfied, self.voters) if self.voters else Fraction(0)


def group_column(profile: Profile) -> str | None:
    """The ballot column that tells a voter's district, if the file has one."""
    for b in profile.ballots[:1000]:
        for key, _ in b.extra:
            if key.lower() in GROUP_COLUMNS:
                return key
    return None


def compare(
    profile: Profile, outcomes: Mapping[str, Outcome], column: str | None = None
) -> list[Side]:
    """Figures of each outcome; per district when the ballots say where voters live."""
    column = column if column is not None else group_column(profile)
    sides = []
    for label, outcome in outcomes.items():
        winners = set(outcome.winners)
        satisfied = 0
        groups: dict[str, list[int]] = {}
        for b in profile.ballots:
            got = any(p in winners for p in b.projects)
            satisfied += got
            if column is not None:
                g = groups.setdefault(b.get(column) or "?", [0, 0])
                g[0] += 1
                g[1] += got
        sides.append(
            Side(
                rule=label,
                projects=len(outcome.winners),
                total_cost=outcome.total_cost,
                voters=len(profile.ballots),
                satisfied=satisfied,
                by_group=tuple((k, v[0], v[1]) for k, v in sorted(groups.items())),
            )
        )
    return sides


def comparison_json(sides: list[Side]) -> dict[str, object]:
    """JSON-ready comparison."""
    return {
        s.rule: {
            "projects": s.projects,
            "total_cost": s.total_cost // 100
            if s.total_cost % 100 == 0
            else s.total_cost / 100,
            "voters": s.voters,
            "voters_with_a_funded_choice": s.satisfied,
            "share": round(float(s.share), 4),
            "by_group": {
                g: {"voters": n, "with_a_funded_choice": k, "share": round(k / n, 4)}
                for g, n, k in s.by_group
            },
        }
        for s in sides
    }
