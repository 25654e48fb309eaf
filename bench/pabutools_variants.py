"""The rule variants of reference.json, as pabutools 1.2.3 calls and as civic options.

Bench/test support only: pabutools is never needed at run time.
"""

from __future__ import annotations

# Variant name -> keyword arguments of civic.counting.count (tie-break lexico).
CIVIC = {
    "greedy": dict(rule="greedy"),
    "greedy-card": dict(rule="greedy", utility="cardinality"),
    "mes-cost": dict(rule="mes"),
    "mes-card": dict(rule="mes", utility="cardinality"),
    "mes-cost-add1": dict(rule="mes", completion="add1"),
    "mes-card-add1": dict(rule="mes", utility="cardinality", completion="add1"),
    "mes-cost-add1-greedy": dict(rule="mes", completion="add1-greedy"),
    "mes-cost-greedy": dict(rule="mes", completion="greedy"),
    "mes-card-greedy": dict(rule="mes", utility="cardinality", completion="greedy"),
    "mes-card-add1-greedy": dict(
        rule="mes", utility="cardinality", completion="add1-greedy"
    ),
}


def run_pabutools(path: str, variant: str) -> list[str]:
    """pabutools' winners (sorted ids) for one variant of one .pb file."""
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib
    from pabutools.rules import (
        completion_by_rule_combination,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )

    instance, profile = parse_pabulib(path)
    sat = Cardinality_Sat if "card" in variant else Cost_Sat
    if variant.startswith("greedy"):
        result = greedy_utilitarian_welfare(instance, profile, sat_class=sat)
    else:
        mes_params = {"sat_class": sat}
        if "add1" in variant:
            mes_params["voter_budget_increment"] = 1
        if variant.endswith("-greedy"):
            result = completion_by_rule_combination(
                instance,
                profile,
                [method_of_equal_shares, greedy_utilitarian_welfare],
                [mes_params, {"sat_class": Cost_Sat}],
            )
        else:
            result = method_of_equal_shares(instance, profile, **mes_params)
    return sorted(str(p.name) for p in result)
