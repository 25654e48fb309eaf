"""Demo data for `flask seed-demo`: idempotent, built with the same services as the app."""

from __future__ import annotations

from sqlalchemy import select

from civic.accounts import services as accounts
from civic.accounts.models import RoleGrant, User
from civic.extensions import db
from civic.territory import services as territory
from civic.territory.models import CityService, Commune, Council, Quartier
from civic.timeutil import utcnow

DEMO_PASSWORD = "demo-civic-2026"  # noqa: S105 - published in the README, demo only

# A fictional agglomeration modelled on the seed documents (several communes, priority
# quartiers); names of communes are real, quartier codes and populations are demo values.
COMMUNES = {
    "Denain": ("59172", [("DEN-01", "Faubourg Duchâteau", 6200, True),
                         ("DEN-02", "Centre-ville", 4100, True),
                         ("DEN-03", "Bellevue", 2900, False)]),
    "Escaudain": ("59211", [("ESC-01", "Cité Schneider", 2100, True)]),
    "Raismes": ("59491", [("RAI-01", "Sabatier", 3300, True)]),
    "Saint-Amand-les-Eaux": ("59526", [("SAE-01", "Élnon", 2500, True),
                                       ("SAE-02", "Centre", 5200, False)]),
}
SERVICES = [("Voirie", "voirie"), ("Espaces verts", "espaces-verts"),
            ("Éclairage public", "eclairage"), ("Sports", "sports"), ("Culture", "culture")]
PEOPLE = [
    # email, name, quartier code, year, gender, roles [(role, scope name)]
    ("admin@demo.civic.example", "Alex Admin", None, 1980, None, [("admin", None)]),
    ("coordination@demo.civic.example", "Camille Coordinatrice", "DEN-01", 1985, "female",
     [("coordinator", None)]),
    ("voirie@demo.civic.example", "Victor Voirie", "DEN-02", 1975, "male",
     [("agent", "Voirie")]),
    ("conseil@demo.civic.example", "Nadia Conseillère", "DEN-01", 1990, "female",
     [("council_member", "Conseil citoyen Faubourg Duchâteau")]),
    ("bienveilleur@demo.civic.example", "Bruno Bienveilleur", "RAI-01", 1962, "male",
     [("bienveilleur", None)]),
    ("habitante@demo.civic.example", "Inès Habitante", "DEN-01", 1998, "female", []),
]


def seed_demo() -> dict[str, int]:
    """Create the demo city once; running it again changes nothing."""
    created = {"communes": 0, "quartiers": 0, "services": 0, "councils": 0, "users": 0}
    for name, (insee, quartiers) in COMMUNES.items():
        commune = db.session.execute(select(Commune).where(Commune.name == name)).scalar()
        if commune is None:
            commune = territory.save_commune(None, None, name=name, insee_code=insee)
            created["communes"] += 1
        for code, qname, pop, prio in quartiers:
            if db.session.execute(select(Quartier).where(Quartier.code == code)).scalar():
                continue
            territory.save_quartier(None, None, name=qname, code=code, commune_id=commune.id,
                                    population=pop, is_priority=prio, outline_geojson=None)
            created["quartiers"] += 1
    for name, slug in SERVICES:
        if not db.session.execute(select(CityService).where(CityService.slug == slug)).scalar():
            territory.save_service(None, None, name=name, slug=slug, email=None)
            created["services"] += 1
    for q in db.session.execute(select(Quartier).where(Quartier.is_priority)).scalars():
        name = f"Conseil citoyen {q.name}"
        if not db.session.execute(select(Council).where(Council.name == name)).scalar():
            territory.save_council(None, None, name=name, quartier_id=q.id)
            created["councils"] += 1
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    admin: User | None = None
    for email, name, qcode, year, gender, roles in PEOPLE:
        user = accounts.find_user_by_email(email)
        if user is None:
            quartier = db.session.execute(
                select(Quartier).where(Quartier.code == qcode)).scalar() if qcode else None
            user = User(email=email, display_name=name, password_hash=password_hash,
                        quartier_id=quartier.id if quartier else None, birth_year=year,
                        gender=gender, email_confirmed_at=utcnow(),
                        residency_verified_at=utcnow() if quartier else None,
                        residency_method="in_person" if quartier else None)
            db.session.add(user)
            db.session.flush()
            created["users"] += 1
        if admin is None and any(r == "admin" for r, _ in roles):
            if not user.has_role("admin"):
                db.session.add(RoleGrant(user=user, role="admin"))
                db.session.flush()
            admin = user
        for role, scope_name in roles:
            scope_id = None
            if scope_name:
                scope_id = dict((n, i) for i, n in accounts.scope_choices(role))[scope_name]
            if not user.has_role(role, scope_id) and admin is not None:
                accounts.grant_role(admin, user, role, scope_id)
    db.session.flush()
    from civic.actionplan.services import import_seed_plans

    report = import_seed_plans()
    created["plans"] = report.plans_created
    created["plan nodes"] = report.nodes_created
    from civic.bienveilleurs.demo import seed_bienveilleurs

    created.update(seed_bienveilleurs(admin, password_hash))
    from civic.budgeting.demo import seed_budget_demo

    created["campaigns"] = seed_budget_demo(password_hash, admin)
    from civic.budgeting.demo import seed_demo_comments

    created["comments"] = seed_demo_comments()
    created.update(seed_demo_council())
    return created


# Residents of Faubourg Duchâteau who volunteered for the draw (no email: they cannot log in).
VOLUNTEERS = [("Aïcha B.", "female", 1971), ("Julie M.", "female", 1994),
              ("Fatou D.", "female", 1983), ("Marc L.", "male", 1966),
              ("Karim T.", "male", 1990), ("Paul V.", "male", 2001),
              ("Yanis R.", "male", 1979)]
DEMO_SEED = "demo-2026-01-15-loto-7-12-19-33-0"


def seed_demo_council() -> dict[str, int]:
    """One council's life: volunteers, a published draw, associations, meetings, avis."""
    from datetime import date, timedelta

    from civic.actionplan import services as actionplan
    from civic.actionplan.models import Plan
    from civic.councils import services as councils
    from civic.councils.models import College, CouncilDraw, Meeting

    created = {"draws": 0, "meetings": 0, "avis": 0}
    council = db.session.execute(select(Council).where(
        Council.name == "Conseil citoyen Faubourg Duchâteau")).scalar_one()
    coordinator = accounts.find_user_by_email("coordination@demo.civic.example")
    member = accounts.find_user_by_email("conseil@demo.civic.example")
    if not db.session.execute(select(CouncilDraw).where(
            CouncilDraw.council_id == council.id)).scalar():
        councils.volunteer(member, council, published_name="Nadia C.", gender="female",
                           birth_year=member.birth_year)
        for name, gender, year in VOLUNTEERS:
            resident = User(display_name=name, quartier_id=council.quartier_id,
                            birth_year=year, gender=gender)
            db.session.add(resident)
            db.session.flush()
            councils.volunteer(resident, council, published_name=name, gender=gender,
                               birth_year=year)
        councils.run_draw(coordinator, council, seats=4, seed=DEMO_SEED, age_bands=None,
                          term_end=date(2028, 12, 31))
        for name, organisation in (("Sophie G.", "Centre social Duchâteau"),
                                   ("Henri P.", "Amicale des locataires")):
            councils.add_member(coordinator, council, published_name=name,
                                college=College.ASSOCIATIONS.value, gender=None,
                                organisation=organisation, email=None, term_start=None,
                                term_end=date(2028, 12, 31))
        created["draws"] += 1
    if not db.session.execute(select(Meeting).where(Meeting.council_id == council.id)).scalar():
        past = councils.schedule_meeting(
            coordinator, council, day=date(2026, 2, 10), time="18:30",
            location="Centre social Duchâteau, salle 2",
            agenda="1. Installation du conseil\n2. Règlement intérieur\n"
                   "3. Actions du contrat de ville dans le quartier")
        councils.record_attendance(coordinator, past, [m.id for m in council.members][:5])
        councils.save_minutes(coordinator, past, approved=True, minutes=(
            "Le conseil est installé. Le règlement intérieur est adopté à l'unanimité. "
            "Le conseil suivra en priorité les actions pour l'emploi des jeunes."))
        future = councils.today() + timedelta(days=30)
        upcoming = councils.schedule_meeting(
            coordinator, council, day=future, time="18:30", location="Mairie annexe",
            agenda="1. Avis sur les actions du quartier\n2. Questions aux porteurs")
        councils.convene(coordinator, upcoming)
        created["meetings"] += 2
    plan = db.session.execute(select(Plan).where(Plan.slug.contains("hainaut"))).scalar()
    if plan is not None and not councils.avis_of(council):
        actions = [n for n in sorted(plan.nodes, key=lambda n: n.id) if n.is_action][:2]
        for action in actions:
            if council.quartier not in action.quartiers:
                actionplan.update_action(
                    coordinator, action, porteur=action.porteur or "Ville de Denain",
                    partners=action.partners, period_start=action.period_start,
                    period_end=action.period_end, budget_cents=action.budget_cents,
                    quartier_ids=[q.id for q in action.quartiers] + [council.quartier_id],
                    public_ids=[p.id for p in action.publics],
                    tag_ids=[t.id for t in action.tags])
        councils.give_avis(member, council, actions[0], opinion="reserved", rating=3, text=(
            "Action utile, mais les jeunes du quartier la connaissent mal : "
            "le conseil demande une permanence au centre social."))
        question = councils.ask_question(member, council, actions[0],
                                         "Combien de jeunes du quartier en ont bénéficié ?")
        councils.answer_question(coordinator, question,
                                 "Douze jeunes du Faubourg Duchâteau en 2025.")
        created["avis"] += 1
    created["calls"] = seed_demo_call(council, coordinator, member)
    db.session.flush()
    return created


def seed_demo_call(council: Council, coordinator: User, member: User) -> int:
    """The Porte du Hainaut plan's yearly call, prefilled from its seed, with one proposal
    and the council's avis on it (the decision is left to the demo's coordinator)."""
    from datetime import timedelta

    from civic.actionplan.models import Plan
    from civic.councils import cycle
    from civic.councils import services as councils
    from civic.councils.models import ProjectCall

    plan = db.session.execute(select(Plan).where(Plan.slug.contains("hainaut"))).scalar()
    if plan is None or db.session.execute(select(ProjectCall)).scalar():
        return 0
    criteria, ceiling = cycle.seed_call_defaults(plan)
    year = councils.today().year + 1
    call = cycle.open_call(coordinator, plan, year=year,
                           title=f"Appel à projets {year} du contrat de ville",
                           criteria="\n".join(criteria), max_cofinancing_percent=ceiling,
                           closes_on=councils.today() + timedelta(days=60))
    application = cycle.apply_to_call(
        coordinator, call, porteur="Association Duchâteau Solidaire",
        title="Garde d'enfants en horaires décalés",
        description="Une solution de garde de 6 h à 22 h pour les parents du quartier qui "
                    "reprennent un emploi.",
        quartier_id=council.quartier_id, budget_cents=4_000_000, requested_cents=3_000_000)
    cycle.give_application_avis(member, council, application, opinion="favourable",
                                text="Besoin très fort dans le quartier, exprimé en réunion.")
    return 1



