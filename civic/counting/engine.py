"""Counting rules on a compiled election: exact greedy and Method of Equal Shares."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from math import gcd
from typing import Any

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
    # Projects ruled out before counting (below the city's vote threshold).
    excluded: frozenset[int] = frozenset()

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


_CACHE: list[tuple[Instance, Profile, Election]] = []


def compile_election(instance: Instance, profile: Profile) -> Election:
    """Merge identical ballots and index projects (no outcome decided here);
    the last few results are kept, as a count often tries several rules."""
    for inst, prof, election in _CACHE:
        if inst is instance and prof is profile:
            return election
    election = _compile(instance, profile)
    _CACHE.insert(0, (instance, profile, election))
    del _CACHE[4:]
    return election


def _compile(instance: Instance, profile: Profile) -> Election:
    if instance.vote_type != profile.vote_type:
        raise CountingError("instance and profile have different vote types")
    index = {p.id: i for i, p in enumerate(instance.projects)}
    m = len(index)
    votes = [0] * m
    score = [0] * m
    if profile.vote_type == "approval":
        raw = Counter([b.projects for b in profile.ballots])  # C speed
        counter: Counter = Counter()
        for names, k in raw.items():
            try:
                key = tuple(sorted([index[x] for x in names]))
            except KeyError as exc:
                raise CountingError(
                    f"a ballot names unknown project {exc.args[0]}"
                ) from None
            counter[key] += k
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
                raise CountingError(
                    f"a ballot names unknown project {exc.args[0]}"
                ) from None
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
    # Fast engines, per round after the zero-cost projects: a lower bound
    # (float, Fraction, rank) on the key of every project that could still
    # compete with that round's winner (None: nothing could); see mes_add1_fast.
    margins: list[tuple[float, Fraction, int] | None] = field(default_factory=list)


def mes_eligible(e: Election, utility: str) -> tuple[list[int], list[int]]:
    """Zero-cost supported projects (funded first) and MES candidates.

    As in pabutools, a project enters MES only if its supporters' total
    satisfaction is positive: with cost utility a free project brings
    satisfaction 0, so MES never funds it (a greedy completion can)."""
    eligible = [p for p in range(len(e.ids)) if e.votes[p] > 0 and p not in e.excluded]
    free = [p for p in eligible if e.costs[p] == 0 and utility != "cost"]
    candidates = [p for p in eligible if e.costs[p] > 0]
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
    free, candidates = mes_eligible(e, utility)
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
            full = sum(w for v, w in h.items() if values[v] >= pi)
            partial = [(values[v], w) for v, w in h.items() if values[v] < pi]
            run.payments[p] = [
                (Fraction(pi) / n, full),
                (
                    Fraction(sum(v * w for v, w in partial)) / n,
                    sum(w for _, w in partial),
                ),
            ]
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
    free, candidates = mes_eligible(e, utility)
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
        full, partial, partial_paid = 0, 0, Fraction(0)
        for c in e.supporters[p]:
            share = rho * weight[c][p] * unit[p]
            if budget[c] >= share:
                full += e.mult[c]
                budget[c] -= share
            else:
                partial += e.mult[c]
                partial_paid += budget[c] * e.mult[c]
                budget[c] = 0
        if details:
            # With points the full share differs by voter: report it per point.
            run.rho[p] = rho
            run.payments[p] = [
                (rho * unit[p] / n, full),
                (partial_paid / n, partial),
            ]
    if details:
        chosen = set(run.selected)
        for p in candidates:
            if p not in chosen:
                run.left_with_supporters[p] = sum(
                    budget[c] * e.mult[c] for c in e.supporters[p]
                )
    return run


_NUMPY: list[bool] = []


def numpy_available() -> bool:
    """True when numpy can be imported (the fast approval MES needs it)."""
    if not _NUMPY:
        try:
            import numpy  # noqa: F401
        except ImportError:
            _NUMPY.append(False)
        else:
            _NUMPY.append(True)
    return _NUMPY[0]


def mes_once(
    e: Election, ranks: Sequence[int], utility: str, start: int, details: bool = False
) -> MESRun:
    """One run of MES, whichever ballot kind, the fastest way available."""
    if e.approval and numpy_available():
        result = mes_run(approval_index(e, utility), ranks, start, details)
        assert result is not None
        return result[0]
    if e.approval:
        return mes_approval(e, ranks, utility, start, details)
    return mes_weighted(e, ranks, utility, start, details)


def is_exhaustive(
    e: Election, selected: Sequence[int], candidates: Sequence[int]
) -> bool:
    """No MES candidate left out could still be paid for (pabutools' test)."""
    left = e.budget - sum(e.costs[p] for p in selected)
    chosen = set(selected)
    return all(p in chosen or e.costs[p] > left for p in candidates)


def mes_add1_naive(
    e: Election, ranks: Sequence[int], utility: str, increment: int
) -> tuple[MESRun, int]:
    """pabutools' add1 loop step by step (reference for the fast one)."""
    _, candidates = mes_eligible(e, utility)
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


# --------------------------------------------------------------- fast approval MES
#
# The same rule as mes_approval, organised for speed: remaining budgets are
# integers over one common denominator `scale` (raised whenever a price needs
# it), each class of identical ballots holds the id of its current budget
# value in a numpy array, and a project's supporters are summarised by one
# np.bincount. numpy only counts voters (exact in int64/float64 below 2^53);
# every comparison of money is between Python ints.


_INDEX_CACHE: list[tuple[Election, str, ApprovalIndex]] = []


def approval_index(e: Election, utility: str) -> ApprovalIndex:
    """ApprovalIndex of (e, utility), kept for the next few calls: one count
    runs MES several times on the same election."""
    for el, u, a in _INDEX_CACHE:
        if el is e and u == utility:
            return a
    a = ApprovalIndex(e, utility)
    _INDEX_CACHE.insert(0, (e, utility, a))
    del _INDEX_CACHE[4:]
    return a


class ApprovalIndex:
    """Precomputed arrays of an approval election for repeated MES runs."""

    def __init__(self, e: Election, utility: str) -> None:
        import numpy as np

        self.np = np
        self.e = e
        self.mult = np.asarray(e.mult, dtype=np.float64)
        self.supp = [np.asarray(s, dtype=np.intp) for s in e.supporters]
        self.supp_mult = [self.mult[s] for s in self.supp]
        # Scratch space of mes_fast, reused from run to run: float budgets and
        # payment paths of value ids (counts below 2^24 are exact in float32).
        self.path_dtype = np.float32 if e.n < 2**24 else np.float64
        self.fv = np.zeros(1024)
        self.path = np.zeros((1024, max(1, len(e.ids))), dtype=self.path_dtype)
        self.unit = [e.costs[p] if utility == "cost" else 1 for p in range(len(e.ids))]
        self.free, self.candidates = mes_eligible(e, utility)
        # Supporter summaries shared between mes_fast runs (see _History).
        self.history = _History()
        self.clock = 0
        # Work done so far, for benchmarks: price evaluations, rounds won on
        # a guide's word (mes_fast's `guide`).
        self.prices = 0
        self.guided = 0


class _History:
    """A state of mes_fast's budget classes, reached from the start by a
    sequence of rounds, with the supporter summaries computed in it.

    Which class holds which value id depends only on the rounds so far: the
    project funded and the value ids that kept money, in the order they were
    given new ids (`kept`) — never on the starting budget, which only moves
    the float and exact values of the ids. So runs at different starts (add1)
    that go through the same rounds share the same classes, and a summary
    (value ids of a project's supporters and how many voters hold each) found
    in one is valid in the other. It is stored in the order the previous run
    sorted it by budget, which is usually still sorted (checked each time)."""

    __slots__ = ("summaries", "children", "used")

    def __init__(self) -> None:
        # project -> (value ids, voters, sorted by a run's budgets?)
        self.summaries: dict[int, tuple[Any, Any, bool]] = {}
        self.children: dict[tuple[int, bytes], _History] = {}
        self.used = 0

    def child(self, p: int, kept: Any, clock: int) -> _History:
        key = (p, kept.tobytes())
        node = self.children.get(key)
        if node is None:
            node = self.children[key] = _History()
        node.used = clock
        return node

    def prune(self, oldest: int) -> None:
        """Forget the states no run since `oldest` went through."""
        stack = [self]
        while stack:
            node = stack.pop()
            for key in [k for k, c in node.children.items() if c.used < oldest]:
                del node.children[key]
            stack.extend(node.children.values())


Margin = tuple[float, Fraction, int] | None


def _margin(heap: list, funded: set[int], guided: bool, gm: Margin) -> Margin:
    """This round's lower bound on the key (rho, rank) of every project still
    competing once the winner is known: the heap top or, while the rounds so
    far are the guide's (see mes_fast), the better of the heap top and the
    guide's margin of the round, a lower bound here too, as keys only rise
    with less money along the same rounds. None: nothing else is affordable."""
    while heap and heap[0][3] in funded:
        heapq.heappop(heap)
    if (guided and gm is None) or not heap:
        return None
    top = heap[0][:3]
    return max(top, gm) if guided else top


def _sharpen(guided: bool, gm: Margin, bound: tuple) -> bool:
    """Does this round's margin still need exact prices to rise above the
    `ref` bound? Not when the guide's margin (kept, see _margin) already is."""
    return not guided or (gm is not None and gm <= bound)


class _Rounds:
    """Who wins each round of a fast MES run (mes_fast and mes_fast_small, which
    differ only in how they price a project and update budgets).

    While the rounds so far are the guide's, its margin bounds every competitor of
    its winner (see mes_fast), so that winner is priced alone; otherwise the lazy
    heap of keys decides: a project's key only rises as budgets shrink, so the one
    on top, priced again, wins if it is still not above the next. While the run
    follows `ref`, every project not yet provably worse than ref's winner of the
    round is priced exactly, for the certificate. Records each round's winning
    key (`won`) and margin (`run.margins`)."""

    def __init__(self, a: ApprovalIndex, ranks: Sequence[int], heap: list,
                 run: MESRun, won: list,
                 ref: tuple[Sequence[int], Sequence[tuple[float, Fraction, int]]] | None,
                 guide: tuple[Sequence[int], Sequence[Margin]] | None) -> None:
        self.a, self.ranks, self.heap, self.run, self.won = a, ranks, heap, run, won
        self.ref, self.guide = ref, guide
        self.step = 0
        self.matched = ref is not None
        self.guided = guide is not None
        self.funded: set[int] = set()  # left in the heap when won on the guide's word
        # Exact prices found in this round (no budget changed since): a project
        # pushed back with its exact key is not priced again when it comes up.
        self.exact: dict[int, Any] = {}

    def choose(self, price: Callable[..., Any], key: Callable[[int, Any], tuple]
               ) -> tuple[int, Any] | None:
        """This round's winner and its price (from `price`), or None: nothing is
        affordable. `price(p, above)` may return a Fraction below p's key and above
        the heap entry `above`'s: proof enough that p does not win now."""
        heap, ranks, exact, funded = self.heap, self.ranks, self.exact, self.funded
        guide, ref, step = self.guide, self.ref, self.step
        chosen = -1
        gm: Margin = None
        pr = None
        if self.guided:
            assert guide is not None
            if step == len(guide[0]):
                return None  # nothing was affordable at the richer start: nor here
            w, gm = guide[0][step], guide[1][step]
            pr = price(w)
            if pr is not None:
                exact[w] = pr
                k = key(w, pr)
                if gm is None or (*k, ranks[w]) < gm:
                    self.a.guided += 1
                    chosen = w
                    self.won.append((*k, ranks[w]))
        while chosen < 0 and heap:
            _, _, r, p = heapq.heappop(heap)
            if p in funded:
                continue
            pr = exact.get(p)
            if pr is None:
                pr = price(p, heap[0] if heap else None)
                if pr is None:
                    continue  # budgets only shrink: never affordable again
                if isinstance(pr, Fraction):  # a proven lower bound
                    heapq.heappush(heap, (float(pr), pr, r, p))
                    continue
                exact[p] = pr
            k = key(p, pr)
            if heap and (*k, r) > heap[0][:3]:
                heapq.heappush(heap, (*k, r, p))
                continue
            chosen = p
            self.won.append((*k, r))
            break
        if chosen < 0:
            return None
        if self.guided and chosen != guide[0][step]:  # type: ignore[index]
            self.guided = False  # another winner: the guide's rounds are no bound now
        funded.add(chosen)
        if self.matched and step < len(ref[0]) and ref[0][step] == chosen:  # type: ignore[index]
            # Price exactly every project the heap cannot yet prove worse
            # than ref's winner of this round (they go back with exact keys).
            bound = ref[1][step]  # type: ignore[index]
            held = []
            while _sharpen(self.guided, gm, bound) and heap and heap[0][:3] <= bound:
                _, _, r, q = heapq.heappop(heap)
                if q in funded:
                    continue
                pq = price(q)
                if pq is None:
                    continue
                exact[q] = pq
                held.append((*key(q, pq), r, q))
                if held[-1][:3] <= bound:
                    break  # no certificate for this sequence: stop here
            for item in held:
                heapq.heappush(heap, item)
        else:
            self.matched = False
        self.run.margins.append(_margin(heap, funded, self.guided, gm))
        self.step += 1
        exact.clear()
        return chosen, pr


def mes_fast(
    a: ApprovalIndex,
    ranks: Sequence[int],
    start: int,
    details: bool = False,
    ref: tuple[Sequence[int], Sequence[tuple[float, Fraction, int]]] | None = None,
    guide: tuple[Sequence[int], Sequence[Margin]] | None = None,
) -> tuple[MESRun, list[tuple[float, Fraction, int]]] | None:
    """One MES run at scaled starting budget `start`.

    `ref` = (sequence, winning keys) of a run at a smaller start: while this
    run funds the same sequence, every project whose heap key is not above
    ref's winning key of the round is priced exactly, so that `run.margins`
    is sharp enough to certify that sequence for every start in between
    (mes_add1_fast).

    Budget classes: a voter who has paid in full for every funded project they
    approve has exactly start - (sum of those prices); one who could not has 0.
    So classes of ballots are grouped by *value ids*, one per distinct path of
    full payments: `path[v, r]` says whether value v paid round r's price, and
    `fv[v]` is a float near its budget, off by at most `tol` (each of at most
    R subtractions of a correctly rounded price is off by at most 2^-52 start).
    Floats only guess the order of budgets and which supporters pay in full;
    the guess is then checked in exact integers: with every price written as
    P[r] / D over one common denominator D, a group of values holding W voters,
    M[r] of whom paid round r, has exactly W*start - sum(M[r] P[r]) / D, which
    is a matrix-vector product of small counts and a handful of big-int terms.
    Values within float error of the price are compared one by one, exactly;
    if the guess is wrong the price is recomputed fully exactly.
    """
    np = a.np
    e = a.e
    n = e.n
    unit = a.unit
    costs = e.costs
    rounds_max = max(1, len(a.candidates))
    fv = a.fv
    path = a.path
    cap = len(fv)
    fv[1] = float(start)
    path[1] = 0
    pdt = a.path_dtype
    nv = 2  # value ids in use (0: exhausted, 1: the starting budget)
    compact_at = 2048
    tol = float(start) * (rounds_max + 2) * 2.0**-51
    band = 4 * tol
    P: list[int] = []  # price of round r times D
    D = 1
    vid = np.ones(len(e.classes), dtype=np.intp)
    free = sorted(a.free, key=ranks.__getitem__)
    run = MESRun(selected=list(free), start=start)
    won: list[tuple[float, Fraction, int]] = []
    a.clock += 1
    node = a.history
    node.used = a.clock
    if a.clock % 4 == 0:
        a.history.prune(a.clock - 4)

    def exact_one(v: int) -> int:
        """Exact budget of value v, times D."""
        R = len(P)
        if not R:
            return start * D
        rs = path[v, :R].nonzero()[0].tolist()
        return start * D - sum([P[r] for r in rs])

    def exact_sum(ids: Any, ws: Any) -> int:
        """Exact total budget of these values (ws voters each), times D."""
        total = int(ws.sum()) * start * D
        R = len(P)
        if R and len(ids):
            m = (ws.astype(pdt) @ path[ids, :R]).tolist()
            total -= sum([int(c) * P[r] for r, c in enumerate(m) if c])
        return total

    def summary(p: int) -> tuple[Any, Any]:
        """Distinct nonzero budget value ids of p's supporters, and how many
        (read from the shared history when a run went through this state)."""
        hit = node.summaries.get(p)
        if hit is not None:
            return hit[0], hit[1]
        counts = np.bincount(vid[a.supp[p]], weights=a.supp_mult[p])
        counts[0] = 0
        ids = counts.nonzero()[0]
        ws = counts[ids]
        node.summaries[p] = ids, ws, False
        return ids, ws

    def exact_price(p: int, ids: Any, ws: Any) -> tuple | None:
        """Fallback: the price from exact budgets, sorted exactly."""
        exact = [exact_one(v) for v in ids.tolist()]
        order = sorted(range(len(ids)), key=exact.__getitem__)
        ids = ids[order]
        ws = ws[order]
        wl = [int(w) for w in ws.tolist()]
        rest, rich = costs[p] * n * D, sum(wl)
        for j, i in enumerate(order):
            value = exact[i]
            if rest * 1 <= value * rich:
                return rest, rich * D, ids, ws, None, j
            rest -= value * wl[j]
            rich -= wl[j]
        return None

    def price(p: int, above: tuple | None = None) -> tuple | Fraction | None:
        """(rest, den, ids, ws, f, j): every supporter pays min(budget, rest/den);
        ids/ws/f: supporters' value ids, voters and float budgets by budget, the
        first j of them paying all they have. None if unaffordable.

        With `above` (a heap entry), may instead return a Fraction lb with
        above's key < lb < p's key: proof enough that p is not the cheapest."""
        a.prices += 1
        ids, ws = summary(p)
        if len(ids) == 0:
            return None
        need = costs[p] * n
        f = fv[ids]
        if len(ids) > 1 and not (node.summaries[p][2] and (f[1:] >= f[:-1]).all()):
            order = f.argsort(kind="stable")
            ids = ids[order]
            ws = ws[order]
            f = f[order]
            node.summaries[p] = ids, ws, True  # sorted, for the next run here
        paid = (f * ws).cumsum()
        total_f = float(paid[-1])
        W = float(ws.sum())
        err = W * tol + (len(ids) + 2) * 2.0**-52 * total_f
        if total_f + err < need:
            return None  # proven: even all their money is not enough
        # Float guess of the first supporter able to pay the full share: the
        # first i where a price of f[i] each would raise the cost (paid[i] by
        # the poorer ones and i itself, f[i] by each richer one)...
        cw = ws.cumsum()
        j = int((paid + f * (W - cw)).searchsorted(need, "left"))
        if j == len(ids):
            return exact_price(p, ids, ws)
        paid_before_j = float(paid[j - 1]) if j else 0.0
        rich_from_j = W - float(cw[j - 1]) if j else W
        if above is not None:
            # Screen: supporters who pay min(budget, L) for an L a little below
            # the float guess provably raise less than the cost (float error
            # bounded as for `err`), so p's price exceeds L; if L is above the
            # best key in the heap, p cannot win now and needs no exact price.
            guess = (need - paid_before_j) / rich_from_j
            L = guess * (1 - 2.0**-30)
            if L > 0 and L / unit[p] > above[0] * (1 + 2.0**-40):
                i = int(f.searchsorted(L, "left"))
                raised = L * (W - float(cw[i - 1])) + float(paid[i - 1]) if i else L * W
                bound = W * tol + (len(ids) + 4) * 2.0**-52 * (total_f + L * W)
                if raised + bound < need:
                    lb = Fraction(L) / unit[p]
                    if lb > above[1]:
                        return lb
        # ...checked exactly: poor ones have at most the price, rich ones at least.
        rich = int(W - float(ws[:j].sum())) if j else int(W)
        rest = need * D - exact_sum(ids[:j], ws[:j]) if j else need * D
        if rich <= 0 or rest <= 0:
            return exact_price(p, ids, ws)
        den = rich * D
        pf = rest / den
        lo = int(f.searchsorted(pf - band, "left"))
        hi = int(f.searchsorted(pf + band, "right"))
        if not lo <= j <= hi:
            return exact_price(p, ids, ws)
        for i in range(lo, hi):
            b = exact_one(int(ids[i]))
            if (i < j and b * rich > rest) or (i >= j and b * rich < rest):
                return exact_price(p, ids, ws)
        return rest, den, ids, ws, f, j

    def key(p: int, pr: tuple) -> tuple[float, Fraction]:
        # The float is correctly rounded, hence ordered like the exact value:
        # it settles most comparisons, the Fraction settles float ties.
        k = Fraction(pr[0], pr[1] * unit[p])
        return float(k), k

    heap = []
    for p in a.candidates:
        # Everyone starts with `start`: all supporters pay an equal share.
        votes = e.votes[p]
        if start * votes >= costs[p] * n:
            k = Fraction(costs[p] * n, votes * unit[p])
            heap.append((float(k), k, ranks[p], p))
    heapq.heapify(heap)
    rounds = _Rounds(a, ranks, heap, run, won, ref, guide)
    while True:
        found = rounds.choose(price, key)
        if found is None:
            break
        p, pr = found
        run.selected.append(p)
        rest, den, ids, ws, f, j = pr
        g = gcd(rest, den)
        num, den = rest // g, den // g  # the price per voter is num / den
        # New common denominator: D * (den / gcd(D, den)); den is a multiple of D.
        factor = den // gcd(D, den)
        if factor > 1:
            D *= factor
            P = [x * factor for x in P]
        pD = num * (D // den)  # price times D
        R = len(P)
        P.append(pD)
        pf = num / den
        # Who keeps money: rich values strictly above the price.
        # (f is None: the order was found exactly; check every value.)
        hi = len(ids) if f is None else int(f.searchsorted(pf + band, "right"))
        spent = [i - j for i in range(j, hi) if exact_one(int(ids[i])) <= pD]
        if details:
            k = Fraction(num, den * unit[p])
            run.rho[p] = k
            # Poor values exactly at the price pay it in full too.
            lo = 0 if f is None else int(f.searchsorted(pf - band, "left"))
            equal = [i for i in range(lo, j) if exact_one(int(ids[i])) == pD]
            w_eq = sum(int(ws[i]) for i in equal)
            full = int(ws[j:].sum()) + w_eq
            partial_n = int(ws[:j].sum()) - w_eq
            partial_sum = Fraction(exact_sum(ids[:j], ws[:j]), D) - w_eq * Fraction(
                num, den
            )
            run.payments[p] = [
                (Fraction(num, den * n), full),
                (partial_sum / n, partial_n),
            ]
        kept = ids[j:]
        if spent:
            kept = np.delete(kept, spent)
        new = len(kept)
        if nv + new > cap:
            while nv + new > cap:
                cap *= 2
            fv2 = np.zeros(cap)
            fv2[:nv] = fv[:nv]
            fv = a.fv = fv2
            path2 = np.zeros((cap, path.shape[1]), dtype=pdt)
            path2[:nv] = path[:nv]
            path = a.path = path2
        remap = np.zeros(nv, dtype=np.intp)
        remap[kept] = np.arange(nv, nv + new, dtype=np.intp)
        fv[nv : nv + new] = fv[kept] - pf
        if R:
            path[nv : nv + new, :R] = path[kept, :R]
        path[nv : nv + new, R:] = 0
        path[nv : nv + new, R] = 1
        nv += new
        sp = a.supp[p]
        vid[sp] = remap[vid[sp]]
        node = node.child(p, kept, a.clock)
        if nv > compact_at:
            # Forget values no class holds any more.
            used = np.bincount(vid, minlength=nv)
            used[0] = 1
            live = used.nonzero()[0]
            compact_at = max(2048, 2 * len(live))
            if 2 * len(live) < nv:
                compact = np.zeros(nv, dtype=np.intp)
                compact[live] = np.arange(len(live), dtype=np.intp)
                vid = compact[vid]
                fv[: len(live)] = fv[live]
                path[: len(live)] = path[live]
                nv = len(live)
    if details:
        chosen_set = set(run.selected)
        for p in a.candidates:
            if p not in chosen_set:
                ids, ws = summary(p)
                run.left_with_supporters[p] = Fraction(exact_sum(ids, ws), D)
    return run, won


def mes_fast_small(
    a: ApprovalIndex,
    ranks: Sequence[int],
    start: int,
    details: bool = False,
    ref: tuple[Sequence[int], Sequence[tuple[float, Fraction, int]]] | None = None,
    guide: tuple[Sequence[int], Sequence[Margin]] | None = None,
) -> tuple[MESRun, list[tuple[float, Fraction, int]]] | None:
    """mes_fast for small elections (few ballot classes), where numpy's
    per-call overhead dominates: budgets kept as exact integers over a common
    denominator, raised when a price needs it. Same arguments and results.

    `ref` and `run.margins` as in mes_fast."""
    np = a.np
    e = a.e
    n = e.n
    unit = a.unit
    # vals[i] / scale is a remaining budget (cents * n), exactly; fv[i] is a
    # float near it, used only to guess an order that is then checked exactly.
    vals = np.array([0, start], dtype=object)
    # Raising the common denominator would rescale every value each round
    # (16,000 distinct budgets on Warszawa 2026); values are brought to the
    # current scale only when read: ep[i] is the epoch value i is written in,
    # fac[e] the factor from epoch e to now.
    ep = np.zeros(2, dtype=np.int64)
    fac = np.array([1], dtype=object)
    fv = np.array([0.0, float(start)])
    scale = 1
    vid = np.ones(len(e.classes), dtype=np.int64)
    free = sorted(a.free, key=ranks.__getitem__)
    run = MESRun(selected=list(free), start=start)
    won: list[tuple[float, Fraction, int]] = []

    def fresh(ids: Any) -> Any:
        """Exact values (object array) of these value ids at the current scale."""
        now = len(fac) - 1
        if now:
            stale = ep[ids] != now
            if stale.any():
                sid = ids[stale]
                vals[sid] = vals[sid] * fac[ep[sid]]
                ep[sid] = now
        return vals[ids]

    def summary(p: int) -> tuple[Any, Any]:
        """Distinct nonzero budget value ids of p's supporters, and how many."""
        counts = np.bincount(vid[a.supp[p]], weights=a.supp_mult[p])
        counts[0] = 0
        ids = counts.nonzero()[0]
        return ids, counts[ids].astype(np.int64)

    def price(p: int, above: tuple | None = None) -> tuple[int, int] | None:
        """(rest, rich): each supporter pays min(budget, rest / rich). (`above`:
        see mes_fast's price; this one always prices exactly.)"""
        a.prices += 1
        ids, ws = summary(p)
        if len(ids) == 0:
            return None
        if len(ids) < 128:  # small: a plain exact loop beats numpy's overhead
            wl = ws.tolist()
            pairs = sorted(zip(fresh(ids).tolist(), wl))
            rest, rich = e.costs[p] * n * scale, sum(wl)
            for value, w in pairs:
                if rest <= value * rich:
                    return rest, rich
                rest -= value * w
                rich -= w
            return None
        order = fv[ids].argsort(kind="stable")
        ids = ids[order]
        ws = ws[order]
        v = fresh(ids)
        need = e.costs[p] * n * scale
        total = int((v * ws).sum())
        if total < need:
            return None
        # Float guess of the first supporter able to pay the full share...
        f = fv[ids]
        wf = ws.astype(np.float64)
        paid_before = np.concatenate(([0.0], (f * wf).cumsum()[:-1]))
        rich_from = wf.sum() - np.concatenate(([0.0], wf.cumsum()[:-1]))
        j = int((e.costs[p] * n - paid_before <= f * rich_from).argmax())
        # ...checked exactly: poor ones have at most the price, rich ones at least.
        wl = ws.tolist()
        rest = need - int((v[:j] * ws[:j]).sum()) if j else need
        rich = sum(wl[j:])
        if (
            rich > 0
            and (j == 0 or max(v[:j]) * rich <= rest)
            and min(v[j:]) * rich >= rest
        ):
            return rest, rich
        pairs = sorted(zip(v.tolist(), wl))  # exact fallback (float near-ties)
        rest, rich = need, sum(wl)
        for value, w in pairs:
            if rest <= value * rich:
                return rest, rich
            rest -= value * w
            rich -= w
        return None

    def key(p: int, pr: tuple[int, int]) -> tuple[float, Fraction]:
        # The float is correctly rounded, hence ordered like the exact value:
        # it settles most comparisons, the Fraction settles float ties.
        k = Fraction(pr[0], pr[1] * unit[p] * scale)
        return float(k), k

    heap = []
    for p in a.candidates:
        # Everyone starts with `start`: all supporters pay an equal share.
        votes = e.votes[p]
        if start * votes >= e.costs[p] * n:
            heap.append((*key(p, (e.costs[p] * n, votes)), ranks[p], p))
    heapq.heapify(heap)
    rounds = _Rounds(a, ranks, heap, run, won, ref, guide)
    while True:
        found = rounds.choose(price, key)
        if found is None:
            break
        p, pr = found
        run.selected.append(p)
        rest, rich = pr
        g = gcd(rest, rich)
        factor = rich // g
        if factor > 1:
            scale *= factor
            if len(vals) < 4096:  # few values: rescale them all now, cheaper
                vals = vals * (fac * factor)[ep] if len(fac) > 1 else vals * factor
                ep = np.zeros(len(vals), dtype=np.int64)
                fac = np.array([1], dtype=object)
            else:
                fac = np.append(fac * factor, 1)
        pi = rest // g  # an integer in the new scale
        ids, ws = summary(p)
        old = fresh(ids)
        if details:
            run.rho[p] = Fraction(pi, unit[p] * scale)
            full = old >= pi
            partial = int((old[~full] * ws[~full]).sum())
            run.payments[p] = [
                (Fraction(pi, scale * n), int(ws[full].sum())),
                (Fraction(partial, scale * n), int(ws[~full].sum())),
            ]
        left = old - pi
        keep = left > 0
        remap = np.arange(len(vals), dtype=np.int64)
        remap[ids[~keep]] = 0
        kept = ids[keep]
        remap[kept] = np.arange(len(vals), len(vals) + len(kept), dtype=np.int64)
        vals = np.concatenate((vals, left[keep]))
        ep = np.concatenate((ep, np.full(len(kept), len(fac) - 1, dtype=np.int64)))
        fv = np.concatenate((fv, fv[kept] - float(Fraction(pi, scale))))
        sp = a.supp[p]
        vid[sp] = remap[vid[sp]]
        if len(vals) > 256:
            # Forget values no class holds any more (keeps rescaling cheap).
            used = np.bincount(vid, minlength=len(vals))
            used[0] = 1
            live = used.nonzero()[0]
            if 2 * len(live) < len(vals):
                compact = np.zeros(len(vals), dtype=np.int64)
                compact[live] = np.arange(len(live), dtype=np.int64)
                vid = compact[vid]
                vals = vals[live]
                ep = ep[live]
                fv = fv[live]
    if details:
        chosen_set = set(run.selected)
        for p in a.candidates:
            if p not in chosen_set:
                ids, ws = summary(p)
                run.left_with_supporters[p] = Fraction(
                    int((fresh(ids) * ws).sum()), scale
                )
    return run, won


PROBE = 4  # after a failed jump, mes_add1_fast probes this far ahead
SMALL_CLASSES = 2000  # below this many ballot classes mes_fast_small is faster


def mes_run(
    a: ApprovalIndex,
    ranks: Sequence[int],
    start: int,
    details: bool = False,
    ref: tuple[Sequence[int], Sequence[tuple[float, Fraction, int]]] | None = None,
    guide: tuple[Sequence[int], Sequence[Margin]] | None = None,
) -> tuple[MESRun, list[tuple[float, Fraction, int]]] | None:
    """One MES (or certificate) run with the engine that suits the size."""
    run = mes_fast_small if len(a.e.classes) < SMALL_CLASSES else mes_fast
    return run(a, ranks, start, details, ref, guide)


def certifies(
    rs: MESRun, won: Sequence[tuple[float, Fraction, int]], rt: MESRun
) -> bool:
    """Proof that every start between rs's and rt's (rs's the smaller) funds
    rs's sequence: the same sequence at both ends, and in every round a
    lower bound on every competitor at rt above rs's winning key (`won`)."""
    if rs.selected != rt.selected or len(rt.margins) != len(won):
        return False
    return all(m is None or m > w for m, w in zip(rt.margins, won, strict=True))


def mes_add1_fast(
    a: ApprovalIndex,
    ranks: Sequence[int],
    increment: int,
    details: bool = False,
    base: int | None = None,
    exhaustive_over: Sequence[int] | None = None,
    stop_when_exhaustive: bool = True,
    guided: bool = True,
) -> tuple[MESRun, dict[str, int]]:
    """pabutools' add1 completion, skipping increments that cannot change the
    outcome.

    Along a fixed sequence of funded projects every remaining budget, hence
    every price, is monotone in the starting budget (a price never rises when
    supporters have more money; what a supporter keeps, max(0, b - price),
    never falls). Take runs at starts s < t funding the same sequence, and
    suppose that in every round r the lower bound t's run holds on every
    other project's key (`margins[r]`: its heap top once the winner is
    known) is above the winning key (rho, rank) of s's round r, and that t's
    run ended with nothing affordable. Then by induction on the rounds every
    start u in between funds that sequence too: a competitor's key at u is at
    least its key at t, above the winner's key at s, which is at least the
    winner's key at u; and what nobody could afford at t stays unaffordable
    with less money. So add1 may jump from s to t: no increment between can
    stop it (same set, same cost, same exhaustiveness).

    Every run computed is a genuine MES run at its start, refined against the
    current run (see mes_fast's `ref`), so a jump that fails to certify is not
    lost: its run is kept for when add1 gets there one increment at a time,
    and (`guided`) the runs below it follow its winners as long as its margins
    prove them (mes_fast's `guide`). Jumps double after a success; after a
    failure the search walks through the runs it kept, then probes PROBE
    increments ahead, so that the run in between has a guide.
    """
    e = a.e
    stats = {"runs": 0, "certificates": 0, "increments": 0, "prices": 0, "guided": 0}
    if e.n == 0:
        return MESRun(selected=[], start=0), stats
    prices0, guided0 = a.prices, a.guided
    step_money = increment * e.n
    # pabutools starts from budget/n per voter and tests exhaustiveness on the
    # MES candidates; equalshares.net may start from a whole amount per voter
    # and test it on every project.
    base = e.budget if base is None else base
    over = a.candidates if exhaustive_over is None else exhaustive_over
    nfree = len(a.free)
    runs: dict[int, tuple[MESRun, list[tuple[float, Fraction, int]]]] = {}

    def at(k: int, ref_k: int | None) -> MESRun:
        if k not in runs:
            ref = None
            if ref_k is not None:
                r0, w0 = runs[ref_k]
                ref = (r0.selected[nfree:], w0)
            guide = None
            richer = [i for i in runs if i > k] if guided else []
            if richer:
                r1 = runs[min(richer)][0]
                guide = (r1.selected[nfree:], r1.margins)
            result = mes_run(a, ranks, base + k * step_money, ref=ref, guide=guide)
            assert result is not None
            runs[k] = result
            stats["runs"] += 1
        return runs[k][0]

    def certified(s: int, t: int) -> bool:
        stats["certificates"] += 1
        return certifies(*runs[s], runs[t][0])

    k = 0
    run = at(0, None)
    previous = run
    jump = 1
    while True:
        if sum(e.costs[p] for p in run.selected) > e.budget:
            # pabutools returns the outcome of the increment just before (a
            # jump never lands here: it keeps the set, which was not over).
            k -= 1
            run = MESRun(selected=previous.selected, start=base + k * step_money)
            break
        if stop_when_exhaustive and is_exhaustive(e, run.selected, over):
            break
        if not stop_when_exhaustive and len(run.selected) == nfree + len(
            a.candidates
        ):
            break  # everything MES can fund is funded: more money changes nothing
        # A run kept from an earlier failed jump may certify a jump for free
        # (only one funding the same sequence can).
        ok = False
        far_runs = [i for i in runs if i > k + jump and runs[i][0].selected == run.selected]
        for far in sorted(far_runs, reverse=True):
            if certified(k, far):
                ok, jump = True, far - k
                break
        while not ok:
            at(k + jump, k)
            ok = certified(k, k + jump)
            if ok or jump == 1:
                break
            jump //= 2
        previous = run
        k += jump
        run = runs[k][0]
        for old in [i for i in runs if i < k]:
            del runs[old]
        if ok:
            jump *= 2
        else:
            ahead = [i - k for i in runs if i > k]
            jump = min(ahead) if ahead else PROBE if guided else 1
    stats["increments"] = k
    stats["prices"] = a.prices - prices0
    stats["guided"] = a.guided - guided0
    if details:
        run, _ = mes_run(a, ranks, run.start, details=True)
    return run, stats
