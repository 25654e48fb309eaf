"""Public pages and API lists run a fixed number of queries, whatever the data (no N+1)."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

from sqlalchemy import event

from civic.extensions import db
from civic.territory.models import Commune, Quartier

_fresh = itertools.count()


@contextmanager
def count_queries(app):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN002
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _city(app, communes: int, quartiers: int) -> None:
    with app.app_context():
        for c in range(communes):
            commune = Commune(name=f"Commune {c}", insee_code=f"{59000 + c}")
            db.session.add(commune)
            db.session.flush()
            for q in range(quartiers):
                db.session.add(Quartier(code=f"C{c}-{q:02d}", name=f"Quartier {c}.{q}",
                                        commune_id=commune.id, population=1000 * q,
                                        is_priority=q % 2 == 0))
        db.session.commit()


def _queries(app, client, url: str) -> int:
    sep = "&" if "?" in url else "?"
    with count_queries(app) as statements:
        resp = client.get(f"{url}{sep}uncached={next(_fresh)}")  # a key not in the cache
    assert resp.status_code == 200, url
    return len(statements)


def test_query_counts_do_not_grow_with_the_data(app, client):
    urls = ("/", "/quartiers", "/api/v1/quartiers", "/api/v1/communes",
            "/api/v1/quartiers/C0-01")
    _city(app, communes=1, quartiers=2)
    small = {url: _queries(app, client, url) for url in urls}
    with app.app_context():
        db.session.execute(db.delete(Quartier))
        db.session.execute(db.delete(Commune))
        db.session.commit()
    _city(app, communes=6, quartiers=15)  # three times the communes, seven times the quartiers
    big = {url: _queries(app, client, url) for url in urls}
    assert big == small, (small, big)
    assert big["/quartiers"] <= 2 and big["/"] <= 1 and big["/api/v1/quartiers"] <= 2
