"""Fixtures: an app on a throwaway database (SQLite file, or DATABASE_URL for PostgreSQL)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from civic import create_app
from civic.accounts import services
from civic.accounts.models import OutboxMessage, User
from civic.extensions import db, limiter
from civic.territory.models import Quartier

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
_TMP = tempfile.mkdtemp(prefix="civic-tests-")


def database_url() -> str:
    """DATABASE_URL (PostgreSQL lane) or a SQLite file in a temporary folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url if "+psycopg" in url else url.replace("postgresql://", "postgresql+psycopg://")
    return f"sqlite:///{_TMP}/test.db"


def make_config(**extra: object) -> dict:
    """The configuration every test app uses."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "CIVIC_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SERVER_NAME": "localhost",
        "CIVIC_UPLOAD_FOLDER": f"{_TMP}/uploads",
        **extra,
    }


@pytest.fixture(scope="session")
def app():
    """One app for the session; tables are created once and emptied after each test."""
    app = create_app(make_config())
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{t}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))  # noqa: S608
    else:
        for t in tables:
            db.session.execute(text(f'DELETE FROM "{t}"'))  # noqa: S608
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean(request) -> Iterator[None]:
    """Each test that uses the app starts from empty tables and fresh rate limits."""
    if "app" not in request.fixturenames and "client" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        limiter.reset()
        _empty_tables()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.test_request_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    """The CSRF token embedded in a page."""
    m = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def post_form(client, url: str, data: dict, *, token_page: str | None = None, **kw):
    """GET a page for its CSRF token, then POST the form like a browser would."""
    page = client.get(token_page or url)
    html = page.get_data(as_text=True)
    if "csrf_token" not in html:
        html = client.get("/").get_data(as_text=True)
    if "csrf_token" not in html:  # visitors' pages carry no token (GET language switcher)
        html = client.get("/compte/connexion").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_from(html), **data}, **kw)


def outbox(recipient: str | None = None) -> list[OutboxMessage]:
    """Messages in the outbox (call inside an app context)."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        stmt = stmt.where(OutboxMessage.recipient == recipient)
    return list(db.session.execute(stmt).scalars())


def make_territory() -> Quartier:
    """A commune with two quartiers (returns the first)."""
    from civic.territory import services as territory

    c = territory.save_commune(None, None, name="Denain", insee_code="59172")
    q = territory.save_quartier(None, None, name="Faubourg Duchâteau", code="DEN-01",
                                commune_id=c.id, population=6000, is_priority=True,
                                outline_geojson=None)
    territory.save_quartier(None, None, name="Bellevue", code="DEN-03", commune_id=c.id,
                            population=2900, is_priority=False, outline_geojson=None)
    db.session.commit()
    return q


def make_user(email: str = "ines@example.org", *, roles: tuple = (), confirmed: bool = True,
              quartier: Quartier | None = None, **overrides) -> User:
    """A resident built through the registration service, optionally with roles."""
    if quartier is None:
        quartier = db.session.execute(select(Quartier)).scalars().first() or make_territory()
    fields = dict(email=email, password=PASSWORD, display_name=email.split("@")[0].title(),
                  quartier_id=quartier.id, birth_year=1990, gender=None)
    fields.update(overrides)
    user = services.register_resident(**fields)
    if confirmed:
        user.email_confirmed_at = user.created_at
    for role in roles:
        role, scope = role if isinstance(role, tuple) else (role, None)
        admin = db.session.execute(select(User).where(User.grants.any())).scalars().first()
        from civic.accounts.models import RoleGrant

        if admin is None or role == "admin":
            db.session.add(RoleGrant(user=user, role=role, scope_id=scope))
            db.session.flush()
        else:
            services.grant_role(admin, user, role, scope)
    db.session.commit()
    return user


SMALL_PLAN = {
    "schema_version": 1, "slug": "plan-de-test", "title": "Plan de test", "territory": "Denain",
    "period": {"start": 2024, "end": 2026}, "sources": [{"file": "test.txt", "role": "tree"}],
    "source_note": "Plan built for the tests.",
    "levels": [{"kind": "axe", "label": "axe"}, {"kind": "objectif", "label": "objectif"},
               {"kind": "action", "label": "action"}],
    "publics_prioritaires": [{"id": "jeunes", "label": "Jeunes", "source_text": "jeunes",
                              "scope_codes": [], "source": "test.txt"}],
    "cross_cutting_tags": [{"id": "egalite", "label": "Égalité", "source_text": "égalité",
                            "source": "test.txt"}],
    "nodes": [
        {"kind": "axe", "code": "1", "title": "Axe un", "children": [
            {"kind": "objectif", "code": "1.1", "title": "Objectif un-un", "children": [
                {"kind": "action", "code": "1.1.1", "title": "Action A",
                 "expected_impact": ["Plus de jeunes accompagnés"]},
                {"kind": "action", "code": "1.1.2", "title": "Action B"}]},
            {"kind": "objectif", "code": "1.2", "title": "Objectif un-deux", "children": [
                {"kind": "action", "code": "1.2.1", "title": "Action C"}]}]},
        {"kind": "axe", "code": "2", "title": "Axe deux", "children": [
            {"kind": "action", "code": "2.1", "title": "Action D"}]},
    ],
}


def make_plan(**overrides):
    """A small plan (2 axes, 2 objectives, 4 actions) imported through the import service."""
    import copy

    from civic.actionplan.seed_data import parse_plan
    from civic.actionplan.services import import_plan

    data = copy.deepcopy(SMALL_PLAN)
    data.update(overrides)
    plan = import_plan(parse_plan(data, "test.json")).plan
    db.session.commit()
    return plan


def plan_action(plan, code: str):
    """The node of a plan with this code."""
    return next(n for n in plan.nodes if n.code == code)


def make_council(quartier: Quartier | None = None, *, name: str = "Conseil DEN-01"):
    """A council of a quartier, created through the territory service."""
    from civic.territory import services as territory

    quartier = quartier or db.session.execute(select(Quartier)).scalars().first() \
        or make_territory()
    council = territory.save_council(None, None, name=name, quartier_id=quartier.id)
    db.session.commit()
    return council


def make_volunteers(council, women: int, men: int, *, prefix: str = "vol") -> list:
    """Residents of the council's quartier who volunteered, through the services."""
    from civic.councils import services as councils

    people = []
    for gender, count in (("female", women), ("male", men)):
        for i in range(count):
            user = make_user(f"{prefix}-{gender}-{i}@example.org", quartier=council.quartier,
                             gender=gender)
            people.append(councils.volunteer(user, council, published_name=f"{gender} {i}",
                                             gender=gender, birth_year=1950 + 7 * i))
    db.session.commit()
    return people


def login(client, email: str, password: str = PASSWORD):
    """Log in through the real form."""
    return post_form(client, "/compte/connexion", {"email": email, "password": password})

