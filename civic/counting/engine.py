"""The counting rules on a compiled election: exact greedy and Method of Equal Shares."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from civic.counting.model import CountingError, Instance, Profile

Number = int | Fraction


@dataclass
class Election:
    """Ballots merged into classes of identical ballots, projects by index."""

    ids: list[str]
    costs: list[int]
    budget: int
    n: int  # number of ballots, empty ones included (MES shares budget / n)
    classes: list[tuple[int, ...]]  # project indices of each distinct ballot
    mult: list[int]  # how many voters cast that ballot
    points: list[tuple[int, ...]] | None  # None = approval (all weights 1)
    votes: list[int]  # voters listing each project
    score: list[int]  # votes (approval) or total points
    supporters: list[list[int]] = field(default_factory=list)

    @property
    def approval(self) -> bool:
        """True when every supporter's weight for a project is 1."""
        return self.points is None


def ordinal_points(profile: Profile, instance: Instance) -> list[tuple[int, ...]]:
    """Borda-like points of ordinal ballots: L for the first choice, L-1 next…,
    with L = META max_length, else the number of projects (Kraków's 3/2/1)."""
    md = instance.meta_dict
    top = int(md["max_length"]) if md.get("max_length") else len(instance.projects)
    return [tuple(top - i for i in range(len(b.projects))) for b in profile.ballots]


def compile_election(instance: Instance, profile: Profile) -> Election:
    """Merge identical ballots and index projects (no outcome decided here)."""
    if instance.vote_type != profile.vote_type:
        raise CountingError("instance and profile have different vote types")
    index = {p.id: i for i, p in enumerate(instance.projects)}
    m = len(index)
    votes = [0] * m
    score = [0] * m
    if profile.vote_type == "approval":
        counter: Counter = Counter()
        for b in profile.ballots:
            try:
                key = tuple(sorted(index[x] for x in b.projects))
            except KeyError as exc:
                raise CountingError(f"a ballot names unknown project {exc.args[0]}") from None
            counter[key] += 1
        classes = list(counter)
        mult = list(counter.values())
        for cls, k in zip(classes, mult):
            for p in cls:
                votes[p] += k
        score = list(votes)
        points = None
    else:
        if profile.vote_type == "ordinal":
            all_points = ordinal_points(profile, instance)
        else:
            all_points = [b.points or () for b in profile.ballots]
        counter = Counter()
        for b, pts in zip(profile.ballots, all_points):
            try:
                pairs = tuple(
                    sorted((index[x], w) for x, w in zip(b.projects, pts) if w > 0)
                )
            except KeyError as exc:
                raise CountingError(f"a ballot names unknown project {exc.args[0]}") from None
            if any(w < 0 for w in pts):
                raise CountingError("negative points cannot be counted")
            for x in b.projects:
                votes[index[x]] += 1
            counter[pairs] += 1
        classes = [tuple(p for p, _ in key) for key in counter]
        points = [tuple(w for _, w in key) for key in counter]
        mult = list(counter.values())
        for cls, pts, k in zip(classes, points, mult):
            for p, w in zip(cls, pts):
                score[p] += w * k
    supporters: list[list[int]] = [[] for _ in range(m)]
    for c, cls in enumerate(classes):
        for p in cls:
            supporters[p].append(c)
    return Election(
        ids=[p.id for p in instance.projects],
        costs=[p.cost for p in instance.projects],
        budget=instance.budget,
        n=len(profile.ballots),
        classes=classes,
        mult=mult,
        points=points,
        votes=votes,
        score=score,
        supporters=supporters,
    )


# --------------------------------------------------------------------------- greedy


@dataclass
class GreedyResult:
    """Projects funded in order, and why each other project was not."""

    selected: list[int]
    reasons: dict[int, tuple[str, int]]  # project -> (reason, money left then)


def greedy(
    e: Election,
    ranks: Sequence[int],
    utility: str = "cost",
    threshold: int | None = None,
    fund_unsupported: bool = True,
    initial: Sequence[int] = (),
) -> GreedyResult:
    """pabutools' greedy_utilitarian_welfare, plus a threshold and a choice
    about projects nobody supports."""
    chosen = set(initial)
    left = e.budget - sum(e.costs[p] for p in initial)

    def key(p: int) -> tuple:
        s, c = e.score[p], e.costs[p]
        if s > 0 and c == 0:
            return (0, 0, ranks[p])  # infinite satisfaction per euro: first
        density: Number = s if utility == "cost" else Fraction(s, c) if s else 0
        return (1, -density, ranks[p])

    reasons: dict[int, tuple[str, int]] = {}
    selected: list[int] = []
    for p in sorted((p for p in range(len(e.ids)) if p not in chosen), key=key):
        if threshold is not None and e.score[p] < threshold:
            reasons[p] = ("below_threshold", left)
        elif e.score[p] == 0 and not fund_unsupported:
            reasons[p] = ("no_supporters", left)
        elif e.costs[p] <= left:
            selected.append(p)
            left -= e.costs[p]
        else:
            reasons[p] = ("did_not_fit", left)
    return GreedyResult(selected=selected, reasons=reasons)


# ------------------------------------------------------------------------------ MES
#
# Money inside MES is scaled by n (the number of ballots): a voter's starting
# budget budget/n + k becomes the integer budget + k*n, a cost c becomes c*n,
# and every price is an exact int or Fraction. Comparisons are exact.


@dataclass
class MESRun:
    """One run of MES at a given starting budget per voter."""

    selected: list[int]
    start: int  # scaled starting budget of every voter
    # Filled when details are asked for: project -> rho (price per unit of
    # satisfaction, scaled), and the payment groups [(paid each, voters)].
    rho: dict[int, Fraction] = field(default_factory=dict)
    payments: dict[int, list[tuple[Number, int]]] = field(default_factory=dict)
    # Unfunded eligible project -> money its supporters still had at the end.
    left_with_supporters: dict[int, Number] = field(default_factory=dict)


def mes_eligible(e: Election) -> tuple[list[int], list[int]]:
    """Zero-cost supported projects (funded first) and MES candidates."""
    free = [p for p in range(len(e.ids)) if e.votes[p] > 0 and e.costs[p] == 0]
    candidates = [p for p in range(len(e.ids)) if e.votes[p] > 0 and e.costs[p] > 0]
    return free, candidates


def _frac(num: Number, den: int) -> Number:
    if isinstance(num, int) and num % den == 0:
        return num // den
    return Fraction(num, den)


def mes_approval(
    e: Election, ranks: Sequence[int], utility: str, start: int, details: bool = False
) -> MESRun:
    """MES for approval ballots, exact: supporters of a project are kept as a
    histogram of distinct remaining budgets, which stays small."""
    n = e.n
    free, candidates = mes_eligible(e)
    free.sort(key=ranks.__getitem__)
    unit = [e.costs[p] if utility == "cost" else 1 for p in range(len(e.ids))]
    need = [c * n for c in e.costs]
    # Distinct budget values are interned: classes and histograms hold ids.
    values: list[Number] = [0, start]
    floats: list[float] = [0.0, float(start)]
    vid = [1] * len(e.classes)
    hist: list[dict[int, int]] = [{} for _ in e.ids]
    for p in candidates:
        hist[p] = {1: e.votes[p]}
    run = MESRun(selected=list(free), start=start)

    def price(p: int) -> Number | None:
        """Payment of each non-exhausted supporter, or None if unaffordable."""
        h = hist[p]
        order = sorted(h, key=floats.__getitem__)
        fl = [floats[v] for v in order]
        if len(set(fl)) != len(fl):  # float order is exact except on float ties
            order.sort(key=values.__getitem__)
        rest = need[p]
        rich = sum(h.values())
        for v in order:
            value = values[v]
            if rest <= value * rich:
                return _frac(rest, rich)
            w = h[v]
            rest -= value * w
            rich -= w
        return None

    heap = []
    for p in candidates:
        pi = price(p)
        if pi is not None:
            heap.append((Fraction(pi) / unit[p], ranks[p], p))
    heapq.heapify(heap)
    while heap:
        _, r, p = heapq.heappop(heap)
        pi = price(p)
        if pi is None:
            continue  # budgets only shrink: it will never be affordable again
        rho = Fraction(pi) / unit[p]
        if heap and (rho, r) > heap[0][:2]:
            heapq.heappush(heap, (rho, r, p))
            continue
        # p has the smallest price per unit of satisfaction, ties by rank.
        run.selected.append(p)
        h = hist[p]
        if details:
            run.rho[p] = rho
            groups: dict[Number, int] = {}
            for v, w in h.items():
                paid = values[v] if values[v] < pi else pi
                groups[paid] = groups.get(paid, 0) + w
            run.payments[p] = sorted(groups.items(), key=lambda g: g[0])
        remap: dict[int, int] = {}
        for v in h:
            left = values[v] - pi
            if left <= 0:
                remap[v] = 0
            else:
                remap[v] = len(values)
                values.append(left)
                floats.append(float(left))
        hist[p] = {}
        for c in e.supporters[p]:
            old = vid[c]
            if not old:
                continue
            new = remap[old]
            vid[c] = new
            k = e.mult[c]
            for q in e.classes[c]:
                hq = hist[q]
                if not hq:
                    continue
                count = hq[old] - k
                if count:
                    hq[old] = count
                else:
                    del hq[old]
                if new:
                    hq[new] = hq.get(new, 0) + k
    if details:
        chosen = set(run.selected)
        for p in candidates:
            if p not in chosen:
                run.left_with_supporters[p] = sum(
                    values[vid[c]] * e.mult[c] for c in e.supporters[p]
                )
    return run


def mes_weighted(
    e: Election, ranks: Sequence[int], utility: str, start: int, details: bool = False
) -> MESRun:
    """MES for ballots with points (cumulative, scoring, ordinal), exact and
    straightforward: each supporter's satisfaction is points x unit."""
    assert e.points is not None
    n = e.n
    free, candidates = mes_eligible(e)
    free.sort(key=ranks.__getitem__)
    unit = [e.costs[p] if utility == "cost" else 1 for p in range(len(e.ids))]
    budget: list[Number] = [start] * len(e.classes)
    weight = [dict(zip(cls, pts)) for cls, pts in zip(e.classes, e.points)]
    run = MESRun(selected=list(free), start=start)

    def afford(p: int) -> Fraction | None:
        sup = [c for c in e.supporters[p]]
        total = sum(budget[c] * e.mult[c] for c in sup)
        if total < e.costs[p] * n:
            return None
        sat = {c: weight[c][p] * unit[p] for c in sup}
        sup.sort(key=lambda c: Fraction(budget[c]) / sat[c])
        rest: Number = e.costs[p] * n
        denom = sum(sat[c] * e.mult[c] for c in sup)
        for c in sup:
            rho = Fraction(rest) / denom
            if rho * sat[c] <= budget[c]:
                return rho
            rest -= budget[c] * e.mult[c]
            denom -= sat[c] * e.mult[c]
        return None

    heap = []
    for p in candidates:
        rho = afford(p)
        if rho is not None:
            heap.append((rho, ranks[p], p))
    heapq.heapify(heap)
    while heap:
        _, r, p = heapq.heappop(heap)
        rho = afford(p)
        if rho is None:
            continue
        if heap and (rho, r) > heap[0][:2]:
            heapq.heappush(heap, (rho, r, p))
            continue
        run.selected.append(p)
        groups: dict[Number, int] = {}
        for c in e.supporters[p]:
            paid = min(budget[c], rho * weight[c][p] * unit[p])
            budget[c] -= paid
            groups[paid] = groups.get(paid, 0) + e.mult[c]
        if details:
            run.rho[p] = rho
            run.payments[p] = sorted(groups.items(), key=lambda g: g[0])
    if details:
        chosen = set(run.selected)
        for p in candidates:
            if p not in chosen:
                run.left_with_supporters[p] = sum(
                    budget[c] * e.mult[c] for c in e.supporters[p]
                )
    return run


def mes_once(
    e: Election, ranks: Sequence[int], utility: str, start: int, details: bool = False
) -> MESRun:
    """One run of MES, whichever ballot kind."""
    if e.approval:
        return mes_approval(e, ranks, utility, start, details)
    return mes_weighted(e, ranks, utility, start, details)


def is_exhaustive(e: Election, selected: Sequence[int], candidates: Sequence[int]) -> bool:
    """No MES candidate left out could still be paid for (pabutools' test)."""
    left = e.budget - sum(e.costs[p] for p in selected)
    chosen = set(selected)
    return all(p in chosen or e.costs[p] > left for p in candidates)


def mes_add1_naive(
    e: Election, ranks: Sequence[int], utility: str, increment: int
) -> tuple[MESRun, int]:
    """pabutools' add1 loop step by step (reference for the fast one)."""
    _, candidates = mes_eligible(e)
    if e.n == 0:
        return MESRun(selected=[], start=0), 0
    k = 0
    previous = mes_once(e, ranks, utility, e.budget)
    steps = 1
    run = previous
    while True:
        if sum(e.costs[p] for p in run.selected) > e.budget:
            return previous, steps
        if is_exhaustive(e, run.selected, candidates):
            return run, steps
        previous = run
        k += 1
        run = mes_once(e, ranks, utility, e.budget + k * increment * e.n)
        steps += 1
