"""The equalshares.net compute tool's variant ("equalshares/add1-comparison").

Wieliczka 2023 was decided with it; it differs from pabutools' add1 in ways
that change outcomes, so a city that used it gets its own rule:

- MES with cost utility; add1 starts from a whole amount per voter
  (floor(budget / voters)) and keeps raising it by one unit while the next
  outcome still fits the budget: it does *not* stop at an exhaustive outcome
  (pabutools does). If every project fits the budget, no add1 at all.
- optional utilitarian completion: by number of approvals, ties in the
  tool's project order (JavaScript object keys: integer ids ascending, then
  the others in file order); projects nobody approved are added if they fit.
- comparison step: greedy (that same utilitarian order from scratch) replaces
  MES when strictly more voters prefer it. "satisfaction" compares numbers of
  approved winners, and (as the tool's JavaScript does, an `undefined`
  comparison being false) only voters with an approved winner in *both*
  outcomes count; "exclusion" compares having any approved winner at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civic.counting import engine
from civic.counting.model import CountingError

COMPARISONS = ("satisfaction", "exclusion", "none")


@dataclass(frozen=True)
class ToolResult:
    """Winners of the tool's variant and what the comparison step found."""

    mes: list[int]  # MES (+ completion) winners in funding order
    greedy: list[int]  # the tool's greedy outcome
    prefers_mes: int
    prefers_greedy: int
    replaced: bool  # greedy replaced MES
    start: int  # scaled starting budget per voter of the final MES run


def tool_order(ids: Sequence[str]) -> list[int]:
    """Project indices in JavaScript object-key order."""

    def is_index(x: str) -> bool:
        return (
            x.isascii()
            and x.isdigit()
            and (x == "0" or not x.startswith("0"))
            and int(x) < 2**32 - 1
        )

    numeric = sorted(
        (i for i, x in enumerate(ids) if is_index(x)), key=lambda i: int(ids[i])
    )
    return numeric + [i for i, x in enumerate(ids) if not is_index(x)]


def utilitarian(e: engine.Election, already: Sequence[int]) -> list[int]:
    """The tool's utilitarian completion (from `already`), in funding order."""
    order = tool_order(e.ids)
    position = {p: i for i, p in enumerate(order)}
    chosen = list(already)
    left = e.budget - sum(e.costs[p] for p in chosen)
    for p in sorted(order, key=lambda p: (-e.votes[p], position[p])):
        if p not in chosen and e.costs[p] <= left:
            chosen.append(p)
            left -= e.costs[p]
    return chosen


def run_tool(
    e: engine.Election,
    ranks: Sequence[int],
    completion: str = "add1",
    comparison: str = "satisfaction",
    increment: int = 100,
) -> ToolResult:
    """The tool's computation on an approval election (money in cents)."""
    if not e.approval:
        raise CountingError("the equalshares.net variant needs approval ballots")
    if comparison not in COMPARISONS:
        raise CountingError(f"unknown comparison {comparison!r}")
    n = e.n
    if n == 0:
        mes: list[int] = []
        start = 0
    else:
        whole = (e.budget // n) // increment * increment  # per voter, whole units
        base = whole * n
        free, candidates = engine.mes_eligible(e, "cost")
        everything_fits = sum(e.costs) <= e.budget
        if completion in ("add1", "add1-greedy") and not everything_fits:
            if engine.numpy_available():
                a = engine.approval_index(e, "cost")
                run, _ = engine.mes_add1_fast(
                    a, ranks, increment, base=base, stop_when_exhaustive=False
                )
            else:
                run = _add1_plain(e, ranks, increment, base)
        else:
            # Without add1 the tool shares the budget itself, not a whole amount.
            run = engine.mes_once(e, ranks, "cost", e.budget)
        mes, start = list(run.selected), run.start
    if completion in ("greedy", "add1-greedy"):
        mes = utilitarian(e, mes)
    greedy = utilitarian(e, [])
    winners, others = set(mes), set(greedy)
    prefers_mes = prefers_greedy = 0
    for cls, k in zip(e.classes, e.mult, strict=True):
        a_sat = sum(1 for p in cls if p in winners)
        g_sat = sum(1 for p in cls if p in others)
        if comparison == "satisfaction" and a_sat and g_sat:
            prefers_mes += k * (a_sat > g_sat)
            prefers_greedy += k * (g_sat > a_sat)
        elif comparison == "exclusion":
            prefers_mes += k * (a_sat > 0 and g_sat == 0)
            prefers_greedy += k * (g_sat > 0 and a_sat == 0)
    replaced = comparison != "none" and prefers_greedy > prefers_mes
    return ToolResult(
        mes=mes,
        greedy=greedy,
        prefers_mes=prefers_mes,
        prefers_greedy=prefers_greedy,
        replaced=replaced,
        start=start,
    )


def _add1_plain(
    e: engine.Election, ranks: Sequence[int], increment: int, base: int
) -> engine.MESRun:
    """The tool's add1 step by step (no numpy): raise while the next fits."""
    run = engine.mes_once(e, ranks, "cost", base)
    _, candidates = engine.mes_eligible(e, "cost")
    k = 0
    while len(run.selected) < len(candidates):  # else more money changes nothing
        nxt = engine.mes_once(e, ranks, "cost", base + (k + 1) * increment * e.n)
        if sum(e.costs[p] for p in nxt.selected) > e.budget:
            return run
        run, k = nxt, k + 1
    return run
