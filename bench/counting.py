"""Benchmark: civic.counting vs pabutools 1.2.3, each in a fresh process.

    python bench/counting.py                      # MES+add1 on the big samples
    python bench/counting.py --variants all --pabutools-timeout 60 FILE.pb ...
    python bench/counting.py --everything         # civic: parse + every rule
    python bench/counting.py --baseline DIR ...   # also civic from another checkout

Each measurement is what a user would see: a new Python process that imports
the library, parses the file and counts. Time is wall-clock around the child;
peak memory is the child's own ru_maxrss (os.wait4). When pabutools is skipped
or times out, the table says so and, if ../shared/pb-samples/reference.json
has a timing for that case, quotes it, labelled as from another run.
Never run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("CIVIC_SHARED_DIR", REPO.parent / "shared"))
SAMPLES = SHARED / "pb-samples"
DEFAULT_FILES = [
    "Poland_Wieliczka_2023_Green_Budget.pb",
    "Poland_Warszawa_2026.pb",
    "Poland_Lodz_2022.pb",
]
sys.path.insert(0, str(HERE))
from pabutools_variants import CIVIC  # noqa: E402

CIVIC_CHILD = """
import json, sys
from civic.counting import count, read_pabulib
instance, profile = read_pabulib(sys.argv[1])
variants = json.loads(sys.argv[2])
processes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
if processes > 1:  # opt-in; a tree without count_many counts serially
    try:
        from civic.counting.parallel import count_many
    except ImportError:
        count_many = None
if processes > 1 and count_many is not None:
    outcomes = count_many(instance, profile, variants, processes=processes)
else:
    outcomes = {v: count(instance, profile, **kw) for v, kw in variants.items()}
print(json.dumps({v: sorted(o.winners) for v, o in outcomes.items()}))
"""

FLOOR_CHILD = """
import numpy
print("[]")
"""

PABUTOOLS_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[3])
from pabutools_variants import run_pabutools
print(json.dumps({v: run_pabutools(sys.argv[1], v) for v in json.loads(sys.argv[2])}))
"""


def child_env(repo: Path) -> dict[str, str]:
    """The children's environment: civic from `repo`, and Python's bytecode
    cache on, as a user's Python has it. (Some shells here export
    PYTHONDONTWRITEBYTECODE=1: then civic.counting, run from a source tree,
    was compiled again in every child, ~40-50 ms, while pabutools and numpy,
    installed by pip with their .pyc, were not.)"""
    env = dict(os.environ, PYTHONPATH=str(repo))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up(repo: Path) -> None:
    """Import both libraries once, untimed, so that their bytecode is cached
    (civic's goes to `repo`'s __pycache__ folders, ignored by git)."""
    for module in ("civic.counting.cli", "civic.counting.parallel", "pabutools.rules"):
        subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            env=child_env(repo),
            cwd=repo,
            stderr=subprocess.DEVNULL,
            check=False,
        )


def measure(args: list[str], timeout: float | None, repo: Path = REPO) -> dict:
    """Run a child process (civic from `repo`); wall time, its CPU time and
    peak RSS (MB), stdout, or timeout."""
    env = child_env(repo)
    start = time.perf_counter()
    # cwd=repo: `python -c` puts the current directory first on sys.path,
    # before PYTHONPATH, so run from another checkout it imported that
    # checkout's civic instead of `repo`'s (--baseline measured "after" twice).
    proc = subprocess.Popen(
        [sys.executable, "-c", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=repo,
    )
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return {"timeout": True, "seconds": time.perf_counter() - start}
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        return {"error": f"exit status {status}", "seconds": seconds}
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # Linux: kilobytes
        "winners": json.loads(output.strip().splitlines()[-1]),
    }


def reference_timing(name: str, variant: str) -> float | None:
    """pabutools' time for this case in reference.json (another run)."""
    path = SAMPLES / "reference.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("_timings_s", {}).get(name, {}).get(variant)


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="the .pb files (default: big samples)")
    ap.add_argument("--variants", default="mes-cost-add1", help="comma list or 'all'")
    ap.add_argument("--pabutools-timeout", type=float, default=120.0)
    ap.add_argument("--skip-pabutools", action="store_true")
    ap.add_argument("--everything", action="store_true", help="civic only, all rules")
    ap.add_argument(
        "--processes",
        type=int,
        default=1,
        help="with --everything: count on this many processes (civic.counting"
        ".parallel.count_many, opt-in; 1 = serial, as before)",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of the repository (e.g. the previous engine):"
        " its civic.counting is measured too, in the same run, as 'before'",
    )
    opts = ap.parse_args()
    for repo in [REPO] + ([opts.baseline] if opts.baseline else []):
        warm_up(repo)
    files = [Path(f).resolve() for f in opts.files] or [
        SAMPLES / f for f in DEFAULT_FILES
    ]
    if opts.baseline:
        opts.baseline = opts.baseline.resolve()
    variants = list(CIVIC) if opts.variants == "all" else opts.variants.split(",")

    if opts.everything:
        everything = dict(CIVIC)
        everything["greedy-threshold"] = dict(rule="greedy", threshold=None)
        print(f"{'file':<42} {'civic: parse + all rules (wall / cpu)':>38} {'MB':>6}")
        for path in files:
            kws = dict(CIVIC)
            threshold = _threshold(path)
            if threshold is not None:
                kws["greedy-threshold"] = dict(rule="greedy", threshold=threshold)
            trees = [("after", REPO)]
            if opts.baseline:
                trees.insert(0, ("before", opts.baseline))
            for label, repo in trees:
                r = measure(
                    [CIVIC_CHILD, str(path), json.dumps(kws), str(opts.processes)],
                    None,
                    repo,
                )
                name = f"{path.name} ({label})" if opts.baseline else path.name
                print(
                    f"{name[:42]:<42} {r['seconds']:>27.2f} s / {r['cpu']:.2f} s"
                    f" {r['peak_mb']:>6.0f}",
                    flush=True,
                )
        return

    # The floor under every civic figure: a fresh Python that imports numpy and nothing
    # else (civic's approval MES needs numpy). A ratio target is out of reach when
    # pabutools' time divided by it is below this.
    floor = min(
        (measure([FLOOR_CHILD], None) for _ in range(3)), key=lambda r: r["seconds"]
    )
    print(
        f"floor: a fresh python that only imports numpy: {floor['seconds']:.2f} s"
        f" wall / {floor['cpu']:.2f} s cpu (best of 3)"
    )
    head = (
        f"{'file':<40} {'variant':<22} {'civic s':>8} {'cpu':>6} {'MB':>5} "
        f"{'pabutools s':>12} {'cpu':>7} {'MB':>6} {'ratio':>6} {'cpu':>6}  same"
    )
    print(head)
    print("-" * len(head))
    for path in files:
        for variant in variants:
            kw = {variant: CIVIC[variant]}
            if opts.baseline:
                b = measure([CIVIC_CHILD, str(path), json.dumps(kw)], None, opts.baseline)
                print(
                    f"{path.name[:40]:<40} {variant:<22} {b['seconds']:>8.2f} "
                    f"{b['cpu']:>6.2f} {b['peak_mb']:>5.0f}  (before: --baseline)",
                    flush=True,
                )
            c = measure([CIVIC_CHILD, str(path), json.dumps(kw)], None)
            if opts.skip_pabutools:
                p = {"skipped": True}
            else:
                p = measure(
                    [PABUTOOLS_CHILD, str(path), json.dumps([variant]), str(HERE)],
                    opts.pabutools_timeout,
                )
            line = (
                f"{path.name[:40]:<40} {variant:<22} {c['seconds']:>8.2f} "
                f"{c['cpu']:>6.2f} {c.get('peak_mb', 0):>5.0f} "
            )
            if "winners" in p:
                same = p["winners"] == c["winners"]
                ratio = p["seconds"] / c["seconds"]
                cpu_ratio = p["cpu"] / c["cpu"]
                line += (
                    f"{p['seconds']:>12.2f} {p['cpu']:>7.2f} {p['peak_mb']:>6.0f}"
                    f" {ratio:>5.0f}x {cpu_ratio:>5.0f}x  {same}"
                )
            else:
                why = (
                    "skipped"
                    if p.get("skipped")
                    else (
                        f"timed out after {p['seconds']:.0f} s"
                        if p.get("timeout")
                        else p.get("error", "failed")
                    )
                )
                line += (
                    f"{'-':>12} {'-':>7} {'-':>6} {'-':>6} {'-':>6}  pabutools {why}"
                )
                quoted = reference_timing(path.name, variant)
                if quoted is not None:
                    line += (
                        f"; reference.json, ANOTHER run on a machine of the same"
                        f" kind: {quoted:.0f} s -> ~{quoted / c['seconds']:.0f}x"
                        f" (wall) / ~{quoted / c['cpu']:.0f}x (civic cpu)"
                    )
            print(line, flush=True)


def _threshold(path: Path) -> int | None:
    sys.path.insert(0, str(REPO))
    from civic.counting import read_pabulib

    instance, _ = read_pabulib(path)
    return instance.threshold


if __name__ == "__main__":
    main()
