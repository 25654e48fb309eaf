"""Bulk loader for benchmarks: a demo city at realistic size, fast.

Residents are inserted in batches with ONE precomputed password hash (hashing 50,000 passwords
one by one with scrypt would take about an hour). Usage:
    DATABASE_URL=... python bench/bulk_load.py --residents 50000 --quartiers 20
The database must be migrated first (flask db upgrade). Never run inside CI.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from civic import create_app  # noqa: E402
from civic.accounts.models import User  # noqa: E402
from civic.accounts.services import hash_password  # noqa: E402
from civic.extensions import db  # noqa: E402
from civic.territory.models import Commune, Quartier  # noqa: E402
from civic.timeutil import utcnow  # noqa: E402

PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark accounts only


def load(residents: int, quartiers: int) -> dict[str, float]:
    """Create communes, quartiers and residents; returns timings."""
    t0 = time.perf_counter()
    commune = db.session.execute(select(Commune).where(Commune.name == "Benchville")).scalar()
    if commune is None:
        commune = Commune(name="Benchville", insee_code="99999")
        db.session.add(commune)
        db.session.flush()
    existing = db.session.scalar(select(func.count(Quartier.id)).where(
        Quartier.commune_id == commune.id))
    for i in range(existing, quartiers):
        db.session.add(Quartier(code=f"BEN-{i:02d}", name=f"Quartier {i}", commune_id=commune.id,
                                population=residents // max(quartiers, 1), is_priority=i % 2 == 0))
    db.session.flush()
    qids = list(db.session.execute(
        select(Quartier.id).where(Quartier.commune_id == commune.id)).scalars())
    hashed = hash_password(PASSWORD)
    have = db.session.scalar(select(func.count(User.id)).where(User.email.like("bench%")))
    now = utcnow()
    batch = []
    for n in range(have, residents):
        batch.append({"email": f"bench{n}@bench.civic.example", "password_hash": hashed,
                      "display_name": f"Bench {n}", "quartier_id": qids[n % len(qids)],
                      "birth_year": 1940 + n % 60, "email_confirmed_at": now,
                      "residency_verified_at": now, "residency_method": "census",
                      "created_at": now, "session_epoch": 0})
        if len(batch) == 5000:
            db.session.execute(insert(User), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(User), batch)
    db.session.commit()
    return {"seconds": time.perf_counter() - t0, "residents": residents, "quartiers": len(qids)}


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--quartiers", type=int, default=20)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        print(load(args.residents, args.quartiers))


if __name__ == "__main__":
    main()
