"""Roles and permissions: one table, checked before every view (deny by default).

A view declares what it needs with ``@public``, ``@login_required_view`` or
``@requires("permission")``; a view that declares nothing is refused (403), so a new
page cannot go live without a decision about who may see it. Adding a role means
adding it to ROLES and to the permissions it gets in PERMISSIONS, not touching views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from civic.extensions import login_manager


@dataclass(frozen=True)
class RoleDef:
    """A role: its translated title and what its grants are scoped to, if anything."""

    name: str
    title: Any
    scope: str | None = None  # "service", "council", "interlocutor", "campaign", "action"
    grantable: bool = True


ROLES: dict[str, RoleDef] = {
    r.name: r
    for r in (
        RoleDef("resident", _l("Resident"), grantable=False),
        RoleDef("agent", _l("City-service agent"), scope="service"),
        RoleDef("council_member", _l("Council member"), scope="council"),
        RoleDef("bienveilleur", _l("Bienveilleur")),
        RoleDef("coordinator", _l("Coordinator (politique de la ville)")),
        RoleDef("admin", _l("Administrator")),
        # Staff of a partner organisation of the bienveilleurs network (CCAS, mission
        # locale, crèche…): sees only the referrals and conciergerie requests handed to it.
        RoleDef("interlocutor", _l("Interlocutor (partner organisation)"),
                scope="interlocutor"),
        # Staff of a polling station of one budget campaign: marks residents who vote on
        # paper and keys the paper ballots (each one twice, by two agents).
        RoleDef("desk_agent", _l("Voting-desk agent"), scope="campaign"),
        # The owner of one action of the plan (one grant per action, scope_id = PlanNode.id):
        # updates that action's status, indicator values and participation, and answers
        # the councils' questions on it.
        RoleDef("porteur", _l("Action owner (porteur)"), scope="action"),
    )
}

# permission -> roles that have it. "resident" is every signed-in account.
PERMISSIONS: dict[str, frozenset[str]] = {
    "account": frozenset({"resident"}),
    "agent.space": frozenset({"agent"}),
    # Acting for a resident at a counter: agents and the coordination team.
    "counter.assist": frozenset({"agent", "coordinator"}),
    "council.space": frozenset({"council_member"}),
    "bienveilleur.space": frozenset({"bienveilleur"}),
    "coordination.space": frozenset({"coordinator"}),
    "coordination.verify": frozenset({"coordinator"}),
    # Updating the action plan (status, indicators, porteurs): the politique de la ville team.
    "actionplan.manage": frozenset({"coordinator", "admin"}),
    # Updating one action (status, indicator values, participation): the team, and the
    # porteurs of that action; views check the action (civic.actionplan.services
    # .can_update_action), so a porteur gets 403 on the other actions.
    "actionplan.update": frozenset({"coordinator", "admin", "porteur"}),
    # A porteur's own pages: their actions, and the councils' questions on them.
    "actionplan.own": frozenset({"porteur"}),
    # Bienveilleurs network. Referrals are further checked per object (author, assigned
    # coordinator, interlocutor it was handed to): see civic.bienveilleurs.services.
    "network.manage": frozenset({"coordinator"}),
    "referrals.coordinate": frozenset({"coordinator"}),
    "referrals.handle": frozenset({"interlocutor"}),
    "conciergerie.answer": frozenset({"interlocutor"}),
    "bienveilleurs.stats": frozenset({"coordinator", "council_member", "admin"}),
    # Councils: members, draws, meetings, answers for porteurs (the politique de la ville team).
    "councils.manage": frozenset({"coordinator", "admin"}),
    # Acting as a council (avis, questions, dashboard); services check the council's scope.
    "council.act": frozenset({"council_member"}),
    "admin.users": frozenset({"admin"}),
    "admin.territory": frozenset({"admin"}),
    "admin.audit": frozenset({"admin"}),
    "admin.outbox": frozenset({"admin"}),
    # Participatory budget: campaigns, assignment, moderation, publication of answers.
    "budget.manage": frozenset({"coordinator", "admin"}),
    # Feasibility review: an agent's queue (scoped to their services in civic.review).
    "review.queue": frozenset({"agent"}),
    "review.dashboard": frozenset({"agent", "coordinator", "admin"}),
    # Voting desk of a campaign (paper participation and keying); views and services check
    # that the agent's grant is scoped to the campaign concerned (civic.voting.desk).
    "vote.desk": frozenset({"desk_agent"}),
}

PUBLIC = "public"


def user_can(user: Any, permission: str) -> bool:
    """True if the (signed-in) user holds a role that has the permission."""
    if not getattr(user, "is_authenticated", False):
        return False
    allowed = PERMISSIONS[permission]
    return bool(user.role_names & allowed)


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, anonymous visitors included."""
    view._civic_access = PUBLIC  # type: ignore[attr-defined]
    return view


def requires(permission: str) -> Callable[[Callable], Callable]:
    """Mark a view as needing a permission (see PERMISSIONS)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def mark(view: Callable) -> Callable:
        view._civic_access = permission  # type: ignore[attr-defined]
        return view

    return mark


def access_of(endpoint: str) -> str | None:
    """The access declared by the view behind an endpoint (None: undeclared)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "_civic_access", None)


def enforce_access() -> Any:
    """before_request hook: refuse what the view's declaration does not allow."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    access = access_of(endpoint)
    if access is None:
        current_app.logger.error("view %s declares no access rule: refused", endpoint)
        abort(403)
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not user_can(current_user, access):
        abort(403)
    return None
