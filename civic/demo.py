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
    return created
