"""An action's lifecycle: its statuses, the one transition table, and their default progress."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class ActionStatus(enum.Enum):
    """Status of an action; ``title`` is translated."""

    PLANNED = "planned"  # prévue
    IN_PROGRESS = "in_progress"  # en cours
    DONE = "done"  # réalisée
    EVOLVED = "evolved"  # évoluée: continued in a changed form after evaluation
    REPLACED = "replaced"  # remplacée: another action (replaced_by) takes over
    ABANDONED = "abandoned"  # abandonnée

    @property
    def title(self) -> str:
        """Translated name of the status."""
        return str(STATUS_TITLES[self])

    @property
    def css(self) -> str:
        """CSS class suffix for the status badge."""
        return self.value.replace("_", "-")


STATUS_TITLES = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Completed"),
    ActionStatus.EVOLVED: _l("Evolved"),
    ActionStatus.REPLACED: _l("Replaced"),
    ActionStatus.ABANDONED: _l("Abandoned"),
}

# The only place that says which status may follow which. The seed plans let an action,
# after its yearly evaluation, be continued, evolve or be replaced (Le Havre Ensemble:
# « de nouvelles actions pourront être proposées chaque année »); completed, replaced and
# abandoned actions are closed: a new action is created instead of reopening them.
TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.PLANNED: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.REPLACED, ActionStatus.ABANDONED}
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.DONE, ActionStatus.EVOLVED, ActionStatus.REPLACED, ActionStatus.ABANDONED}
    ),
    ActionStatus.EVOLVED: frozenset(
        {ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.REPLACED,
         ActionStatus.ABANDONED}
    ),
    ActionStatus.DONE: frozenset(),
    ActionStatus.REPLACED: frozenset(),
    ActionStatus.ABANDONED: frozenset(),
}

# Progress (percent) an action contributes by its status alone. None: left out of the
# roll-up (a replaced action is counted through the action that replaces it; an abandoned
# one would otherwise hide or exaggerate what is left to do — it is shown, not averaged).
# In progress and evolved actions use their indicators when they have measured values.
STATUS_PROGRESS: dict[ActionStatus, int | None] = {
    ActionStatus.PLANNED: 0,
    ActionStatus.IN_PROGRESS: 50,
    ActionStatus.EVOLVED: 50,
    ActionStatus.DONE: 100,
    ActionStatus.REPLACED: None,
    ActionStatus.ABANDONED: None,
}


def allowed_next(status: ActionStatus) -> list[ActionStatus]:
    """Statuses an action in ``status`` may move to, in declaration order."""
    return [s for s in ActionStatus if s in TRANSITIONS[status]]


class ParticipationStage(enum.Enum):
    """When residents took part in an action: « au début, au cœur, et à la fin des actions »."""

    START = "start"  # au début: the action is designed with residents
    CORE = "core"  # au cœur: residents take part while it runs
    END = "end"  # à la fin: residents evaluate it

    @property
    def title(self) -> str:
        """Translated name of the stage."""
        return str(STAGE_TITLES[self])


STAGE_TITLES = {
    ParticipationStage.START: _l("At the start"),
    ParticipationStage.CORE: _l("At the heart"),
    ParticipationStage.END: _l("At the end"),
}
