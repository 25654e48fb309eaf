"""What the results pages show: per-envelope figures, turnout with small-cell suppression,
the chained ballot list and the receipt check. Read-only; no Flask request here."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Text, cast, func, literal_column, select

from civic.accounts.models import User
from civic.bienveilleurs.services import Cell, suppress_table
from civic.budgeting.models import Campaign, Envelope, Proposal
from civic.extensions import db
from civic.forms import digits
from civic.territory.models import Quartier
from civic.timeutil import utcnow
from civic.voting.ballots import ballot_lookup, chain, normalise_receipt, parse_choices
from civic.voting.count import (
    MIN_PUBLISHED,
    OTHER_RULE,
    RULE_TITLES,
    chain_head_now,
    latest_run,
    published_entries,
    published_run,
    reason_text,
)
from civic.voting.models import Ballot, BallotWrites, CountRun, VoteParticipation

AGE_BANDS = (("u18", _l("under 18"), None, 17), ("18-24", _l("18 to 24"), 18, 24),
             ("25-34", _l("25 to 34"), 25, 34), ("35-49", _l("35 to 49"), 35, 49),
             ("50-64", _l("50 to 64"), 50, 64), ("65+", _l("65 and over"), 65, None),
             ("unknown", _l("not given"), None, None))
GENDERS = (("female", _l("Women")), ("male", _l("Men")), ("other", _l("Other")),
           ("unknown", _l("Not given")))


@dataclass
class ProjectLine:
    """One project of an envelope's results."""

    proposal: Proposal | None
    pid: str
    figures: dict[str, Any]
    other_funded: bool
    explanation: str
    bar: int = 0  # bar length in the chart, 0..340

    @property
    def funded(self) -> bool:
        """Funded by the campaign's rule."""
        return bool(self.figures["funded"])


@dataclass
class EnvelopeResults:
    """What the results page shows for one envelope."""

    envelope: Envelope
    run: CountRun
    document: dict[str, Any]
    lines: list[ProjectLine]
    winners: list[ProjectLine]
    comparison: list[dict[str, Any]]
    differences: list[ProjectLine]
    chain_now: str | None = None  # recomputed final hash (published runs)
    checked_at: datetime | None = None  # when chain_now was computed
    rule_title: str = ""
    other_title: str = ""

    @property
    def tampered(self) -> bool:
        """The ballot list no longer hashes to the head kept at publication."""
        return bool(self.run.published_at) and self.chain_now != self.run.chain_head

    @property
    def points(self) -> bool:
        """Cumulative ballots: the figures are points."""
        return self.document.get("vote_type") == "cumulative"


def envelope_name(envelope: Envelope) -> str:
    """The envelope's name for residents."""
    return envelope.quartier.name if envelope.quartier else _("Whole city")


def explanation(figures: dict[str, Any]) -> str:
    """Why a project was or was not funded, with the numbers behind it."""
    from civic.budgeting.services import euros

    text = reason_text(figures)
    reason = figures.get("reason")
    if reason == "funded_mes" and figures.get("price_per_supporter_cents") is not None:
        text += " " + _("%(num)d supporters paid %(price)s each.", num=figures["full_payers"],
                        price=euros(figures["price_per_supporter_cents"]))
        if figures.get("partial_payers"):
            text += " " + _("%(num)d paid what they had left (%(total)s in all).",
                            num=figures["partial_payers"],
                            total=euros(figures["partial_paid_cents"] or 0))
    elif reason == "did_not_fit" and figures.get("money_left_cents") is not None:
        text += " " + _("%(left)s were left; it costs %(cost)s.",
                        left=euros(figures["money_left_cents"]), cost=euros(figures["cost_cents"]))
    elif reason == "supporters_could_not_afford" and figures.get(
            "supporters_money_cents") is not None:
        text += " " + _("Its supporters had %(left)s left; it costs %(cost)s.",
                        left=euros(figures["supporters_money_cents"]),
                        cost=euros(figures["cost_cents"]))
    return text


def envelope_results(run: CountRun, *, check_chain: bool = True,
                     fingerprint: str | None = None) -> EnvelopeResults:
    """Read a count run back into what the page shows."""
    document = json.loads(run.output_json)
    ids = [int(pid) for pid in document["projects"] if digits(pid)]
    proposals = {str(p.id): p for p in db.session.execute(
        select(Proposal).where(Proposal.id.in_(ids))).scalars()} if ids else {}
    other = document["other"]["projects"]
    top = max([f["score"] for f in document["projects"].values()] + [1])
    lines = []
    for pid, figures in document["projects"].items():
        lines.append(ProjectLine(proposals.get(pid), pid, figures,
                                 bool(other.get(pid, {}).get("funded")), explanation(figures),
                                 bar=round(340 * figures["score"] / top)))
    order = {pid: i for i, pid in enumerate(document["winners"])}
    lines.sort(key=lambda ln: (not ln.funded, order.get(ln.pid, 0), -ln.figures["score"],
                               ln.figures["cost_cents"], ln.pid))
    labels = document.get("comparison_labels", {})
    comparison = []
    for key, rule in (("main", document["rule"]), ("other", document["other"]["rule"])):
        side = document["comparison"].get(labels.get(key, ""), {})
        comparison.append({"rule": rule, "title": str(RULE_TITLES.get(rule, rule)),
                           "projects": side.get("projects", 0),
                           "total_cost_cents": (document["total_cost_cents"] if key == "main"
                                                else document["other"]["total_cost_cents"]),
                           "voters": side.get("voters", 0),
                           "satisfied": side.get("voters_with_a_funded_choice", 0),
                           "share": round(100 * side.get("share", 0), 1)})
    result = EnvelopeResults(
        envelope=run.envelope, run=run, document=document, lines=lines,
        winners=[ln for ln in lines if ln.funded], comparison=comparison,
        differences=[ln for ln in lines if ln.funded != ln.other_funded],
        rule_title=str(RULE_TITLES.get(document["rule"], document["rule"])),
        other_title=str(RULE_TITLES.get(OTHER_RULE[document["rule"]], "")))
    if run.published_at is not None and check_chain:
        result.chain_now, result.checked_at = checked_chain_head(run, fingerprint)
    return result


# ---------------------------------------------------------------- the chain check
#
# Re-chaining the published list reads and hashes every ballot (0.4-1 s for 100,000): the
# results page must not do it on every view, nor in every worker. A check is kept, per
# process and in a small file shared by the workers (CIVIC_CHAIN_CHECK_FILE, in instance/),
# together with a fingerprint of the envelope's ballot rows that the database gives cheaply
# (one grouped query over the envelope index for the whole campaign). It is reused while the
# fingerprint is unchanged:
# - PostgreSQL: count and sum of xmin. Every inserted or updated row version carries the id
#   of the transaction that wrote it, newer than every row it replaces, so any INSERT, UPDATE
#   or DELETE changes the pair: the list is re-chained exactly when the table changed.
# - SQLite: count of the rows and the envelope's write counter, which triggers raise on
#   every INSERT, UPDATE or DELETE of a ballot (voting.models.BallotWrites).
# Either way a tampered list is caught at the next view of the results (once the visitors'
# page cache has expired), and a check is kept as long as its fingerprint holds.
# CIVIC_CHAIN_CHECK_SECONDS = 0 re-chains on every view (any other value: the default).

_CHECKED: dict[tuple[int, int, str], tuple[float, str, str, datetime]] = {}
_SHARED_MAX = 2000  # entries kept in the shared file


def ballot_fingerprints(envelope_ids: list[int]) -> dict[int, str]:
    """A cheap summary of each envelope's ballot rows that changes when they are written
    (see above); "" for an envelope without ballots."""
    if not envelope_ids:
        return {}
    query = select(Ballot.envelope_id, func.count())
    if db.session.get_bind().dialect.name == "postgresql":
        version = cast(cast(literal_column("ballot.xmin"), Text), BigInteger)
        query = query.add_columns(func.sum(version))
    else:
        query = query.add_columns(func.max(BallotWrites.writes)).outerjoin(
            BallotWrites, BallotWrites.envelope_id == Ballot.envelope_id)
    rows = db.session.execute(query.where(Ballot.envelope_id.in_(envelope_ids))
                              .group_by(Ballot.envelope_id)).all()
    found = {row[0]: ":".join(str(v) for v in row[1:]) for row in rows}
    return {eid: found.get(eid, "") for eid in envelope_ids}


def _shared_file() -> Path:
    return Path(current_app.config.get("CIVIC_CHAIN_CHECK_FILE")
                or Path(current_app.instance_path) / "chain-checks.json")


def _shared_key(key: tuple[int, int, str]) -> str:
    # The database too: tests, the benchmark and the site may share instance/.
    database = hashlib.sha256(str(db.session.get_bind().url).encode()).hexdigest()[:16]
    return f"{database}:{key[0]}:{key[1]}:{key[2]}"


def _shared_read(key: tuple[int, int, str]) -> tuple[float, str, str, datetime] | None:
    try:
        entry = json.loads(_shared_file().read_text())[_shared_key(key)]
        return (float(entry["t"]), str(entry["fingerprint"]), str(entry["head_now"]),
                datetime.fromisoformat(entry["checked_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _shared_write(key: tuple[int, int, str], entry: tuple[float, str, str, datetime]) -> None:
    path = _shared_file()
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[_shared_key(key)] = {"t": entry[0], "fingerprint": entry[1], "head_now": entry[2],
                              "checked_at": entry[3].isoformat()}
    if len(data) > _SHARED_MAX:
        newest = sorted(data.items(), key=lambda kv: kv[1].get("t", 0))[-_SHARED_MAX:]
        data = dict(newest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:  # a read-only instance folder: each process keeps its own
        current_app.logger.warning("chain check not shared: cannot write %s", path)


def checked_chain_head(run: CountRun, fingerprint: str | None = None) -> tuple[str, datetime]:
    """The published list's final hash recomputed from the database, and when; reused while
    the ballot rows' fingerprint is unchanged (see above)."""
    ttl = float(current_app.config.get("CIVIC_CHAIN_CHECK_SECONDS", 300))
    if fingerprint is None:
        fingerprint = ballot_fingerprints([run.envelope_id])[run.envelope_id]
    key = (run.envelope_id, run.id, run.chain_head)
    now = time.time()

    def usable(entry: tuple[float, str, str, datetime] | None) -> bool:
        return entry is not None and ttl > 0 and entry[1] == fingerprint

    cached = _CHECKED.get(key)
    if not usable(cached):
        cached = _shared_read(key)
        if not usable(cached):
            cached = (now, fingerprint, chain_head_now(run.envelope), utcnow())
            _shared_write(key, cached)
        _CHECKED[key] = cached
    return cached[2], cached[3]


def verify_published(campaign: Campaign) -> None:
    """Re-chain every published list of the campaign now and keep the checks (after the
    publication: the first visitors then read the results without waiting for it)."""
    ttl = current_app.config.get("CIVIC_CHAIN_CHECK_SECONDS", 300)
    runs = [run for run in (published_run(e) for e in campaign.envelopes) if run is not None]
    prints = ballot_fingerprints([run.envelope_id for run in runs])
    for run in runs:
        key = (run.envelope_id, run.id, run.chain_head)
        entry = (time.time(), prints[run.envelope_id], chain_head_now(run.envelope), utcnow())
        _CHECKED[key] = entry
        if float(ttl) > 0:
            _shared_write(key, entry)


def campaign_results(campaign: Campaign, *, preview: bool) -> list[EnvelopeResults]:
    """Per envelope: the published run (or, in preview, the latest one)."""
    runs = [latest_run(e) if preview else published_run(e) for e in campaign.envelopes]
    runs = [run for run in runs if run is not None]
    prints = ballot_fingerprints([run.envelope_id for run in runs
                                  if run.published_at is not None])
    return [envelope_results(run, fingerprint=prints.get(run.envelope_id)) for run in runs]


def runs_of(campaign: Campaign) -> list[CountRun]:
    """Every count of the campaign, newest first (the coordinator's history)."""
    return list(db.session.execute(
        select(CountRun).where(CountRun.campaign_id == campaign.id)
        .order_by(CountRun.id.desc())).scalars())


# ---------------------------------------------------------------- turnout

@dataclass
class Turnout:
    """Who took part (never what they chose): per quartier, by age band and by gender."""

    voters: int
    quartiers: list[tuple[str, int, int | None, float | None]]  # name, n, population, %
    elsewhere: int  # participants without a quartier on their profile
    by_age: dict[str, Cell] = field(default_factory=dict)
    by_gender: dict[str, Cell] = field(default_factory=dict)
    age_bands: tuple = AGE_BANDS
    genders: tuple = GENDERS


def _band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for key, _label, lo, hi in AGE_BANDS[:-1]:
        if (lo is None or age >= lo) and (hi is None or age <= hi):
            return key
    return "unknown"  # pragma: no cover - the bands cover every age


def turnout(campaign: Campaign) -> Turnout:
    """Distinct people who voted in at least one envelope of the campaign."""
    # Grouped in the database: a few thousand (quartier, year, gender) rows, not one row
    # per voter (50,000 voters took 0.3 s per view to read and bin in Python).
    voters = (select(VoteParticipation.user_id)
              .where(VoteParticipation.campaign_id == campaign.id).distinct().subquery())
    rows = db.session.execute(
        select(User.quartier_id, User.birth_year, User.gender, func.count())
        .join(voters, voters.c.user_id == User.id)
        .group_by(User.quartier_id, User.birth_year, User.gender)).all()
    year = campaign.vote_starts_at.year
    per_quartier: Counter = Counter()
    ages: Counter = Counter()
    genders: Counter = Counter()
    total = 0
    for qid, birth, gender, n in rows:
        total += n
        per_quartier[qid] += n
        ages[_band(year - birth if birth else None)] += n
        genders[gender if gender in ("female", "male", "other") else "unknown"] += n
    quartiers = []
    for q in db.session.execute(select(Quartier).order_by(Quartier.name)).scalars():
        n = per_quartier.get(q.id, 0)
        share = round(100 * n / q.population, 1) if q.population else None
        quartiers.append((q.name, n, q.population, share))
    by_age = suppress_table({"all": dict(ages)}, [k for k, *_ in AGE_BANDS])["all"]
    by_gender = suppress_table({"all": dict(genders)}, [k for k, _ in GENDERS])["all"]
    return Turnout(voters=total, quartiers=quartiers, elsewhere=per_quartier.get(None, 0),
                   by_age=by_age, by_gender=by_gender)


# ---------------------------------------------------------------- published ballots

@dataclass
class BallotPage:
    """A page of an envelope's published ballot list."""

    entries: list[tuple[int, str, str, str]]  # position, lookup, choices, chain link
    total: int
    withheld: bool
    head: str


def ballot_page(run: CountRun, page: int, per_page: int = 100) -> BallotPage:
    """Entries of the published list (ordered by lookup) with their chain links."""
    entries = published_entries(run.envelope)
    if len(entries) < MIN_PUBLISHED:
        return BallotPage([], len(entries), True, run.chain_head)
    links = chain(entries[: page * per_page])
    start = (page - 1) * per_page
    rows = [(start + i + 1, lookup, choices, links[start + i])
            for i, (lookup, choices) in enumerate(entries[start:page * per_page])]
    return BallotPage(rows, len(entries), False, run.chain_head)


@dataclass
class ReceiptCheck:
    """The answer of the "check my ballot" page."""

    found: bool
    envelope: Envelope | None = None
    choices: list[Proposal] = field(default_factory=list)
    points: dict[int, int] = field(default_factory=dict)
    lookup: str = ""


class BadReceipt(ValueError):
    """Not a receipt code at all."""


def check_receipt(campaign: Campaign, receipt: str) -> ReceiptCheck:
    """Is a ballot with this receipt in the campaign's published lists? Only envelopes
    whose results are published (and whose list is not withheld) are searched."""
    code = normalise_receipt(receipt)
    if code is None:
        raise BadReceipt(receipt)
    lookup = ballot_lookup(code)
    ballot = db.session.get(Ballot, lookup)
    if ballot is None:
        return ReceiptCheck(False, lookup=lookup)
    envelope = db.session.get(Envelope, ballot.envelope_id)
    if envelope is None or envelope.campaign_id != campaign.id or \
            published_run(envelope) is None:
        return ReceiptCheck(False, lookup=lookup)
    points = parse_choices(ballot.choices)
    proposals = list(db.session.execute(
        select(Proposal).where(Proposal.id.in_(list(points))).order_by(Proposal.id)
    ).scalars()) if points else []
    return ReceiptCheck(True, envelope, proposals, points, lookup)
