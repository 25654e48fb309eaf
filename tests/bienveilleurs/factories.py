"""Factories for the network, built with the same services the app uses."""

from __future__ import annotations

from datetime import timedelta

from civic.accounts.models import User
from civic.bienveilleurs import services
from civic.bienveilleurs.models import Interlocutor, JobRequest, Referral
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow


def make_interlocutor(quartier: Quartier | None = None, **overrides) -> Interlocutor:
    """A public organisation serving a quartier (or everywhere)."""
    fields = dict(name="CCAS de Denain", kind="ccas", topics=["isolation", "rights"],
                  quartier_ids=[quartier.id] if quartier else [], opening_hours="9 h–12 h",
                  languages="français", phone="03 53 01 00 01", email="ccas@example.org",
                  address="1 place de la Mairie", how_to_refer="Appeler l'accueil.",
                  is_public=True)
    fields.update(overrides)
    org = services.save_interlocutor(None, None, **fields)
    db.session.commit()
    return org


def make_referral(author: User, quartier: Quartier, **overrides) -> Referral:
    """A referral recorded through the service."""
    fields = dict(quartier_id=quartier.id, need="isolation", urgency="normal",
                  consent="given", person_name="Jeanne Secret",
                  contact="06 12 34 56 78 Secret", note="Lives alone, secret note")
    fields.update(overrides)
    referral = services.record_referral(author, **fields)
    db.session.commit()
    return referral


def make_job_request(author: User, quartier: Quartier, **overrides) -> JobRequest:
    """A conciergerie request opened through the service."""
    fields = dict(opener="employment_adviser", quartier_id=quartier.id, barrier="childcare",
                  position_kind="job", start_date=utcnow().date() + timedelta(days=10),
                  consent_given=True, person_name="Sarah Secret",
                  contact="sarah.secret@example.org", note="Two children, secret")
    fields.update(overrides)
    jr = services.open_job_request(author, **fields)
    db.session.commit()
    return jr


def make_pipeline(users: dict[str, User], quartier: Quartier, org: Interlocutor
                  ) -> dict[str, int]:
    """The role matrix's objects: a referral by the bienveilleur, followed by the
    coordinator and handed to the interlocutor's organisation; a conciergerie request
    opened by the interlocutor (an adviser), followed by the coordinator and offered to
    the organisation; the bienveilleur's membership. Returns URL arguments."""
    bienveilleur, coordinator = users["bienveilleur"], users["coordinator"]
    member = services.apply_to_network(
        bienveilleur, member_type="habitant", quartier_id=quartier.id, languages="",
        availability="", topics=["isolation"], charter_accepted=True)
    r = make_referral(bienveilleur, quartier)
    services.take_referral(coordinator, r)
    services.transition_referral(coordinator, r, "contacte")
    services.transition_referral(coordinator, r, "oriente", interlocutor_id=org.id)
    jr = make_job_request(users["interlocutor"], quartier)
    services.take_job_request(coordinator, jr)
    services.offer_job_request(coordinator, jr, [org.id])
    db.session.commit()
    return {"referral_id": r.id, "job_id": jr.id, "offer_id": jr.offers[0].id,
            "member_id": member.id, "interlocutor_id": org.id}
