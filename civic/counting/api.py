"""count(): the one entry point the app and the command line call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from civic.counting import engine
from civic.counting.model import CountingError, Instance, Profile, format_money
from civic.counting.tiebreak import LEXICO, parse_chain, tie_ranks

RULES = ("greedy", "mes", "equalshares")
UTILITIES = ("cost", "cardinality")
COMPLETIONS = ("none", "add1", "greedy", "add1-greedy")
# Why a project was or was not funded: stable codes the app translates.
REASONS = {
    "funded": "funded: it fitted in what was left of the budget",
    "funded_mes": "funded by equal shares: its supporters could pay for it",
    "funded_completion": "funded by the greedy completion, with money MES left",
    "funded_free": "funded first: it costs nothing and has supporters",
    "did_not_fit": "not funded: it cost more than what was left of the budget",
    "supporters_could_not_afford": (
        "not funded: its supporters had too little of their share left to pay for it"
    ),
    "below_threshold": "not funded: fewer votes than the minimum required",
    "funded_comparison": (
        "funded: more voters preferred the greedy outcome to equal shares"
    ),
    "free_not_counted": (
        "not funded by equal shares: it costs nothing, so under cost utility it"
        " brings no satisfaction (a completion can fund it)"
    ),
    "no_supporters": "not funded: nobody voted for it",
}


@dataclass(frozen=True)
class ProjectResult:
    """What happened to one project, with the numbers that explain it."""

    id: str
    cost: int
    votes: int
    score: int
    funded: bool
    reason: str
    order: int | None = None  # position in the funding order, from 1
    money_left: int | None = None  # budget left when greedy reached it (cents)
    price_per_supporter: Fraction | None = None  # MES: full share, cents
    full_payers: int = 0  # MES: supporters who paid the full share
    partial_payers: int = 0  # MES: supporters who paid all they had left
    partial_paid: Fraction = Fraction(0)  # MES: what those paid, in total
    supporters_money: Fraction | None = None  # MES: unfunded, money they had left


@dataclass(frozen=True)
class Outcome:
    """The result of a count: winners in funding order and an explanation."""

    rule: str
    winners: tuple[str, ...]
    total_cost: int  # cents
    budget: int  # cents
    projects: tuple[ProjectResult, ...]
    per_voter_budget: Fraction | None = None  # MES: cents each voter started with
    add1_increments: int | None = None  # MES add1: units added per voter
    notes: tuple[str, ...] = ()

    def result(self, project_id: str) -> ProjectResult:
        """The ProjectResult of one project."""
        for r in self.projects:
            if r.id == project_id:
                return r
        raise KeyError(project_id)

    def explanations(self) -> dict[str, dict[str, object]]:
        """Per project: funded or not, why, and the numbers behind it (JSON-ready)."""
        out: dict[str, dict[str, object]] = {}
        for r in self.projects:
            item: dict[str, object] = {
                "funded": r.funded,
                "reason": r.reason,
                "text": explain(r),
                "cost": format_money(r.cost),
                "votes": r.votes,
            }
            if r.order is not None:
                item["order"] = r.order
            if r.money_left is not None:
                item["money_left"] = format_money(r.money_left)
            if r.price_per_supporter is not None:
                item["price_per_supporter"] = _money(r.price_per_supporter)
                item["full_payers"] = r.full_payers
                item["partial_payers"] = r.partial_payers
                item["partial_paid"] = _money(r.partial_paid)
            if r.supporters_money is not None:
                item["supporters_money_left"] = _money(r.supporters_money)
            out[r.id] = item
        return out

    def to_json(self) -> dict[str, object]:
        """The JSON document printed by `python -m civic.counting --format json`."""
        doc: dict[str, object] = {
            "rule": self.rule,
            "winners": list(self.winners),
            "total_cost": _whole(self.total_cost),
            "budget": _whole(self.budget),
            "explanations": self.explanations(),
        }
        if self.per_voter_budget is not None:
            doc["per_voter_budget"] = _money(self.per_voter_budget)
        if self.add1_increments is not None:
            doc["add1_increments"] = self.add1_increments
        if self.notes:
            doc["notes"] = list(self.notes)
        return doc


def _whole(cents: int) -> int | str:
    """Currency units as an int when whole (the usual case), else '12.34'."""
    return cents // 100 if cents % 100 == 0 else format_money(cents)


def _money(cents: Fraction) -> str:
    """Cents as currency with two decimals (rounded half up, display only)."""
    hundredths = (cents * 2 + 1) // 2  # round half up, exact
    return format_money(int(hundredths))


def explain(r: ProjectResult) -> str:
    """One sentence for residents about one project."""
    text = REASONS[r.reason]
    if r.reason == "funded_mes" and r.price_per_supporter is not None:
        text += (
            f" ({r.full_payers} supporters paid {_money(r.price_per_supporter)} each"
        )
        if r.partial_payers:
            text += (
                f", {r.partial_payers} paid what they had left"
                f" ({_money(r.partial_paid)} in total)"
            )
        text += ")"
    elif r.reason == "did_not_fit" and r.money_left is not None:
        text += f" ({format_money(r.money_left)} left, it costs {format_money(r.cost)})"
    elif r.reason == "supporters_could_not_afford" and r.supporters_money is not None:
        text += f" ({_money(r.supporters_money)} left, it costs {format_money(r.cost)})"
    return text


def describe(rule: str, utility: str, completion: str, threshold: int | None) -> str:
    """A short name of the rule variant, e.g. 'mes-cost-add1-greedy'."""
    if rule == "equalshares":
        return f"equalshares-{completion}"
    name = rule if rule == "greedy" else f"mes-{utility}"
    if rule == "greedy" and utility == "cardinality":
        name = "greedy-cardinality"
    if rule == "mes" and completion != "none":
        name += f"-{completion}"
    if threshold is not None:
        name += f"-threshold-{threshold}"
    return name


def count(
    instance: Instance,
    profile: Profile,
    rule: str = "greedy",
    utility: str = "cost",
    completion: str | None = None,
    threshold: int | None = None,
    tie_break: str | Sequence[str] = LEXICO,
    seed: str | None = None,
    fund_unsupported: bool | None = None,
    increment: int = 100,
    comparison: str = "satisfaction",
) -> Outcome:
    """Count an election: rule greedy|mes|equalshares, utility cost|cardinality,
    completion none|add1|greedy|add1-greedy, vote threshold, tie-break chain.

    fund_unsupported: may greedy fund a project nobody voted for? pabutools
    does (when it fits), so the `lexico` verification mode does by default;
    with any other tie-break chain the city default is no.
    increment: add1's raise of every voter's budget, in cents (1 unit = 100).
    rule equalshares: the equalshares.net tool's variant (see equalshares.py),
    with comparison satisfaction|exclusion|none.
    """
    if rule not in RULES:
        raise CountingError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")
    if completion is None:  # the tool's own default is add1
        completion = "add1" if rule == "equalshares" else "none"
    if utility not in UTILITIES:
        raise CountingError(f"unknown utility {utility!r}")
    if completion not in COMPLETIONS:
        raise CountingError(f"unknown completion {completion!r}")
    if increment <= 0:
        raise CountingError("the add1 increment must be positive")
    if rule == "equalshares":
        if threshold is not None or utility != "cost":
            raise CountingError(
                "the equalshares.net variant uses cost utility and no threshold"
            )
        return _equalshares(
            instance, profile, completion, comparison, tie_break, seed, increment
        )
    if rule == "greedy" and completion != "none":
        raise CountingError("completions apply to mes only")
    chain = parse_chain(tie_break)
    if fund_unsupported is None:
        fund_unsupported = chain == (LEXICO,)
    e = engine.compile_election(instance, profile)
    if threshold is not None:
        e = replace(
            e,
            excluded=frozenset(p for p in range(len(e.ids)) if e.score[p] < threshold),
        )
    ranks = tie_ranks(e.ids, e.costs, e.score, chain, seed)
    name = describe(rule, utility, completion, threshold)
    if rule == "greedy":
        g = engine.greedy(e, ranks, utility, threshold, fund_unsupported)
        results = _greedy_results(e, g, "funded", {})
        return _outcome(name, e, g.selected, results)

    if e.n == 0:
        run = engine.MESRun(selected=[], start=0)
        increments = 0
    elif completion in ("add1", "add1-greedy"):
        run, increments = _add1(e, ranks, utility, increment)
    else:
        run = _detailed(e, ranks, utility, e.budget)
        increments = None
    if e.n and increments is not None:
        # add1 searched without details: rerun once at the final budget.
        detailed = _detailed(e, ranks, utility, run.start)
        if detailed.selected != run.selected:
            raise AssertionError("MES rerun at the same budget differs")  # a bug
        run = detailed
    results = _mes_results(e, run)
    selected = list(run.selected)
    if completion in ("greedy", "add1-greedy"):
        g = engine.greedy(
            e, ranks, "cost", threshold, fund_unsupported, initial=selected
        )
        results.update(_greedy_results(e, g, "funded_completion", results))
        selected += g.selected
    per_voter = Fraction(run.start, e.n) if e.n else None
    out = _outcome(name, e, selected, results)
    return replace(out, per_voter_budget=per_voter, add1_increments=increments)


_ADD1_CACHE: list[tuple[tuple, tuple[list, engine.MESRun]]] = []
_DETAILED_CACHE: list[tuple[tuple, list, engine.MESRun]] = []


def _detailed(
    e: engine.Election, ranks: list[int], utility: str, start: int
) -> engine.MESRun:
    """MES with details at this start; the last few are kept, as a count of
    several variants asks for the same run again (with and without a greedy
    completion). Callers only read it."""
    key = (e.excluded, utility, tuple(ranks), start)
    for k, classes, run in _DETAILED_CACHE:
        if k == key and classes is e.classes:
            return run
    run = engine.mes_once(e, ranks, utility, start, details=True)
    _DETAILED_CACHE.insert(0, (key, e.classes, run))
    del _DETAILED_CACHE[8:]
    return run


def _add1(
    e: engine.Election, ranks: list[int], utility: str, increment: int
) -> tuple[engine.MESRun, int]:
    """add1 by certified jumps for approval ballots, step by step otherwise.
    The last few results are kept: add1 and add1-greedy share the search."""
    key = (id(e.classes), e.excluded, utility, increment, tuple(ranks))
    for k, (classes, cached) in _ADD1_CACHE:
        if k == key and classes is e.classes:
            run = cached
            break
    else:
        run = _add1_search(e, ranks, utility, increment)
        _ADD1_CACHE.insert(0, (key, (e.classes, run)))
        del _ADD1_CACHE[4:]
    steps = (run.start - e.budget) // (increment * e.n) if e.n else 0
    return run, steps


def _add1_search(
    e: engine.Election, ranks: list[int], utility: str, increment: int
) -> engine.MESRun:
    """The add1 search itself (see engine.mes_add1_fast)."""
    if e.approval and engine.numpy_available():
        a = engine.approval_index(e, utility)
        run, _ = engine.mes_add1_fast(a, ranks, increment)
    else:
        run, _ = engine.mes_add1_naive(e, ranks, utility, increment)
    return run


def _greedy_results(
    e: engine.Election,
    g: engine.GreedyResult,
    funded_reason: str,
    before: dict[int, ProjectResult],
) -> dict[int, ProjectResult]:
    out: dict[int, ProjectResult] = {}
    for p in g.selected:
        out[p] = _base(e, p, True, funded_reason)
    for p, (reason, left) in g.reasons.items():
        if before.get(p) is not None and before[p].reason in (
            "no_supporters",
            "below_threshold",
        ):
            continue  # keep the more telling reason MES already gave
        out[p] = replace(_base(e, p, False, reason), money_left=left)
    return out


def _mes_results(e: engine.Election, run: engine.MESRun) -> dict[int, ProjectResult]:
    out: dict[int, ProjectResult] = {}
    chosen = set(run.selected)
    for p in range(len(e.ids)):
        if p in chosen:
            if e.costs[p] == 0:
                out[p] = _base(e, p, True, "funded_free")
                continue
            (full_price, full), (partial_paid, partial) = _payment_groups(run, p)
            out[p] = replace(
                _base(e, p, True, "funded_mes"),
                price_per_supporter=full_price,
                full_payers=full,
                partial_payers=partial,
                partial_paid=partial_paid,
            )
        elif p in e.excluded:
            out[p] = _base(e, p, False, "below_threshold")
        elif e.costs[p] == 0 and e.votes[p] > 0:
            out[p] = _base(e, p, False, "free_not_counted")
        elif e.votes[p] == 0:
            out[p] = _base(e, p, False, "no_supporters")
        else:
            money = run.left_with_supporters.get(p)
            out[p] = replace(
                _base(e, p, False, "supporters_could_not_afford"),
                supporters_money=None if money is None else Fraction(money, e.n),
            )
    return out


def _payment_groups(
    run: engine.MESRun, p: int
) -> tuple[tuple[Fraction, int], tuple[Fraction, int]]:
    """(full share, payers) and (total paid, payers) of those who paid less."""
    (full_price, full), (partial_paid, partial) = run.payments[p]
    return (Fraction(full_price), full), (Fraction(partial_paid), partial)


def _base(e: engine.Election, p: int, funded: bool, reason: str) -> ProjectResult:
    return ProjectResult(
        id=e.ids[p],
        cost=e.costs[p],
        votes=e.votes[p],
        score=e.score[p],
        funded=funded,
        reason=reason,
    )


def _outcome(
    name: str,
    e: engine.Election,
    selected: list[int],
    results: dict[int, ProjectResult],
) -> Outcome:
    order = {p: i + 1 for i, p in enumerate(selected)}
    projects = tuple(replace(results[p], order=order.get(p)) for p in range(len(e.ids)))
    return Outcome(
        rule=name,
        winners=tuple(e.ids[p] for p in selected),
        total_cost=sum(e.costs[p] for p in selected),
        budget=e.budget,
        projects=projects,
    )


def _equalshares(
    instance: Instance,
    profile: Profile,
    completion: str,
    comparison: str,
    tie_break: str | Sequence[str],
    seed: str | None,
    increment: int,
) -> Outcome:
    """Count with the equalshares.net compute tool's variant."""
    from civic.counting.equalshares import run_tool

    if completion not in COMPLETIONS:
        raise CountingError(f"unknown completion {completion!r}")
    e = engine.compile_election(instance, profile)
    ranks = tie_ranks(e.ids, e.costs, e.score, parse_chain(tie_break), seed)
    tool = run_tool(e, ranks, completion, comparison, increment)
    name = describe("equalshares", "cost", completion, None)
    if e.n:
        run = engine.mes_once(e, ranks, "cost", tool.start, details=True)
    else:
        run = engine.MESRun(selected=[], start=0)
    results = _mes_results(e, run)
    notes = (
        f"comparison ({comparison}): {tool.prefers_greedy} voters prefer the greedy"
        f" outcome, {tool.prefers_mes} prefer equal shares",
    )
    if tool.replaced:
        selected = tool.greedy
        for p in range(len(e.ids)):
            if p in selected:
                results[p] = _base(e, p, True, "funded_comparison")
            elif e.votes[p] == 0:
                results[p] = _base(e, p, False, "no_supporters")
            else:
                results[p] = _base(e, p, False, "did_not_fit")
    else:
        selected = tool.mes
        for p in selected[len(run.selected) :]:
            results[p] = _base(e, p, True, "funded_completion")
    out = _outcome(name, e, selected, results)
    per_voter = Fraction(tool.start, e.n) if e.n else None
    return replace(out, per_voter_budget=per_voter, notes=notes)
