"""Compute pabutools' outcomes once on seeded random elections, for the tests.

    python bench/make_expected.py > tests/counting/expected_pabutools.json

The repository's tests then check civic against these outcomes without
pabutools or ../shared (run_pabutools reads the file civic writes).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pabutools_variants import CIVIC, run_pabutools  # noqa: E402

from civic.counting.pabulib import write_pabulib  # noqa: E402
from civic.counting.samples import random_election  # noqa: E402

SEEDS = range(60)
SIZES = [(6, 12), (8, 40), (12, 80)]


def main() -> None:
    """Print the JSON document of expected winners."""
    out = {"_generator": "civic.counting.samples.random_election", "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            projects, voters = SIZES[seed % len(SIZES)]
            instance, profile = random_election(seed, projects, voters)
            path = Path(tmp) / f"r{seed}.pb"
            write_pabulib(instance, profile, path)
            case = {"seed": seed, "projects": projects, "voters": voters}
            case["winners"] = {v: run_pabutools(str(path), v) for v in CIVIC}
            out["cases"].append(case)
    # One line per case: small diffs when the generator changes.
    sys.stdout.write('{"_generator": "civic.counting.samples.random_election",\n')
    sys.stdout.write(' "cases": [\n')
    lines = [json.dumps(case, sort_keys=True) for case in out["cases"]]
    sys.stdout.write(",\n".join(lines) + "\n]}\n")


if __name__ == "__main__":
    main()
