"""`python -m civic.counting FILE.pb --rule greedy|mes …`: count a Pabulib file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from civic.counting.api import COMPLETIONS, RULES, UTILITIES, Outcome, count, explain
from civic.counting.compare import compare, comparison_json
from civic.counting.model import CountingError, format_money
from civic.counting.pabulib import read_pabulib
from civic.counting.tiebreak import CRITERIA, LEXICO


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    ap = argparse.ArgumentParser(
        prog="python -m civic.counting",
        description="Count a participatory-budgeting vote from a Pabulib .pb file.",
    )
    ap.add_argument("file", help="the .pb file")
    ap.add_argument("--rule", choices=RULES, default="greedy")
    ap.add_argument("--utility", choices=UTILITIES, default="cost")
    ap.add_argument(
        "--completion", choices=COMPLETIONS, help="default: none (add1 for equalshares)"
    )
    ap.add_argument(
        "--comparison",
        choices=("satisfaction", "exclusion", "none"),
        default="satisfaction",
        help="equalshares rule: when greedy replaces MES",
    )
    ap.add_argument(
        "--threshold",
        help="minimum votes to be eligible ('file': META min_project_score_threshold)",
    )
    ap.add_argument(
        "--tie-break",
        default=LEXICO,
        help="comma-separated chain of: "
        + ", ".join(CRITERIA)
        + f" (default {LEXICO})",
    )
    ap.add_argument("--seed", help="public seed of the 'draw' tie-break")
    ap.add_argument(
        "--fund-unsupported",
        choices=("yes", "no"),
        help="may greedy fund projects nobody voted for (default: yes with lexico)",
    )
    ap.add_argument("--increment", type=int, default=100, help="add1 step in cents")
    ap.add_argument("--compare", action="store_true", help="add greedy vs MES figures")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        instance, profile = read_pabulib(args.file)
        threshold = None
        if args.threshold == "file":
            threshold = instance.threshold
        elif args.threshold is not None:
            try:
                threshold = int(args.threshold)
            except ValueError:
                raise CountingError(
                    "--threshold takes a whole number or 'file'"
                ) from None
        fund = None if args.fund_unsupported is None else args.fund_unsupported == "yes"
        options = dict(
            threshold=threshold,
            tie_break=args.tie_break,
            seed=args.seed,
            fund_unsupported=fund,
            increment=args.increment,
        )
        if args.rule == "equalshares":
            options["comparison"] = args.comparison
        outcome = count(
            instance,
            profile,
            rule=args.rule,
            utility=args.utility,
            completion=args.completion,
            **options,
        )
        sides = None
        if args.compare:
            other = (
                count(
                    instance, profile, rule="mes", completion="add1-greedy", **options
                )
                if args.rule == "greedy"
                else count(instance, profile, rule="greedy", **options)
            )
            pair = {outcome.rule: outcome, other.rule: other}
            sides = compare(profile, pair)
    except CountingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still no traceback for the user
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 70
    if args.format == "json":
        doc = outcome.to_json()
        if sides is not None:
            doc["comparison"] = comparison_json(sides)
        text = json.dumps(doc, ensure_ascii=False, indent=1)
    else:
        text = render_text(outcome, sides)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def render_text(outcome: Outcome, sides: list | None = None) -> str:
    """A plain-text report for humans."""
    lines = [
        f"rule: {outcome.rule}",
        f"budget: {format_money(outcome.budget)}   "
        f"funded: {len(outcome.winners)} projects, {format_money(outcome.total_cost)}",
    ]
    if outcome.add1_increments is not None:
        lines.append(
            f"add1: every voter's budget raised by {outcome.add1_increments} unit(s)"
        )
    lines.append("")
    lines.append("funded, in order:")
    for pid in outcome.winners:
        r = outcome.result(pid)
        lines.append(
            f"  {r.order:>3}. {pid:<10} {format_money(r.cost):>12}  {explain(r)}"
        )
    lines.append("not funded:")
    for r in outcome.projects:
        if not r.funded:
            lines.append(f"       {r.id:<10} {format_money(r.cost):>12}  {explain(r)}")
    if sides:
        lines.append("")
        lines.append("comparison (voters with at least one funded project they chose):")
        for s in sides:
            lines.append(
                f"  {s.rule:<28} {s.projects:>4} projects"
                f" {format_money(s.total_cost):>14}"
                f"  {s.satisfied}/{s.voters} = {float(s.share):.1%}"
            )
            for g, n, k in s.by_group:
                lines.append(f"      {g:<24} {k}/{n} = {k / n:.1%}")
    return "\n".join(lines)
