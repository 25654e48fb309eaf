"""Tie-break chains: an explicit, published total order on projects."""

from __future__ import annotations

import re
from collections.abc import Sequence

from civic.counting.model import CountingError

# `lexico` reproduces pabutools' default exactly: project ids compared as
# strings, so "10" comes before "9". It is the verification mode.
LEXICO = "lexico"
CRITERIA = {
    "fewer-euros": "the cheaper project first",
    "more-votes": "the project with more votes (or points) first",
    "draw": "a public seeded draw: ascending sha256('<seed>:<project id>')",
    "id": "project ids in natural order (9 before 10)",
    LEXICO: "project ids as strings, like pabutools (10 before 9)",
}
CITY_DEFAULT = ("more-votes", "fewer-euros", "id")


def parse_chain(text: str | Sequence[str]) -> tuple[str, ...]:
    """A chain from 'fewer-euros,more-votes,draw' (or a sequence of names)."""
    names = text.split(",") if isinstance(text, str) else list(text)
    chain = tuple(n.strip() for n in names if n.strip())
    if not chain:
        raise CountingError("the tie-break chain is empty")
    for name in chain:
        if name not in CRITERIA:
            raise CountingError(
                f"unknown tie-break {name!r}; choose from {', '.join(CRITERIA)}"
            )
    if len(set(chain)) != len(chain):
        raise CountingError("a tie-break criterion is repeated")
    return chain


def draw_key(seed: str, project_id: str) -> str:
    """The public draw's key for one project: anyone can recompute it."""
    import hashlib  # only for draws: not imported by every count

    return hashlib.sha256(f"{seed}:{project_id}".encode()).hexdigest()


def _natural(project_id: str) -> tuple[tuple[int, int | str], ...]:
    parts = re.split(r"(\d+)", project_id)
    return tuple((0, int(x)) if x.isascii() and x.isdigit() else (1, x) for x in parts if x)


def tie_ranks(
    ids: Sequence[str],
    costs: Sequence[int],
    scores: Sequence[int],
    chain: Sequence[str],
    seed: str | None = None,
) -> list[int]:
    """Rank of every project (0 = wins every tie) under the chain; always total,
    since ids are unique and `lexico` closes every chain."""
    if "draw" in chain and seed is None:
        raise CountingError("the draw tie-break needs a public seed (--seed)")

    def key(i: int) -> tuple:
        parts: list = []
        for name in chain:
            if name == "fewer-euros":
                parts.append(costs[i])
            elif name == "more-votes":
                parts.append(-scores[i])
            elif name == "draw":
                parts.append(draw_key(str(seed), ids[i]))
            elif name == "id":
                parts.append(_natural(ids[i]))
            else:
                parts.append(ids[i])
        parts.append(ids[i])
        return tuple(parts)

    order = sorted(range(len(ids)), key=key)
    ranks = [0] * len(ids)
    for r, i in enumerate(order):
        ranks[i] = r
    return ranks
