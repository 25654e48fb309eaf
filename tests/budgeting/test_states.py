"""The proposal lifecycle (one transition table) and the phase clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from civic.budgeting.states import (
    DATED_PHASES,
    TRANSITIONS,
    Phase,
    ProposalStatus,
    TransitionRefused,
    can_transition,
    check_transition,
    phase_at,
)

S = ProposalStatus


def test_every_status_is_in_the_table_and_targets_are_statuses():
    assert set(TRANSITIONS) == set(ProposalStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(ProposalStatus)


@pytest.mark.parametrize("path", [
    [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO, S.UNDER_REVIEW, S.FEASIBLE,
     S.SELECTED, S.WINNER, S.REALISED],
    [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.UNFEASIBLE],
    [S.SUBMITTED, S.MERGED], [S.SUBMITTED, S.HIDDEN, S.SUBMITTED], [S.DRAFT, S.WITHDRAWN],
    [S.SELECTED, S.NOT_WINNER],
    # The coordination reopens a published answer (during the review only: the service).
    [S.UNDER_REVIEW, S.FEASIBLE, S.UNDER_REVIEW, S.UNFEASIBLE, S.UNDER_REVIEW],
])
def test_the_documented_paths_are_allowed(path):
    for a, b in zip(path, path[1:], strict=False):
        assert can_transition(a, b), (a, b)


@pytest.mark.parametrize("a,b", [
    (S.DRAFT, S.FEASIBLE), (S.SUBMITTED, S.FEASIBLE), (S.UNFEASIBLE, S.SELECTED),
    (S.WITHDRAWN, S.SUBMITTED), (S.MERGED, S.SUBMITTED), (S.REALISED, S.WINNER),
    (S.FEASIBLE, S.WINNER), (S.NOT_WINNER, S.REALISED), (S.SELECTED, S.HIDDEN),
])
def test_impossible_transitions_are_refused_with_a_reason(app, a, b):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        with pytest.raises(TransitionRefused) as exc:
            check_transition(a, b)
    assert "ne peut pas devenir" in exc.value.message


def test_terminal_statuses_go_nowhere():
    for s in (S.WITHDRAWN, S.MERGED, S.NOT_WINNER, S.REALISED):
        assert TRANSITIONS[s] == frozenset()


def test_phase_is_derived_from_the_clock():
    t0 = datetime(2027, 1, 1)
    starts = [t0 + timedelta(days=10 * i) for i in range(len(DATED_PHASES))]
    assert phase_at(starts, t0 - timedelta(seconds=1)) is Phase.UPCOMING
    assert phase_at(starts, t0) is Phase.INFORMATION
    assert phase_at(starts, t0 + timedelta(days=10)) is Phase.SUBMISSION
    assert phase_at(starts, t0 + timedelta(days=29, hours=23)) is Phase.REVIEW
    assert phase_at(starts, t0 + timedelta(days=30)) is Phase.VOTE
    assert phase_at(starts, t0 + timedelta(days=1000)) is Phase.REALISATION
