"""Benchmark of the vote: casting ballots through the service layer, counting from the DB.

    python bench/vote_count.py                     # SQLite file in /tmp, 100,000 ballots
    DATABASE_URL=postgresql+psycopg://... python bench/vote_count.py --ballots 1000000

What it does (never run it in CI):
1. creates the tables (``db.create_all`` on an empty database), a campaign through
   ``save_campaign`` with one city-wide envelope and ``--projects`` proposals put straight on
   the ballot (status selected, cost validated: the review workflow is not what is measured);
2. casts ``--cast`` ballots (default 10,000) through ``civic.voting.services.cast_ballot``
   for as many residents, one commit per ballot as the vote view does (residents are bulk
   inserted first, with no password);
3. bulk-inserts the remaining ballots (``--ballots`` in total) with SQLAlchemy Core
   ``insert(Ballot)`` in batches of 10,000 rows: random approval ballots of 1 to 5 projects
   with a skewed popularity (seeded), each keyed by the SHA-256 of a fresh receipt, exactly
   the row ``cast_ballot`` writes; the participation rows are not written for these;
4. closes the vote and runs ``count_envelope`` end to end (grouped read from the database,
   parse, both rules: the campaign's and the other one for the comparison, canonical JSON,
   digests, one CountRun row) in a FRESH process, which reports its wall time, CPU time and
   peak memory (``ru_maxrss`` of that process, imports and app included; plus the
   ``tracemalloc`` peak of the count alone when ``--tracemalloc`` is given, which slows
   Python code down).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _app():
    from civic import create_app

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.gettempdir()}/civic-bench-vote.db"
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://")
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                       "SERVER_NAME": "localhost", "TESTING": True}), url


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(args: argparse.Namespace) -> dict:
    """Steps 1-3; returns the figures and the campaign id."""
    from sqlalchemy import insert, select

    from civic.accounts.models import User
    from civic.budgeting import services as budget
    from civic.budgeting.models import Campaign, Envelope, Proposal
    from civic.budgeting.states import DATED_PHASES, Phase
    from civic.extensions import db
    from civic.territory.models import Commune, Quartier
    from civic.timeutil import utcnow
    from civic.voting.ballots import ballot_lookup, format_choices, new_receipt
    from civic.voting.models import Ballot
    from civic.voting.services import cast_ballot

    out: dict = {}
    db.drop_all()
    db.create_all()
    commune = Commune(name="Benchville", insee_code="99999")
    db.session.add(commune)
    db.session.flush()
    q = Quartier(code="BEN-01", name="Bench", commune_id=commune.id, population=200_000,
                 is_priority=True)
    db.session.add(q)
    db.session.commit()
    now = utcnow()
    offsets = {Phase.INFORMATION: -28, Phase.SUBMISSION: -21, Phase.REVIEW: -14,
               Phase.VOTE: -1, Phase.RESULTS: 1, Phase.REALISATION: 60}
    data = budget.CampaignData(
        title="Bench", description="", total_cents=1_000_000_00, city_cents=1_000_000_00,
        quartier_cents={}, starts={p: now + timedelta(days=offsets[p]) for p in DATED_PHASES},
        max_choices=5, counting_rule=args.rule, require_residence=True)
    campaign = budget.save_campaign(None, None, data)
    author = User(display_name="Bench author", quartier_id=q.id, email="author@bench.invalid")
    db.session.add(author)
    db.session.flush()
    rng = random.Random(2026)
    for i in range(args.projects):
        db.session.add(Proposal(
            campaign_id=campaign.id, author_id=author.id, title=f"Projet {i + 1}",
            description="Bench.", quartier_id=None, status="selected",
            estimated_cost_cents=rng.randrange(20_000, 300_000) * 100,
            validated_cost_cents=rng.randrange(20_000, 300_000) * 100,
            answer_published_at=now, submitted_at=now))
    campaign.vote_opened_at = now
    db.session.commit()
    envelope = campaign.envelope_for(None)
    envelope_id = envelope.id
    campaign_id = campaign.id
    ids = [p.id for p in budget.votable_proposals(campaign)[envelope]]
    weights = [1 / (k + 1) ** 0.7 for k in range(len(ids))]

    def random_choices() -> dict[int, int]:
        k = rng.randint(1, min(5, len(ids)))
        picked: set[int] = set()
        while len(picked) < k:
            picked.add(rng.choices(ids, weights)[0])
        return dict.fromkeys(picked, 1)

    # Residents for the service-layer casting.
    t = time.perf_counter()
    rows = [{"email": f"v{n}@bench.invalid", "display_name": f"V{n}", "quartier_id": q.id,
             "birth_year": 1950 + n % 50, "created_at": now, "session_epoch": 0,
             "email_confirmed_at": now} for n in range(args.cast)]
    for start in range(0, len(rows), 10_000):
        db.session.execute(insert(User), rows[start:start + 10_000])
    db.session.commit()
    out["residents_insert_s"] = round(time.perf_counter() - t, 2)
    users = db.session.execute(select(User.id).where(
        User.email.like("v%@bench.invalid"))).scalars().all()
    db.session.remove()
    t = time.perf_counter()
    for uid in users:
        # As a request does: a fresh session, the voter and the envelope read by id.
        cast_ballot(db.session.get(User, uid), db.session.get(Envelope, envelope_id),
                    random_choices())
        db.session.commit()
        db.session.remove()
    cast_s = time.perf_counter() - t
    out["cast"] = len(users)
    out["cast_s"] = round(cast_s, 2)
    out["cast_per_s"] = round(len(users) / cast_s, 1) if cast_s else None
    out["cast_100k_extrapolated_s"] = round(cast_s / max(1, len(users)) * 100_000, 1)
    db.session.expunge_all()

    t = time.perf_counter()
    remaining = max(0, args.ballots - len(users))
    batch = []
    for _ in range(remaining):
        batch.append({"lookup": ballot_lookup(new_receipt()), "envelope_id": envelope_id,
                      "choices": format_choices(random_choices()), "source": "import"})
        if len(batch) == 10_000:
            db.session.execute(insert(Ballot), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Ballot), batch)
    db.session.commit()
    out["bulk_inserted"] = remaining
    out["bulk_insert_s"] = round(time.perf_counter() - t, 2)
    # Close the vote: the results phase starts now.
    campaign = db.session.get(Campaign, out.setdefault("campaign_id", campaign_id))
    campaign.results_starts_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    out["envelope_id"] = envelope_id
    return out


def count_only(campaign_id: int, envelope_id: int, trace: bool) -> dict:
    """Step 4, in its own process."""
    import tracemalloc

    from civic.budgeting.models import Campaign, Envelope
    from civic.extensions import db
    from civic.voting.count import count_envelope

    campaign = db.session.get(Campaign, campaign_id)
    envelope = db.session.get(Envelope, envelope_id)
    before = _rss_mb()
    if trace:
        tracemalloc.start()
    cpu = time.process_time()
    t = time.perf_counter()
    run = count_envelope(campaign, envelope, None)
    db.session.commit()
    wall = time.perf_counter() - t
    cpu = time.process_time() - cpu
    out = {"count_wall_s": round(wall, 2), "count_cpu_s": round(cpu, 2),
           "rss_before_count_mb": round(before, 1), "peak_rss_mb": round(_rss_mb(), 1),
           "ballots": run.ballots_count,
           "distinct_ballots": None,
           "winners": len(json.loads(run.output_json)["winners"]),
           "output_digest": run.output_digest[:16]}
    if trace:
        out["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    from civic.voting.count import ballot_groups

    out["distinct_ballots"] = len(ballot_groups(envelope))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ballots", type=int, default=100_000)
    ap.add_argument("--cast", type=int, default=10_000)
    ap.add_argument("--projects", type=int, default=20)
    ap.add_argument("--rule", choices=("greedy", "mes"), default="mes")
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--count-only", nargs=2, type=int, metavar=("CAMPAIGN", "ENVELOPE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    app, url = _app()
    with app.app_context():
        if args.count_only:
            print(json.dumps(count_only(*args.count_only, args.tracemalloc)))
            return 0
        print(f"database: {url.split('@')[-1]}", flush=True)
        figures = setup(args)
    print(json.dumps(figures, indent=1), flush=True)
    for trace in (False, True) if args.tracemalloc else (False,):
        cmd = [sys.executable, __file__, "--count-only", str(figures["campaign_id"]),
               str(figures["envelope_id"])] + (["--tracemalloc"] if trace else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=False,  # noqa: S603
                              env=os.environ.copy())
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        print(done.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
