"""The participatory budget's two lifecycles: a campaign's phases and a proposal's statuses.

Pure Python (no Flask request, no database): the phase is derived from the clock and the
campaign's calendar, and every status change of a proposal is checked against ONE table,
``TRANSITIONS``. Services call :func:`check_transition`; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Phase(StrEnum):
    """A campaign's phases, in calendar order (before the first: upcoming)."""

    UPCOMING = "upcoming"
    INFORMATION = "information"
    SUBMISSION = "submission"
    REVIEW = "review"
    VOTE = "vote"
    RESULTS = "results"
    REALISATION = "realisation"

    @property
    def title(self) -> str:
        """Translated name of the phase."""
        return str(PHASE_TITLES[self])

    @property
    def index(self) -> int:
        """Position in the calendar (UPCOMING is 0)."""
        return list(Phase).index(self)


PHASE_TITLES = {
    Phase.UPCOMING: _l("Upcoming"),
    Phase.INFORMATION: _l("Information"),
    Phase.SUBMISSION: _l("Submission of proposals"),
    Phase.REVIEW: _l("Feasibility review"),
    Phase.VOTE: _l("Vote"),
    Phase.RESULTS: _l("Results"),
    Phase.REALISATION: _l("Realisation"),
}
# What residents can do in each phase (shown on the public campaign page).
PHASE_ACTIONS = {
    Phase.UPCOMING: _l("The campaign has not started yet."),
    Phase.INFORMATION: _l("Read the rules and prepare your ideas: proposals open soon."),
    Phase.SUBMISSION: _l("Propose a project for your quartier or the whole city, comment and "
                         "follow the other proposals."),
    Phase.REVIEW: _l("The city services study the feasibility of each proposal; follow the "
                     "answers and reply if a service asks you a question."),
    Phase.VOTE: _l("Vote for the feasible projects of your quartier and of the whole city."),
    Phase.RESULTS: _l("See which projects won."),
    Phase.REALISATION: _l("Follow the construction of the winning projects."),
}
# The calendar's phases (each has a start date; UPCOMING is before the first one).
DATED_PHASES: tuple[Phase, ...] = tuple(p for p in Phase if p is not Phase.UPCOMING)


def phase_at(starts: Sequence[datetime], now: datetime) -> Phase:
    """The phase in force at ``now``, given the start of each dated phase, in order."""
    current = Phase.UPCOMING
    for phase, start in zip(DATED_PHASES, starts, strict=True):
        if now >= start:
            current = phase
    return current


class ProposalStatus(StrEnum):
    """Where a proposal is in its life (see TRANSITIONS)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_INFO = "needs_info"
    FEASIBLE = "feasible"
    UNFEASIBLE = "unfeasible"
    SELECTED = "selected"
    WINNER = "winner"
    NOT_WINNER = "not_winner"
    REALISED = "realised"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"
    HIDDEN = "hidden"

    @property
    def title(self) -> str:
        """Translated name of the status."""
        return str(STATUS_TITLES[self])


S = ProposalStatus
STATUS_TITLES = {
    S.DRAFT: _l("Draft"),
    S.SUBMITTED: _l("Submitted"),
    S.UNDER_REVIEW: _l("Under review"),
    S.NEEDS_INFO: _l("Question to the author"),
    S.FEASIBLE: _l("Feasible"),
    S.UNFEASIBLE: _l("Not feasible"),
    S.SELECTED: _l("Selected for the vote"),
    S.WINNER: _l("Winner"),
    S.NOT_WINNER: _l("Not a winner"),
    S.REALISED: _l("Realised"),
    S.WITHDRAWN: _l("Withdrawn"),
    S.MERGED: _l("Merged"),
    S.HIDDEN: _l("Hidden by the moderators"),
}

# Moderation can hide a proposal in any public status and restore it to that status.
_HIDEABLE = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO, S.FEASIBLE, S.UNFEASIBLE})

# THE transition table: status -> statuses it may become. Everything else is refused.
TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.MERGED, S.HIDDEN}),
    S.UNDER_REVIEW: frozenset({S.NEEDS_INFO, S.FEASIBLE, S.UNFEASIBLE, S.WITHDRAWN, S.MERGED,
                               S.HIDDEN}),
    S.NEEDS_INFO: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.MERGED, S.HIDDEN}),
    # Back under review: the coordination reopens a published answer (review phases only).
    S.FEASIBLE: frozenset({S.SELECTED, S.HIDDEN, S.UNDER_REVIEW}),
    S.UNFEASIBLE: frozenset({S.HIDDEN, S.UNDER_REVIEW}),
    S.SELECTED: frozenset({S.WINNER, S.NOT_WINNER}),  # part 2: the count decides
    S.WINNER: frozenset({S.REALISED}),
    S.NOT_WINNER: frozenset(),
    S.REALISED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.MERGED: frozenset(),
    S.HIDDEN: _HIDEABLE,  # restore: only to the status it had (checked by the service)
}

# Seen by everyone (drafts are the author's; hidden ones are the moderators').
PUBLIC_STATUSES = frozenset(TRANSITIONS) - {S.DRAFT, S.HIDDEN}
# The author may still change the text, cost, place and images.
EDITABLE_STATUSES = frozenset({S.DRAFT, S.SUBMITTED})
# Counted as "waiting for a published answer" in the dashboard.
OPEN_REVIEW_STATUSES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.NEEDS_INFO})


class TransitionRefused(Exception):
    """A status change the lifecycle does not allow; ``message`` says why (translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.field: str | None = None


def can_transition(current: ProposalStatus, target: ProposalStatus) -> bool:
    """True if the table allows ``current`` → ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: ProposalStatus, target: ProposalStatus) -> None:
    """Raise TransitionRefused (with a translated reason) unless the table allows it."""
    if not can_transition(current, target):
        from flask_babel import gettext as _

        raise TransitionRefused(
            _("A proposal whose status is “%(current)s” cannot become “%(target)s”.",
              current=current.title, target=target.title)
        )
