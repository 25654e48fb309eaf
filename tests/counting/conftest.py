"""Fixtures of the counting tests: where ../shared is, and small builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from civic.counting import Ballot, Instance, Profile, Project

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CIVIC_SHARED_DIR", REPO_ROOT.parent / "shared"))
SAMPLES = SHARED / "pb-samples"


def pytest_configure(config: pytest.Config) -> None:
    """Register the `slow` marker (deselect with -m 'not slow')."""
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture
def samples() -> Path:
    """The shared Pabulib samples; skips when ../shared is absent (fresh clone)."""
    if not (SAMPLES / "reference.json").is_file():
        pytest.skip("../shared/pb-samples is not available")
    return SAMPLES


def make_election(
    budget: int, costs: dict[str, int], ballots: list[list[str]]
) -> tuple[Instance, Profile]:
    """An approval election in whole currency units (converted to cents)."""
    instance = Instance(
        budget=budget * 100,
        projects=tuple(Project(id=k, cost=v * 100) for k, v in costs.items()),
    )
    profile = Profile(
        ballots=tuple(
            Ballot(projects=tuple(b), voter_id=str(i + 1))
            for i, b in enumerate(ballots)
        )
    )
    return instance, profile


@pytest.fixture
def election():
    """make_election, as a fixture (test modules do not import conftest)."""
    return make_election
