"""The vote of a participatory budget: participation, ballots, paper entry, counts, realisation.

Ballot secrecy — which links exist, and when (the README's threat model says the same):

- ``VoteParticipation`` says *who* took part in which envelope, when, and through which
  channel (online or paper). It never says what they chose.
- ``BallotDraft`` is a ballot being built and not yet confirmed. It belongs to its voter
  (``user_id``): that is what the one reminder before the close uses. Confirming deletes it
  in the same transaction that stores the ``Ballot``.
- ``Ballot`` is a confirmed ballot: its envelope and its choices, nothing else. Its key
  ``lookup`` is SHA-256 of a random receipt secret that only the voter is shown (and that
  the server does not keep); there is no user id, no timestamp and no sequence number.
- ``VoteParticipation.receipt_check`` is SHA-256 of (user id, receipt secret). It lets the
  voter who shows their receipt replace their ballot until the close; without the secret,
  nobody can tell which ballot a participation belongs to (both are one-way hashes of a
  128-bit random value).

One voter, one ballot: the unique constraint on (envelope, user) of ``VoteParticipation`` is
the database's guarantee; the participation and the ballot are written in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, BigInteger, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.budgeting.models import Campaign, Envelope, Proposal
from civic.core.cache import register_quiet_tables
from civic.extensions import db
from civic.timeutil import utcnow

CHANNELS = ("online", "paper")
BALLOT_SOURCES = ("online", "paper", "import")
SHEET_STATUSES = ("pending", "matched", "mismatch", "resolved", "void")
REALISATION_STATUSES = ("study", "works", "done", "abandoned")


class VoteParticipation(db.Model):
    """Who took part in an envelope's vote (never what they chose)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # one of CHANNELS
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None]  # last time the voter replaced their ballot
    # The voting-desk agent who recorded a paper participation.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # sha256(user id, receipt secret), hex; None for paper participations.
    receipt_check: Mapped[str | None] = mapped_column(String(64))

    envelope: Mapped[Envelope] = relationship()

    __table_args__ = (UniqueConstraint("envelope_id", "user_id", name="uq_participation"),)


class Ballot(db.Model):
    """A confirmed ballot. Deliberately nothing that points back to a person."""

    # sha256(receipt secret), hex: the key, and what the voter checks the published list with.
    lookup: Mapped[str] = mapped_column(String(64), primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id", ondelete="CASCADE"),
                                             index=True)
    # Canonical content: proposal ids in increasing order, "12,15,18"; with points
    # (cumulative ballots) "12:3,15:7". Parsed by civic.voting.ballots.
    choices: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))  # one of BALLOT_SOURCES


class BallotWrites(db.Model):
    """How many times each envelope's ballot rows were written (inserted, updated or
    deleted), counted by SQLite triggers: the results page's tamper check re-chains the
    published list when it moves (civic.voting.results). PostgreSQL needs no counter:
    the rows' xmin tells the same. No foreign key: a deleted envelope's ballots are deleted
    with it, and their triggers must still be able to count."""

    envelope_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    writes: Mapped[int] = mapped_column(BigInteger, default=0)


# The same statements as the migration that adds them (e7f1a9c3b2d4).
_COUNT_OLD = ("INSERT INTO ballot_writes (envelope_id, writes) VALUES (OLD.envelope_id, 1) "
              "ON CONFLICT (envelope_id) DO UPDATE SET writes = writes + 1;")
_COUNT_NEW = ("INSERT INTO ballot_writes (envelope_id, writes) VALUES (NEW.envelope_id, 1) "
              "ON CONFLICT (envelope_id) DO UPDATE SET writes = writes + 1;")
BALLOT_WRITE_TRIGGERS = (
    "CREATE TRIGGER ballot_written_insert AFTER INSERT ON ballot BEGIN " + _COUNT_NEW + " END",
    "CREATE TRIGGER ballot_written_delete AFTER DELETE ON ballot BEGIN " + _COUNT_OLD + " END",
    "CREATE TRIGGER ballot_written_update AFTER UPDATE ON ballot BEGIN " + _COUNT_OLD + " "
    + _COUNT_NEW + " END",
)
for _trigger in BALLOT_WRITE_TRIGGERS:
    event.listen(db.metadata, "after_create", DDL(_trigger).execute_if(dialect="sqlite"))


class BallotDraft(db.Model):
    """A ballot being built (not confirmed): it belongs to its voter until confirmed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id", ondelete="CASCADE"),
                                             index=True)
    choices: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]

    envelope: Mapped[Envelope] = relationship()

    __table_args__ = (UniqueConstraint("user_id", "envelope_id", name="uq_ballot_draft"),)


class PaperSheet(db.Model):
    """A numbered paper ballot sheet from the ballot box, keyed twice by two agents."""

    id: Mapped[int] = mapped_column(primary_key=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id", ondelete="CASCADE"),
                                             index=True)
    sheet_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # SHEET_STATUSES
    # The ballot it became once two entries matched (or a coordinator resolved it).
    ballot_lookup: Mapped[str | None] = mapped_column(String(64))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    envelope: Mapped[Envelope] = relationship()
    entries: Mapped[list[PaperEntry]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="PaperEntry.id")

    __table_args__ = (UniqueConstraint("envelope_id", "sheet_number", name="uq_paper_sheet"),)


class PaperEntry(db.Model):
    """One agent's keying of a paper sheet (canonical choices, as in Ballot.choices)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("paper_sheet.id", ondelete="CASCADE"),
                                          index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    choices: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    sheet: Mapped[PaperSheet] = relationship(back_populates="entries")

    __table_args__ = (UniqueConstraint("sheet_id", "agent_id", name="uq_paper_entry_agent"),)


class CountRun(db.Model):
    """One count of one envelope with the campaign's rule: input and output kept verbatim,
    so a re-run can be compared byte for byte; published explicitly by a coordinator."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelope.id", ondelete="CASCADE"),
                                             index=True)
    rule: Mapped[str] = mapped_column(String(20))
    utility: Mapped[str] = mapped_column(String(20), default="cost")
    completion: Mapped[str] = mapped_column(String(20), default="none")
    tie_break: Mapped[str] = mapped_column(String(80), default="lexico")
    threshold: Mapped[int] = mapped_column(default=0)
    ballots_count: Mapped[int] = mapped_column(default=0)
    input_digest: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical input
    output_json: Mapped[str] = mapped_column(Text)  # canonical JSON (sorted keys)
    output_digest: Mapped[str] = mapped_column(String(64))
    # Final hash of the chained, published ballot list of this envelope.
    chain_head: Mapped[str] = mapped_column(String(64), default="")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    campaign: Mapped[Campaign] = relationship()
    envelope: Mapped[Envelope] = relationship()


class Realisation(db.Model):
    """What became of a winning project: status, progress, cost actually spent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             unique=True)
    status: Mapped[str] = mapped_column(String(10), default="study")  # REALISATION_STATUSES
    abandon_reason: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[int] = mapped_column(default=0)  # percent, 0..100
    voted_cost_cents: Mapped[int] = mapped_column(BigInteger)
    actual_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The action-plan action that follows it (civic.actionplan), when linked.
    plan_node_id: Mapped[int | None] = mapped_column(ForeignKey("plan_node.id",
                                                                ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="realisation", cascade="all, delete-orphan",
        order_by="Milestone.on, Milestone.id")


class Milestone(db.Model):
    """A dated step of a realisation (public), possibly with photos."""

    id: Mapped[int] = mapped_column(primary_key=True)
    realisation_id: Mapped[int] = mapped_column(ForeignKey("realisation.id",
                                                           ondelete="CASCADE"), index=True)
    on: Mapped[date]
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[int | None]  # percent reached at this step
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    realisation: Mapped[Realisation] = relationship(back_populates="milestones")
    photos: Mapped[list[MilestonePhoto]] = relationship(
        back_populates="milestone", cascade="all, delete-orphan", order_by="MilestonePhoto.id")


class MilestonePhoto(db.Model):
    """A photo of a milestone, re-encoded without metadata (like proposal images)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"),
                                              index=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    alt_text: Mapped[str] = mapped_column(String(200), default="")
    width: Mapped[int]
    height: Mapped[int]

    milestone: Mapped[Milestone] = relationship(back_populates="photos")


# While a vote runs no visitor's page shows ballots, participations or drafts (turnout and the
# ballot list appear only once the results are published, after the close, when the app no
# longer changes them), so casting a ballot need not empty the page cache: during a vote week
# it would otherwise be emptied many times a second.
register_quiet_tables(Ballot.__tablename__, VoteParticipation.__tablename__,
                      BallotDraft.__tablename__)
