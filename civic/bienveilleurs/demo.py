"""Demo data for the network: interlocutors, a partner account, members, referrals and
conciergerie requests at every stage — built with the services, so everything personal is
encrypted exactly as in real use. Idempotent. All names and numbers are fictional (03 53 01
… numbers are reserved by ARCEP for fiction)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from civic.accounts import services as accounts
from civic.accounts.models import User
from civic.bienveilleurs import services
from civic.bienveilleurs.models import Interlocutor, JobRequest, NetworkMember, Referral
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow

PARTNER_EMAIL = "partenaire@demo.civic.example"
INTERLOCUTORS = [
    # name, kind, topics, quartier codes (none: whole territory), phone, public
    ("CCAS de Denain", "ccas", ["isolation", "rights", "housing", "health"],
     ["DEN-01", "DEN-02", "DEN-03"], "03 53 01 00 01", True),
    ("Mission locale du Denaisis", "mission_locale", ["employment", "rights"], [],
     "03 53 01 00 02", True),
    ("Maison de quartier Sabatier", "maison_quartier", ["isolation", "newcomer"], ["RAI-01"],
     "03 53 01 00 03", True),
    ("Relais petite enfance de Denain", "childcare", ["employment"],
     ["DEN-01", "DEN-02", "DEN-03"], "03 53 01 00 04", True),
    ("Plateforme mobilité emploi", "mobility", ["employment"], [], "03 53 01 00 05", True),
    ("Centre médico-social de l'Ostrevent", "health", ["health"], ["DEN-01", "ESC-01"],
     "03 53 01 00 06", False),
]


def _user(email: str) -> User | None:
    return accounts.find_user_by_email(email)


def _q(code: str) -> int:
    return db.session.execute(select(Quartier.id).where(Quartier.code == code)).scalar_one()


def _org(name: str) -> Interlocutor:
    return db.session.execute(
        select(Interlocutor).where(Interlocutor.name == name)).scalar_one()


def seed_bienveilleurs(admin: User | None, password_hash: str) -> dict[str, int]:
    """Create the network's demo data once; running it again changes nothing."""
    created = {"interlocutors": 0, "referrals": 0, "job_requests": 0}
    with current_app.test_request_context("/"):
        for name, kind, topics, codes, phone, public in INTERLOCUTORS:
            if db.session.execute(select(Interlocutor.id).where(
                    Interlocutor.name == name)).scalar() is None:
                services.save_interlocutor(
                    None, None, name=name, kind=kind, topics=topics,
                    quartier_ids=[_q(c) for c in codes],
                    opening_hours="Lundi–vendredi 9 h–12 h et 14 h–17 h", languages="français",
                    phone=phone, email="", address="", is_public=public,
                    how_to_refer="Appeler l'accueil en donnant le numéro du signalement.")
                created["interlocutors"] += 1
        ccas = _org("CCAS de Denain")
        partner = _user(PARTNER_EMAIL)
        if partner is None:
            partner = User(email=PARTNER_EMAIL, display_name="Paula Partenaire",
                           password_hash=password_hash, email_confirmed_at=utcnow())
            db.session.add(partner)
            db.session.flush()
        if admin is not None and not partner.has_role("interlocutor", ccas.id):
            accounts.grant_role(admin, partner, "interlocutor", ccas.id)
        bruno = _user("bienveilleur@demo.civic.example")
        camille = _user("coordination@demo.civic.example")
        ines = _user("habitante@demo.civic.example")
        if bruno is None or camille is None or ines is None:
            return created
        if services.member_of(bruno) is None:
            member = services.apply_to_network(
                bruno, member_type="habitant", quartier_id=_q("RAI-01"),
                languages="français, portugais", availability="Les après-midi en semaine",
                topics=["isolation", "newcomer"], charter_accepted=True)
            services.decide_member(camille, member, "validate")
        if services.member_of(ines) is None:
            services.apply_to_network(
                ines, member_type="associatif", quartier_id=_q("DEN-01"), languages="français",
                availability="Le samedi", topics=["rights"], charter_accepted=True)
        if not db.session.scalar(select(func.count(Referral.id))):
            _referrals(bruno, camille, partner, ccas)
            created["referrals"] = 4
        if not db.session.scalar(select(func.count(JobRequest.id))):
            _job_requests(camille)
            created["job_requests"] = 2
    db.session.flush()
    return created


def _referrals(bruno: User, camille: User, partner: User, ccas: Interlocutor) -> None:
    r1 = services.record_referral(
        bruno, quartier_id=_q("DEN-01"), need="isolation", urgency="normal", consent="given",
        person_name="Mme Jeanne (démo)", contact="03 53 01 00 11 — 3e étage, sonner deux fois",
        note="Ne sort plus depuis l'hiver ; aimerait des visites.")
    services.take_referral(camille, r1)
    services.transition_referral(camille, r1, "contacte")
    services.transition_referral(camille, r1, "oriente", interlocutor_id=ccas.id)
    services.transition_referral(partner, r1, "pris_en_charge")
    r2 = services.record_referral(
        bruno, quartier_id=_q("RAI-01"), need="newcomer", urgency="normal", consent="to_ask",
        person_name="Famille Amadou (démo)", contact="Rencontrée à l'épicerie, passe le matin",
        note="Arrivée le mois dernier, ne connaît pas encore les services.")
    r3 = services.record_referral(
        bruno, quartier_id=_q("DEN-02"), need="rights", urgency="urgent", consent="given",
        person_name="M. Paul (démo)", contact="03 53 01 00 12", note="")
    services.take_referral(camille, r3)
    services.transition_referral(camille, r3, "contacte")
    services.transition_referral(camille, r3, "oriente", interlocutor_id=ccas.id)
    services.transition_referral(partner, r3, "pris_en_charge")
    services.transition_referral(partner, r3, "clos", outcome="supported")
    r4 = services.record_referral(
        bruno, quartier_id=_q("ESC-01"), need="health", urgency="normal", consent="to_ask",
        person_name="Voisin du 12 (démo)", contact="12 rue des Demo, Escaudain", note="")
    services.transition_referral(bruno, r4, "injoignable")
    del r2


def _job_requests(camille: User) -> None:
    today = utcnow().date()
    j1 = services.open_job_request(
        camille, opener="coordination", quartier_id=_q("DEN-01"), barrier="childcare",
        position_kind="job", start_date=today + timedelta(days=12), consent_given=True,
        person_name="Mme Sarah (démo)", contact="03 53 01 00 21",
        note="Deux enfants de 2 et 5 ans ; prise de poste à 6 h.")
    services.offer_job_request(camille, j1, [_org("Relais petite enfance de Denain").id,
                                             _org("CCAS de Denain").id])
    services.open_job_request(
        camille, opener="mission_locale_adviser", quartier_id=_q("ESC-01"),
        barrier="mobility", position_kind="training", start_date=today + timedelta(days=4),
        consent_given=True, person_name="Kevin (démo)", contact="03 53 01 00 22",
        note="Formation à Valenciennes, pas de permis.")


__all__ = ["NetworkMember"]
