"""Bulk loader for benchmarks: a demo city at realistic size, fast.

Residents are inserted in batches with ONE precomputed password hash (hashing 50,000 passwords
one by one with scrypt would take about an hour). Usage:
    DATABASE_URL=... python bench/bulk_load.py --residents 50000 --quartiers 20
    DATABASE_URL=... python bench/bulk_load.py --residents 50000 --vote --reserve 10000
The database must be migrated first (flask db upgrade). Never run inside CI.

With ``--vote`` it also loads the participatory budget at the size of issue #8:

- an OPEN campaign (vote phase) with a city-wide envelope and one per quartier, ``--proposals``
  projects spread over the envelopes (selected, validated cost, published answer: what
  ``votable_proposals`` and the ballot take), and two ballots per voting resident (the
  city-wide envelope and their quartier's): VoteParticipation + Ballot rows inserted in bulk
  with SQLAlchemy Core, each pair keyed exactly as ``cast_ballot`` keys it (receipt check and
  lookup from a fresh receipt). The service layer's cast is measured separately, one ballot
  per commit, in bench/vote_count.py; bench/load.py measures it over HTTP.
- ``--reserve`` more residents who have NOT voted: bench/load.py's ballot submissions.
- a CLOSED campaign (results phase) of the same shape with ``--closed-proposals`` projects and
  the same two ballots per voting resident, counted (``count_campaign``) and published
  (``publish_results``) through the services, so its results page exists.

``--vote-lines FILE`` (after loading) writes one ballot submission per line for the reserve
residents: ``session cookie<TAB>confirm path<TAB>form body``; the cookie is a Flask session
signed with the app's secret key holding what flask-login (``login_user``) and flask-wtf
(``generate_csrf``) store, made by those very functions in a request context.
``--check-votes`` prints the open campaign's ballots and participations (they must be equal).
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from civic import create_app  # noqa: E402
from civic.accounts.models import User  # noqa: E402
from civic.accounts.services import hash_password  # noqa: E402
from civic.budgeting.models import Campaign, Envelope, Proposal  # noqa: E402
from civic.extensions import db  # noqa: E402
from civic.territory.models import Commune, Quartier  # noqa: E402
from civic.timeutil import utcnow  # noqa: E402
from civic.voting.ballots import ballot_lookup, new_receipt, receipt_check  # noqa: E402
from civic.voting.models import Ballot, VoteParticipation  # noqa: E402

OPEN_TITLE = "Bench: budget participatif (vote ouvert)"
CLOSED_TITLE = "Bench: budget participatif (résultats)"

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


def _bench_users(first: int, last: int) -> list[tuple[int, int]]:
    """(user id, quartier id) of residents bench{first}..bench{last - 1}, in that order."""
    rows = db.session.execute(
        select(User.email, User.id, User.quartier_id).where(User.email.like("bench%"))).all()
    by_n = {int(email[5:].split("@")[0]): (uid, qid) for email, uid, qid in rows}
    return [by_n[n] for n in range(first, last)]


def _campaign(title: str, quartier_ids: list[int], proposals: int, author_id: int, *,
              closed: bool, rng: random.Random) -> tuple[Campaign, dict, dict]:
    """A campaign in its vote phase (or closed: results phase) with its envelopes and
    ``proposals`` votable projects spread over them; returns it, {quartier id or None:
    envelope}, {envelope id: [proposal ids]}."""
    now = utcnow()
    day = timedelta(days=1)
    # Vote phase now (open), or the vote closed yesterday (closed).
    vote_start = now - (20 * day if closed else day)
    results_start = now - day if closed else now + 30 * day
    campaign = Campaign(
        title=title, description="Benchmark campaign.", total_cents=len(quartier_ids) * 10**7
        + 5 * 10**7, require_residence=True, ballot_format="approval", max_choices=5,
        counting_rule="greedy", information_starts_at=vote_start - 90 * day,
        submission_starts_at=vote_start - 60 * day, review_starts_at=vote_start - 30 * day,
        vote_starts_at=vote_start, results_starts_at=results_start,
        realisation_starts_at=results_start + 60 * day, vote_opened_at=vote_start)
    db.session.add(campaign)
    db.session.flush()
    envelopes = {None: Envelope(campaign_id=campaign.id, quartier_id=None,
                                amount_cents=5 * 10**7)}
    for qid in quartier_ids:
        envelopes[qid] = Envelope(campaign_id=campaign.id, quartier_id=qid,
                                  amount_cents=10**7)
    db.session.add_all(envelopes.values())
    db.session.flush()
    areas = [None, *quartier_ids]
    rows = []
    for n in range(proposals):
        cost = rng.randrange(20, 400) * 10**5  # 2,000 € to 40,000 €
        rows.append({
            "campaign_id": campaign.id, "author_id": author_id,
            "title": f"Projet {n}: aménagement", "description": "Un projet de banc. " * 20,
            "quartier_id": areas[n % len(areas)], "estimated_cost_cents": cost,
            "address": "", "rules_accepted_at": now, "status": "selected",
            "answer_public": "Faisable : chiffré par les services.",
            "validated_cost_cents": cost, "duration_weeks": 8,
            "answer_published_at": now - 40 * day, "created_at": now - 70 * day,
            "submitted_at": now - 70 * day, "updated_at": now - 40 * day})
    for i in range(0, len(rows), 1000):
        db.session.execute(insert(Proposal), rows[i:i + 1000])
    options: dict[int, list[int]] = {e.id: [] for e in envelopes.values()}
    for pid, qid in db.session.execute(select(Proposal.id, Proposal.quartier_id).where(
            Proposal.campaign_id == campaign.id).order_by(Proposal.id)):
        options[envelopes[qid].id].append(pid)
    return campaign, envelopes, options


def _ballots(campaign: Campaign, envelopes: dict, options: dict,
             voters: list[tuple[int, int]], rng: random.Random) -> int:
    """Two ballots per voter (city-wide and their quartier), as cast_ballot writes them."""
    now = utcnow()
    parts, ballots, written = [], [], 0

    def flush() -> None:
        db.session.execute(insert(VoteParticipation), parts)
        db.session.execute(insert(Ballot), ballots)
        parts.clear()
        ballots.clear()

    for uid, qid in voters:
        for envelope in (envelopes[None], envelopes[qid]):
            pool = options[envelope.id]
            # Skewed popularity: the first projects of each envelope are chosen more often.
            picks = sorted({pool[min(int(rng.expovariate(1 / 6)), len(pool) - 1)]
                            for _ in range(rng.randint(1, 5))})
            receipt = new_receipt()
            parts.append({"campaign_id": campaign.id, "envelope_id": envelope.id,
                          "user_id": uid, "channel": "online", "at": now,
                          "receipt_check": receipt_check(uid, receipt)})
            ballots.append({"lookup": ballot_lookup(receipt), "envelope_id": envelope.id,
                            "choices": ",".join(map(str, picks)), "source": "online"})
            written += 1
        if len(parts) >= 10_000:
            flush()
    if parts:
        flush()
    return written


def load_vote(residents: int, reserve: int, proposals: int, closed_proposals: int,
              seed: int = 8) -> dict[str, float]:
    """The open and the closed campaign (see the module docstring); returns timings."""
    from civic.voting.count import count_campaign, publish_results
    from civic.voting.results import verify_published

    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data, not secrets
    t0 = time.perf_counter()
    commune = db.session.execute(select(Commune).where(Commune.name == "Benchville")).scalar()
    qids = list(db.session.execute(select(Quartier.id).where(
        Quartier.commune_id == commune.id).order_by(Quartier.id)).scalars())
    voters = _bench_users(0, residents)
    author_id = voters[0][0]
    out: dict[str, float] = {}
    campaign, envelopes, options = _campaign(OPEN_TITLE, qids, proposals, author_id,
                                             closed=False, rng=rng)
    out["open_campaign"] = campaign.id
    out["ballots"] = _ballots(campaign, envelopes, options, voters, rng)
    db.session.commit()
    out["open_seconds"] = round(time.perf_counter() - t0, 1)
    t1 = time.perf_counter()
    closed, envelopes, options = _campaign(CLOSED_TITLE, qids, closed_proposals, author_id,
                                           closed=True, rng=rng)
    out["closed_campaign"] = closed.id
    out["closed_ballots"] = _ballots(closed, envelopes, options, voters, rng)
    db.session.commit()
    out["closed_load_seconds"] = round(time.perf_counter() - t1, 1)
    t2 = time.perf_counter()
    count_campaign(closed, None)
    db.session.commit()
    out["count_seconds"] = round(time.perf_counter() - t2, 1)
    t3 = time.perf_counter()
    publish_results(closed, db.session.get(User, author_id))
    db.session.commit()
    verify_published(closed)  # as the publish view does: the list is chained once, shared
    out["publish_seconds"] = round(time.perf_counter() - t3, 1)
    out["reserve"] = reserve
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def vote_lines(app, residents: int, reserve: int, path: str) -> int:  # noqa: ANN001
    """One ballot submission per line for each reserve resident and each of their two
    envelopes of the open campaign: cookie, confirm path, form body (tab-separated)."""
    from urllib.parse import urlencode

    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    campaign = db.session.execute(select(Campaign).where(Campaign.title == OPEN_TITLE)
                                  ).scalar_one()
    envelopes = {e.quartier_id: e.id for e in campaign.envelopes}
    first_option: dict[int, int] = {}  # a valid one-project ballot per envelope
    for pid, qid in db.session.execute(select(Proposal.id, Proposal.quartier_id).where(
            Proposal.campaign_id == campaign.id).order_by(Proposal.id.desc())):
        first_option[envelopes[qid]] = pid
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    reserve_users = _bench_users(residents, residents + reserve)
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_([uid for uid, _q in reserve_users]))).scalars()}
    written = 0
    with open(path, "w") as out:
        for uid, qid in reserve_users:
            # The identifier flask-login's session protection compares (loopback, wrk sends
            # no User-Agent).
            with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
                login_user(users[uid])
                # generate_csrf caches the token on g, which lives in the (outer) app
                # context: without this, every voter after the first would get none.
                g.pop("csrf_token", None)
                token = generate_csrf()
                cookie = serializer.dumps(dict(session))
            for envelope_id in (envelopes[None], envelopes[qid]):
                body = urlencode({"csrf_token": token, "choices": str(first_option[envelope_id]),
                                  "token": secrets.token_urlsafe(16), "receipt": ""})
                out.write(f"{cookie_name}={cookie}\t"
                          f"/budget-participatif/vote/{envelope_id}/confirmer\t{body}\n")
                written += 1
    return written


def check_votes() -> dict[str, int]:
    """Ballots and participations of the open campaign (equal when nothing went wrong)."""
    campaign = db.session.execute(select(Campaign).where(Campaign.title == OPEN_TITLE)
                                  ).scalar_one()
    ids = [e.id for e in campaign.envelopes]
    return {
        "ballots": db.session.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.envelope_id.in_(ids))),
        "participations": db.session.scalar(select(func.count()).select_from(
            VoteParticipation).where(VoteParticipation.campaign_id == campaign.id)),
        "open_campaign": campaign.id,
        "closed_campaign": db.session.execute(select(Campaign.id).where(
            Campaign.title == CLOSED_TITLE)).scalar_one(),
        # A quartier and one of its projects in the open campaign, for the pages measured.
        "quartier_id": db.session.scalar(select(Quartier.id).where(Quartier.code == "BEN-03")),
        "proposal_id": db.session.scalar(select(func.min(Proposal.id)).join(
            Quartier, Quartier.id == Proposal.quartier_id).where(
            Proposal.campaign_id == campaign.id, Quartier.code == "BEN-03")),
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--quartiers", type=int, default=20)
    parser.add_argument("--vote", action="store_true", help="load the two campaigns too")
    parser.add_argument("--reserve", type=int, default=10_000,
                        help="residents beyond --residents who have not voted")
    parser.add_argument("--proposals", type=int, default=2_000)
    parser.add_argument("--closed-proposals", type=int, default=210)
    parser.add_argument("--vote-lines", metavar="FILE", help="write the ballot submissions")
    parser.add_argument("--check-votes", action="store_true")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        if args.vote_lines:
            print(json.dumps({"lines": vote_lines(app, args.residents, args.reserve,
                                                  args.vote_lines)}))
        elif args.check_votes:
            print(json.dumps(check_votes()))
        else:
            total = args.residents + (args.reserve if args.vote else 0)
            print(load(total, args.quartiers))
            if args.vote:
                print(load_vote(args.residents, args.reserve, args.proposals,
                                args.closed_proposals))


if __name__ == "__main__":
    main()
