"""Pabulib .pb files in and out of the database: import a real election as a closed
campaign, export a campaign's envelope, and count a campaign the way
``python -m civic.counting`` counts a file.

An imported campaign keeps what the engine needs to give the same result as on the file:
the file's project ids (first line of each proposal's description, ``Pabulib project_id:
…``) and its META block (the campaign's description, after ``Pabulib META:``), both shown
publicly as the campaign's provenance. Voter attributes (age, sex, district…) are NOT
imported: ballots stay anonymous. Ordinal ballots are stored as the points the engine gives
them (L, L-1, … with L = max_length), i.e. as a cumulative ballot: every rule counts them
the same way, and an export writes them as cumulative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from civic.accounts.models import User
from civic.audit import audit
from civic.budgeting.models import Campaign, Envelope, Proposal, ProposalEvent
from civic.budgeting.services import BudgetError
from civic.budgeting.states import DATED_PHASES, Phase, ProposalStatus
from civic.counting.engine import ordinal_points
from civic.counting.model import Ballot as CBallot
from civic.counting.model import CountingError, Instance, PabulibError, Profile, Project
from civic.counting.pabulib import format_pabulib, parse_pabulib
from civic.extensions import db
from civic.timeutil import utcnow
from civic.voting.ballots import ballot_lookup, format_choices, new_receipt
from civic.voting.count import ballot_proposals, build_election, published_run
from civic.voting.models import Ballot

IMPORT_EMAIL = "import-pabulib@civic.invalid"  # .invalid: can never receive mail
META_MARK = "Pabulib META:"
ID_MARK = "Pabulib project_id: "
MAX_FILE_BYTES = 64 * 1024 * 1024


class ImportError_(BudgetError):  # noqa: N801 - not the builtin ImportError
    """A .pb file that cannot be imported (message names the line)."""


def import_account() -> User:
    """The system account that authors imported projects (cannot log in: no password)."""
    user = db.session.execute(select(User).where(User.email == IMPORT_EMAIL)).scalar_one_or_none()
    if user is None:
        user = User(email=IMPORT_EMAIL, display_name="Import Pabulib",
                    email_confirmed_at=utcnow())
        db.session.add(user)
        db.session.flush()
    return user


@dataclass(frozen=True)
class Imported:
    """What an import created."""

    campaign: Campaign
    projects: int
    ballots: int


def _points_of(instance: Instance, profile: Profile) -> list[tuple[int, ...] | None]:
    if profile.vote_type == "ordinal":
        return list(ordinal_points(profile, instance))
    if profile.vote_type in ("cumulative", "scoring"):
        return [b.points for b in profile.ballots]
    return [None] * len(profile.ballots)


def read_file(path: str | Path) -> tuple[Instance, Profile]:
    """Read a .pb file (PabulibError says which line is wrong)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ImportError_(_("Cannot read %(path)s: %(reason)s", path=str(path),
                             reason=exc.strerror or str(exc))) from None
    if size > MAX_FILE_BYTES:
        raise ImportError_(_("This file is too large to import (more than 64 MB)."))
    data = p.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportError_(_("Line %(line)d: the file is not valid UTF-8.", line=line)) from None
    try:
        return parse_pabulib(text)
    except PabulibError as exc:
        if exc.line is not None:
            raise ImportError_(_("Line %(line)d: %(reason)s", line=exc.line,
                                 reason=exc.reason)) from None
        raise ImportError_(_("Malformed .pb file: %(reason)s", reason=exc.reason)) from None


def import_pabulib(path: str | Path, actor: User | None = None) -> Imported:
    """Create a closed campaign (in its results phase) from a Pabulib file: one city-wide
    envelope with the file's budget, its projects as feasible proposals with a validated
    cost, its ballots as anonymous ballots (source "import"). Nothing is written unless
    everything is valid (the caller commits; on error, it rolls back)."""
    instance, profile = read_file(path)
    points = _points_of(instance, profile)
    for i, (ballot, pts) in enumerate(zip(profile.ballots, points, strict=True)):
        if pts is not None and any(v < 1 for v in pts):
            where = ballot.voter_id or str(i + 1)
            raise ImportError_(_("Voter %(voter)s gives 0 points to a project: such "
                                 "ballots cannot be stored.", voter=where))
    meta = instance.meta_dict
    now = utcnow()
    author = import_account()
    name = Path(path).name
    title = (meta.get("description") or meta.get("instance") or name).strip()[:160] or name
    rule_meta = meta.get("rule", "")
    campaign = Campaign(
        title=title,
        description=_describe(name, instance),
        total_cents=instance.budget, require_residence=False,
        ballot_format="approval" if profile.vote_type == "approval" else "cumulative",
        counting_rule="mes" if rule_meta.startswith(("equalshares", "mes")) else "greedy",
        created_by_id=actor.id if actor else author.id, vote_opened_at=now)
    campaign.max_choices = (min(100, max(1, int(meta.get("max_length") or 0)
                                         or len(instance.projects)))
                            if campaign.ballot_format == "approval" else None)
    if campaign.ballot_format == "cumulative":
        total = max((sum(p or ()) for p in points), default=1)
        campaign.points_total = int(meta.get("max_sum_points") or 0) or max(1, total)
        campaign.min_projects = 1
    # A calendar whose results phase began yesterday: the vote is closed.
    results_at = DATED_PHASES.index(Phase.RESULTS)
    for i, phase in enumerate(DATED_PHASES):
        start = now - timedelta(days=1 + 7 * (results_at - i)) if i <= results_at \
            else now + timedelta(days=365)
        setattr(campaign, f"{phase.value}_starts_at", start)
    envelope = Envelope(quartier_id=None, amount_cents=instance.budget)
    campaign.envelopes.append(envelope)
    db.session.add(campaign)
    db.session.flush()
    by_label: dict[str, int] = {}
    for project in instance.projects:
        proposal = Proposal(
            campaign_id=campaign.id, author_id=author.id,
            title=(project.get("name") or "").strip()[:140] or f"Project {project.id}",
            description=_project_text(project), quartier_id=None,
            estimated_cost_cents=project.cost, validated_cost_cents=project.cost,
            status=ProposalStatus.SELECTED.value, answer_public="",
            answer_published_at=now, submitted_at=now, created_at=now, updated_at=now)
        db.session.add(proposal)
        db.session.flush()
        db.session.add(ProposalEvent(proposal_id=proposal.id, from_status=None,
                                     to_status=ProposalStatus.SELECTED.value,
                                     note=f"Imported from {name}"))
        by_label[project.id] = proposal.id
    rows = []
    for ballot, pts in zip(profile.ballots, points, strict=True):
        ids = [by_label[x] for x in ballot.projects]
        choices = dict(zip(ids, pts, strict=True)) if pts is not None else dict.fromkeys(ids, 1)
        rows.append({"lookup": ballot_lookup(new_receipt()), "envelope_id": envelope.id,
                     "choices": format_choices(choices), "source": "import"})
    for start in range(0, len(rows), 5000):
        db.session.execute(Ballot.__table__.insert(), rows[start:start + 5000])
    audit(actor, "vote.pabulib_imported", None,
          f"campaign {campaign.id} from {name}: {len(instance.projects)} projects, "
          f"{len(rows)} ballots")
    return Imported(campaign, len(instance.projects), len(rows))


def _describe(name: str, instance: Instance) -> str:
    lines = [f"Imported from the Pabulib file {name} (pabulib.org).", "", META_MARK]
    lines += [f"{k}: {v}" for k, v in instance.meta]
    return "\n".join(lines)


def _project_text(project: Project) -> str:
    lines = [f"{ID_MARK}{project.id}"]
    lines += [f"{k}: {v}" for k, v in project.extra]
    return "\n".join(lines)


def file_meta(campaign: Campaign) -> list[tuple[str, str]]:
    """The META block an imported campaign came with ([] for the app's own campaigns)."""
    text = campaign.description or ""
    if META_MARK not in text or campaign.created_by_id is None:
        return []
    creator = db.session.get(User, campaign.created_by_id)
    if creator is None or creator.email != IMPORT_EMAIL:
        return []
    out = []
    for line in text.split(META_MARK, 1)[1].split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key.strip():
            out.append((key.strip(), value))
    return out


def labels(envelope: Envelope) -> dict[int, str]:
    """Proposal id -> the id the file gave it, for an imported campaign's projects."""
    out = {}
    for p in ballot_proposals(envelope):
        author = p.author
        first = (p.description or "").split("\n", 1)[0]
        if author is not None and author.email == IMPORT_EMAIL and first.startswith(ID_MARK):
            out[p.id] = first[len(ID_MARK):].strip()
    return out


def envelope_pabulib(envelope: Envelope, *, ballots_in_lookup_order: bool = True
                     ) -> tuple[Instance, Profile]:
    """The envelope as a Pabulib instance and profile: imported campaigns keep their file's
    ids and META; the app's campaigns get a META describing them. Ballots are written in
    the published order (by lookup), numbered from 1, without any voter attribute."""
    campaign = envelope.campaign
    names = labels(envelope)
    election = build_election(envelope, names)
    meta = file_meta(campaign)
    if not meta:
        meta = [("description", campaign.title),
                ("country", "France"),
                ("unit", envelope.quartier.commune.name if envelope.quartier else "")]
        if envelope.quartier is not None:
            meta.append(("subunit", envelope.quartier.name))
        meta += [("instance", str(campaign.vote_starts_at.year)),
                 ("rule", "equalshares/add1" if campaign.counting_rule == "mes" else "greedy"),
                 ("currency", "EUR"),
                 ("date_begin", campaign.vote_starts_at.strftime("%d.%m.%Y")),
                 ("date_end", campaign.results_starts_at.strftime("%d.%m.%Y"))]
        if campaign.ballot_format == "approval" and campaign.max_choices:
            meta.append(("max_length", str(campaign.max_choices)))
        if campaign.ballot_format == "cumulative" and campaign.points_total:
            meta.append(("max_sum_points", str(campaign.points_total)))
        if campaign.ballot_format == "knapsack":
            meta.append(("max_sum_cost", _units(envelope.amount_cents)))
    run = published_run(envelope)
    winners = set()
    if run is not None:
        import json

        winners = set(json.loads(run.output_json)["winners"])
    projects = []
    for p in election.instance.projects:
        proposal = election.proposals[p.id]
        extra = [("name", proposal.title.replace("\n", " ").replace("\r", " "))]
        if run is not None:
            extra.append(("selected", "1" if str(proposal.id) in winners else "0"))
        projects.append(Project(p.id, p.cost, tuple(extra)))
    instance = Instance(budget=election.instance.budget, projects=tuple(projects),
                        meta=tuple((k, v) for k, v in meta if v != ""),
                        vote_type=election.instance.vote_type)
    ballots = election.profile.ballots
    if ballots_in_lookup_order:
        ballots = _lookup_order(envelope, names, election.instance.vote_type)
    numbered = tuple(CBallot(projects=b.projects, points=b.points, voter_id=str(i + 1))
                     for i, b in enumerate(ballots))
    return instance, Profile(ballots=numbered, vote_type=election.instance.vote_type,
                             project_columns=("project_id", "cost", "name", "selected"))


def _lookup_order(envelope: Envelope, names: dict[int, str], vote_type: str
                  ) -> tuple[CBallot, ...]:
    from civic.voting.ballots import parse_choices
    from civic.voting.count import published_entries

    out = []
    for _lookup, text in published_entries(envelope):
        choices = parse_choices(text)
        ids = tuple(names.get(pid, str(pid)) for pid in sorted(choices))
        pts = tuple(choices[pid] for pid in sorted(choices)) if vote_type != "approval" else None
        out.append(CBallot(projects=ids, points=pts))
    return tuple(out)


def _units(cents: int) -> str:
    return str(cents // 100) if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"


def export_text(envelope: Envelope) -> str:
    """The .pb text of an envelope."""
    instance, profile = envelope_pabulib(envelope)
    try:
        return format_pabulib(instance, profile)
    except CountingError as exc:  # pragma: no cover - the data was checked on the way in
        raise BudgetError(str(exc)) from exc


def pick_envelope(campaign: Campaign, envelope_id: int | None) -> Envelope:
    """The envelope asked for, or the city-wide one (or the only one)."""
    if envelope_id is not None:
        for e in campaign.envelopes:
            if e.id == envelope_id:
                return e
        raise BudgetError(_("Campaign %(c)d has no envelope %(e)d.", c=campaign.id,
                            e=envelope_id))
    envelopes = list(campaign.envelopes)
    if not envelopes:
        raise BudgetError(_("Campaign %(c)d has no envelope.", c=campaign.id))
    city = [e for e in envelopes if e.quartier_id is None]
    return city[0] if city else envelopes[0]
