"""Codes, their translated titles, and the transition tables: the only place a status may
change is along an edge listed here (services.transition_* enforce it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

NEEDS = {
    "isolation": _l("Isolation"),
    "newcomer": _l("Newcomer"),
    "rights": _l("Access to rights"),
    "health": _l("Health"),
    "housing": _l("Housing"),
    "employment": _l("Employment"),
    "other": _l("Other"),
}
MEMBER_TYPES = {
    "habitant": _l("Resident"),
    "commercant": _l("Shopkeeper"),
    "professionnel": _l("Professional"),
    "associatif": _l("Association or neighbourhood actor"),
}
MEMBER_STATUSES = {
    "candidate": _l("Application received"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "refused": _l("Not accepted"),
}
# (from, to) -> the coordinator's action that makes it.
MEMBER_TRANSITIONS = {
    ("candidate", "active"): "validate",
    ("candidate", "refused"): "refuse",
    ("active", "suspended"): "suspend",
    ("suspended", "active"): "reinstate",
}
MEMBER_ACTIONS = {
    "validate": _l("Validate"),
    "refuse": _l("Do not accept"),
    "suspend": _l("Suspend"),
    "reinstate": _l("Reinstate"),
}
INTERLOCUTOR_KINDS = {
    "ccas": _l("CCAS (social action centre)"),
    "mission_locale": _l("Mission locale"),
    "maison_quartier": _l("Maison de quartier"),
    "association": _l("Association"),
    "health": _l("Health service"),
    "social": _l("Social service"),
    "employment": _l("Employment service"),
    "childcare": _l("Childcare"),
    "mobility": _l("Mobility service"),
    "other": _l("Other"),
}
URGENCIES = {"normal": _l("Normal"), "urgent": _l("Urgent")}
CONSENTS = {"given": _l("Given"), "to_ask": _l("To be asked")}
ORIGINS = {
    "bienveilleur": _l("A bienveilleur"),
    "self": _l("The person themselves"),
    "counter": _l("An agent at a counter"),
    "partner": _l("A partner organisation"),
}

# Referral pipeline: signalé → contacté → orienté → pris en charge → clos, + injoignable.
REFERRAL_STATUSES = {
    "signale": _l("Reported"),
    "contacte": _l("Contacted"),
    "injoignable": _l("Not reachable"),
    "oriente": _l("Referred to an interlocutor"),
    "pris_en_charge": _l("Taken in charge"),
    "clos": _l("Closed"),
}
REFERRAL_OUTCOMES = {
    "supported": _l("Needs met or followed by the interlocutor"),
    "declined": _l("The person declined help"),
    "not_reached": _l("The person could not be reached"),
    "moved": _l("The person moved away"),
    "other": _l("Other"),
}

AUTHOR, COORDINATOR, INTERLOCUTOR = "author", "coordinator", "interlocutor"


@dataclass(frozen=True)
class Transition:
    """Who may take an edge of a pipeline, and what it needs."""

    actors: frozenset[str]
    label: object
    needs_interlocutor: bool = False
    needs_consent: bool = False
    needs_outcome: bool = False


REFERRAL_TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("signale", "contacte"): Transition(frozenset({AUTHOR, COORDINATOR}),
                                        _l("The person has been contacted")),
    ("signale", "injoignable"): Transition(frozenset({AUTHOR, COORDINATOR}),
                                           _l("The person cannot be reached")),
    ("injoignable", "contacte"): Transition(frozenset({AUTHOR, COORDINATOR}),
                                            _l("The person has been contacted")),
    # Handing someone's details to an organisation needs their consent (RGPD art. 6 and 9).
    ("contacte", "oriente"): Transition(frozenset({COORDINATOR}),
                                        _l("Refer to an interlocutor"),
                                        needs_interlocutor=True, needs_consent=True),
    ("oriente", "pris_en_charge"): Transition(frozenset({INTERLOCUTOR, COORDINATOR}),
                                              _l("Taken in charge by the interlocutor")),
    # The organisation cannot help after all: back to coordination, which orients again.
    ("oriente", "contacte"): Transition(frozenset({INTERLOCUTOR, COORDINATOR}),
                                        _l("Hand back to coordination")),
    ("pris_en_charge", "clos"): Transition(frozenset({INTERLOCUTOR, COORDINATOR}),
                                           _l("Close"), needs_outcome=True),
    ("contacte", "clos"): Transition(frozenset({COORDINATOR}), _l("Close"),
                                     needs_outcome=True),
    ("injoignable", "clos"): Transition(frozenset({COORDINATOR}), _l("Close"),
                                        needs_outcome=True),
}
REFERRAL_OPEN = ("signale", "contacte", "injoignable", "oriente", "pris_en_charge")

# Conciergerie de l'emploi.
BARRIERS = {
    "childcare": _l("Childcare"),
    "mobility": _l("Mobility"),
    "health": _l("Health"),
    "housing": _l("Housing"),
    "other": _l("Other"),
}
OPENERS = {
    "person": _l("The person themselves"),
    "employment_adviser": _l("Their adviser at the employment service"),
    "mission_locale_adviser": _l("Their adviser at the mission locale"),
    "coordination": _l("The coordination team"),
}
POSITION_KINDS = {"job": _l("A job"), "training": _l("A training course")}
JOB_STATUSES = {
    "ouverte": _l("Open"),
    "proposee": _l("Offered to professionals"),
    "acceptee": _l("Accepted by a professional"),
    "close": _l("Closed"),
}
JOB_OUTCOMES = {
    "started": _l("The person took up the job or training"),
    "not_started": _l("The person could not take it up"),
    "withdrawn": _l("No longer needed"),
}
OFFER_ANSWERS = {"pending": _l("Waiting for an answer"), "accepted": _l("Accepted"),
                 "declined": _l("Declined"), "withdrawn": _l("Withdrawn")}
JOB_TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("ouverte", "proposee"): Transition(frozenset({AUTHOR, COORDINATOR}),
                                        _l("Offer to professionals"), needs_interlocutor=True),
    ("proposee", "acceptee"): Transition(frozenset({INTERLOCUTOR}), _l("Accept")),
    ("acceptee", "close"): Transition(frozenset({AUTHOR, COORDINATOR, INTERLOCUTOR}),
                                      _l("Close"), needs_outcome=True),
    ("ouverte", "close"): Transition(frozenset({AUTHOR, COORDINATOR}), _l("Close"),
                                     needs_outcome=True),
    ("proposee", "close"): Transition(frozenset({AUTHOR, COORDINATOR}), _l("Close"),
                                      needs_outcome=True),
}

# What the access log records (shown to the people in charge, and to the person on request).
ACCESS_ACTIONS = {
    "created": _l("recorded"),
    "read": _l("read"),
    "read_summary": _l("read the summary (without personal details)"),
    "assigned": _l("followed as coordinator"),
    "transition": _l("changed the status"),
    "consent": _l("recorded the person's consent"),
    "offered": _l("offered to a professional"),
    "answered": _l("answered the offer"),
    "refused": _l("access refused"),
    "reminder": _l("reminder sent"),
    "purged": _l("personal details erased"),
    "corrected": _l("corrected the personal details"),
}
