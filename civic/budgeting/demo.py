"""Demo participatory budget for `flask seed-demo`: built through the same services as the
app, idempotent (a campaign with the demo title is never created twice)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from civic.accounts import services as accounts
from civic.accounts.models import User
from civic.budgeting import services as budget
from civic.budgeting.models import Campaign
from civic.budgeting.states import DATED_PHASES, Phase
from civic.extensions import db
from civic.review import services as review
from civic.territory.models import CityService, Quartier
from civic.timeutil import utcnow

DEMO_CAMPAIGN = "Budget participatif 2027"
THEMES = {  # theme -> service slug that studies it
    "Voirie et mobilités": "voirie",
    "Nature en ville": "espaces-verts",
    "Éclairage et sécurité": "eclairage",
    "Sport et jeux": "sports",
    "Culture et lien social": "culture",
}
RESIDENTS = [  # email, name, quartier code, year of birth
    ("karim@demo.civic.example", "Karim B.", "DEN-01", 1979),
    ("lucie@demo.civic.example", "Lucie M.", "DEN-02", 1992),
    ("yasmina@demo.civic.example", "Yasmina T.", "DEN-03", 1986),
    ("marcel@demo.civic.example", "Marcel D.", "ESC-01", 1951),
    ("sofia@demo.civic.example", "Sofia R.", "RAI-01", 2001),
    ("theo@demo.civic.example", "Théo L.", "SAE-01", 2004),
    ("awa@demo.civic.example", "Awa N.", "SAE-02", 1983),
]
# title, quartier code (None: whole city), theme, estimated €, author (email prefix), outcome
PROPOSALS = [
    ("Des bancs ombragés au square Duchâteau", "DEN-01", "Nature en ville", 12000, "habitante",
     "feasible"),
    ("Un terrain de basket rénové", "DEN-01", "Sport et jeux", 45000, "karim", "feasible"),
    ("Éclairer le passage de la gare", "DEN-01", "Éclairage et sécurité", 18000, "karim",
     "under_review"),
    ("Une boîte à livres devant l'école", "DEN-01", "Culture et lien social", 1500, "habitante",
     "submitted"),
    ("Un jardin partagé rue Voltaire", "DEN-02", "Nature en ville", 22000, "lucie", "feasible"),
    ("Piste cyclable vers le collège", "DEN-02", "Voirie et mobilités", 58000, "lucie",
     "unfeasible"),
    ("Fresque participative sur le mur du stade", "DEN-02", "Culture et lien social", 9000,
     "lucie", "needs_info"),
    ("Ralentisseurs devant la crèche", "DEN-03", "Voirie et mobilités", 8000, "yasmina",
     "feasible"),
    ("Aire de jeux inclusive", "DEN-03", "Sport et jeux", 28000, "yasmina", "under_review"),
    ("Fontaine à eau au parc", "DEN-03", "Nature en ville", 7000, "yasmina", "withdrawn"),
    ("Parcours santé pour les aînés", "ESC-01", "Sport et jeux", 25000, "marcel", "feasible"),
    ("Bancs le long du canal", "ESC-01", "Nature en ville", 9500, "marcel", "submitted"),
    ("Des bancs au bord du canal", "ESC-01", "Nature en ville", 9000, "marcel", "merged"),
    ("City stade au Sabatier", "RAI-01", "Sport et jeux", 58000, "sofia", "under_review"),
    ("Ateliers de réparation de vélos", "RAI-01", "Voirie et mobilités", 5000, "sofia",
     "feasible"),
    ("Vente de produits publicitaires", "RAI-01", "Culture et lien social", 3000, "sofia",
     "hidden"),
    ("Éclairage solaire du chemin d'Élnon", "SAE-01", "Éclairage et sécurité", 30000, "theo",
     "feasible"),
    ("Skate-park", "SAE-01", "Sport et jeux", 55000, "theo", "unfeasible"),
    ("Composteurs collectifs", "SAE-02", "Nature en ville", 4000, "awa", "feasible"),
    ("Scène mobile pour les fêtes de quartier", "SAE-02", "Culture et lien social", 25000,
     "awa", "needs_info"),
    ("Des arbres dans toutes les cours d'école", None, "Nature en ville", 120000, "lucie",
     "feasible"),
    ("Une navette gratuite le samedi", None, "Voirie et mobilités", 190000, "marcel",
     "unfeasible"),
    ("Festival des quartiers", None, "Culture et lien social", 40000, "awa", "under_review"),
    ("Toilettes publiques accessibles", None, "Voirie et mobilités", 80000, "karim",
     "submitted"),
    ("Des nichoirs pour les martinets", None, "Nature en ville", 2500, "theo", "draft"),
    ("Wifi public dans les maisons de quartier", None, "Culture et lien social", 15000,
     "habitante", "draft"),
]
# Approximate centres (longitude, latitude) used to draw demo outlines for the tile-less map,
# only for quartiers that have none.
DEMO_CENTRES = {"DEN-01": (3.392, 50.332), "DEN-02": (3.396, 50.327), "DEN-03": (3.405, 50.322),
                "ESC-01": (3.343, 50.333), "RAI-01": (3.476, 50.395),
                "SAE-01": (3.420, 50.455), "SAE-02": (3.428, 50.448)}
DESCRIPTION = ("{title} : un projet porté par des habitants pour améliorer la vie du quartier. "
               "Il répond à un besoin exprimé lors des réunions du conseil citoyen et profitera "
               "aux familles comme aux personnes âgées.")


def _user(email: str) -> User | None:
    return accounts.find_user_by_email(email)


def _ensure_people(password_hash: str, admin: User | None) -> None:
    quartiers = {q.code: q for q in db.session.execute(select(Quartier)).scalars()}
    for email, name, code, year in RESIDENTS:
        if _user(email) is None and code in quartiers:
            db.session.add(User(email=email, display_name=name, password_hash=password_hash,
                                quartier_id=quartiers[code].id, birth_year=year,
                                email_confirmed_at=utcnow(), residency_verified_at=utcnow(),
                                residency_method="in_person"))
    db.session.flush()
    for service in db.session.execute(select(CityService)).scalars():
        if service.slug == "voirie":
            continue  # voirie@ exists already (civic.demo.PEOPLE)
        email = f"{service.slug}@demo.civic.example"
        agent = _user(email)
        if agent is None:
            agent = User(email=email, display_name=f"Agent {service.name}",
                         password_hash=password_hash, email_confirmed_at=utcnow())
            db.session.add(agent)
            db.session.flush()
        if admin is not None and not agent.has_role("agent", service.id):
            accounts.grant_role(admin, agent, "agent", service.id)


def _demo_outlines(admin: User) -> None:
    import json

    from civic.territory import services as territory

    for q in db.session.execute(select(Quartier)).scalars():
        if q.outline_geojson or q.code not in DEMO_CENTRES:
            continue
        lon, lat = DEMO_CENTRES[q.code]
        ring = [[lon - 0.003, lat - 0.002], [lon + 0.003, lat - 0.002],
                [lon + 0.0035, lat + 0.001], [lon, lat + 0.0025],
                [lon - 0.0035, lat + 0.001], [lon - 0.003, lat - 0.002]]
        territory.save_quartier(admin, q, name=q.name, code=q.code, commune_id=q.commune_id,
                                population=q.population, is_priority=q.is_priority,
                                outline_geojson=json.dumps({"type": "Polygon",
                                                            "coordinates": [ring]}))


def seed_budget_demo(password_hash: str, admin: User | None) -> int:
    """Create the demo campaign and its proposals in every state; returns 1 if created."""
    if db.session.execute(select(Campaign).where(Campaign.title == DEMO_CAMPAIGN)).scalar():
        return 0
    coordinator = _user("coordination@demo.civic.example")
    if coordinator is None or admin is None:
        return 0
    _ensure_people(password_hash, admin)
    _demo_outlines(admin)
    quartiers = list(db.session.execute(select(Quartier).order_by(Quartier.code)).scalars())
    now = utcnow()
    offsets = {Phase.INFORMATION: -20, Phase.SUBMISSION: -10, Phase.REVIEW: 30,
               Phase.VOTE: 60, Phase.RESULTS: 75, Phase.REALISATION: 90}
    per_quartier = {q.id: (60_000_00 if q.is_priority else 30_000_00) for q in quartiers}
    city = 200_000_00
    campaign = budget.save_campaign(coordinator, None, budget.CampaignData(
        title=DEMO_CAMPAIGN,
        description=("Le budget participatif permet aux habitants de proposer des projets "
                     "d'aménagement pour leur quartier ou pour toute la ville. Les services "
                     "de la ville étudient leur faisabilité technique ; les projets réalisables "
                     "sont soumis au vote des habitants.\n"
                     "Règlement : un projet d'investissement, d'intérêt général, sur l'espace "
                     "public ou un équipement de la ville."),
        total_cents=city + sum(per_quartier.values()), city_cents=city,
        quartier_cents=per_quartier,
        starts={p: now + timedelta(days=offsets[p]) for p in DATED_PHASES},
        min_age=11, require_verified=False, require_residence=True, ballot_format="approval",
        max_choices=5, counting_rule="greedy", themes=tuple(THEMES)))
    themes = {t.name: t for t in campaign.themes}
    services = {s.slug: s for s in db.session.execute(select(CityService)).scalars()}
    codes = {q.code: q.id for q in quartiers}
    made: dict[str, object] = {}
    for title, code, theme, euros, author_key, outcome in PROPOSALS:
        author = _user(f"{author_key}@demo.civic.example")
        if author is None:
            continue
        data = budget.ProposalData(
            title=title, description=DESCRIPTION.format(title=title),
            quartier_id=codes.get(code) if code else None, theme_id=themes[theme].id,
            estimated_cost_cents=euros * 100, address="", accept_rules=True)
        proposal = budget.save_proposal(author, campaign, None, data,
                                        submit=outcome != "draft")
        made[title] = proposal
        if outcome in ("draft", "submitted"):
            continue
        if outcome == "withdrawn":
            budget.withdraw_proposal(author, proposal)
            continue
        if outcome == "hidden":
            budget.hide_proposal(coordinator, proposal,
                                 "Publicité pour un commerce : hors du règlement.")
            continue
        if outcome == "merged":
            budget.merge_proposals(coordinator, proposal, made["Bancs le long du canal"])
            continue
        service = services.get(THEMES[theme])
        if service is None:
            continue
        review.assign_services(coordinator, proposal, [service.id])
        if outcome == "under_review":
            continue
        agent = next((u for u in db.session.execute(select(User)).scalars()
                      if u.has_role("agent", service.id)), None)
        item = review.reviews_of(proposal)[0]
        if outcome == "feasible":
            verdict = review.VerdictData(
                "feasible", "Le projet est réalisable sur le domaine public ; le coût comprend "
                "la fourniture et la pose.", int(euros * 1.1) * 100, 8,
                "Devis du marché à bons de commande 2026.")
        elif outcome == "unfeasible":
            verdict = review.VerdictData(
                "unfeasible", "Le coût dépasse largement l'enveloppe et le terrain n'appartient "
                "pas à la ville.", None, None, "Voir le service foncier.")
        else:
            verdict = review.VerdictData(
                "needs_info", "Pouvez-vous préciser l'emplacement exact et l'usage prévu ?",
                None, None)
        review.record_feasibility(agent, item, verdict)
        review.publish_answers(coordinator, campaign, [proposal.id])
    db.session.flush()
    return 1


# A friendly comment and one that two residents reported, so that the moderators' queue of
# the demo is not empty (proposal title, author, text, [(reporter, reason, details)]).
DEMO_COMMENTS = [
    ("Une boîte à livres devant l'école", "karim",
     "Bonne idée ! Les enfants du quartier pourraient la décorer avec l'école.", []),
    ("Une boîte à livres devant l'école", "lucie",
     "Pour des livres pas chers, visitez ma boutique en ligne : -50 % avec le code LIVRE50 !",
     [("yasmina", "spam", ""), ("habitante", "spam", "Publicité pour un commerce.")]),
]


def seed_demo_comments() -> int:
    """Comments on the demo campaign, one of them reported (once; returns how many)."""
    from civic.budgeting import comments
    from civic.budgeting.models import Proposal, ProposalComment

    campaign = db.session.execute(select(Campaign).where(Campaign.title == DEMO_CAMPAIGN)
                                  ).scalar()
    if campaign is None or db.session.execute(select(ProposalComment.id).join(Proposal).where(
            Proposal.campaign_id == campaign.id).limit(1)).scalar():
        return 0
    made = 0
    for title, author_key, text, reports in DEMO_COMMENTS:
        proposal = db.session.execute(select(Proposal).where(
            Proposal.campaign_id == campaign.id, Proposal.title == title)).scalar()
        author = _user(f"{author_key}@demo.civic.example")
        if proposal is None or author is None:
            continue
        comment = budget.add_comment(author, proposal, text)
        made += 1
        for reporter_key, reason, details in reports:
            reporter = _user(f"{reporter_key}@demo.civic.example")
            if reporter is not None:
                comments.report_comment(reporter, comment, reason, details)
    db.session.flush()
    return made
