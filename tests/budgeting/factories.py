"""Budget test factories: built through the same services as the app (STYLE.md)."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from civic.accounts.models import User
from civic.budgeting import services as budget
from civic.budgeting.models import Campaign, Proposal
from civic.budgeting.states import DATED_PHASES, Phase
from civic.extensions import db
from civic.territory.models import Quartier
from civic.timeutil import utcnow


def starts_for(phase: Phase, now=None) -> dict[Phase, object]:  # noqa: ANN001
    """A calendar in which ``phase`` began a day ago (the others follow weekly)."""
    now = now or utcnow()
    index = DATED_PHASES.index(phase) if phase is not Phase.UPCOMING else -1
    out = {}
    for i, p in enumerate(DATED_PHASES):
        out[p] = now + timedelta(days=(i - index) * 7 - 1 if i <= index else (i - index) * 7)
    if phase is Phase.UPCOMING:
        out = {p: now + timedelta(days=7 * (i + 1)) for i, p in enumerate(DATED_PHASES)}
    return out


def make_campaign(phase: Phase = Phase.SUBMISSION, actor: User | None = None,
                  **overrides) -> Campaign:
    """A campaign of 100,000 € (40,000 city-wide, the rest shared by the quartiers)."""
    quartiers = db.session.execute(select(Quartier).order_by(Quartier.id)).scalars().all()
    share = 60_000_00 // max(1, len(quartiers))
    qcents = {q.id: share for q in quartiers}
    city = 100_000_00 - share * len(quartiers)
    fields = dict(title="Budget participatif 2027", description="Règlement.",
                  total_cents=100_000_00, city_cents=city, quartier_cents=qcents,
                  starts=starts_for(phase), max_choices=5,
                  themes=("Nature en ville", "Voirie", "Sport"))
    fields.update(overrides)
    campaign = budget.save_campaign(actor, None, budget.CampaignData(**fields))
    db.session.commit()
    return campaign


def set_phase(campaign: Campaign, phase: Phase) -> None:
    """Move a campaign's calendar so that ``phase`` is in force (as time passing would)."""
    for p, start in starts_for(phase).items():
        setattr(campaign, f"{p.value}_starts_at", start)
    db.session.commit()


def png_bytes(size=(40, 30), color=(200, 30, 30), fmt="PNG", exif: bool = False) -> bytes:
    """A small valid image."""
    img = Image.new("RGB", size, color)
    out = io.BytesIO()
    kwargs = {}
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "SecretCam"  # Make
        ex[0x8825] = {1: "N", 2: (49.0, 29.0, 0.0)}  # GPS info
        kwargs["exif"] = ex
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def proposal_data(campaign: Campaign, **overrides) -> budget.ProposalData:
    """Valid proposal data for the first quartier's envelope."""
    fields = dict(title="Des bancs au square", description="Installer six bancs ombragés "
                  "autour de l'aire de jeux du square.", quartier_id=None,
                  theme_id=campaign.themes[0].id, estimated_cost_cents=12_000_00,
                  address="Square Jean-Jaurès", accept_rules=True)
    fields.update(overrides)
    return budget.ProposalData(**fields)


def make_proposal(author: User, campaign: Campaign, *, submit: bool = True,
                  **overrides) -> Proposal:
    """A proposal through save_proposal (submitted by default)."""
    overrides.setdefault("quartier_id", author.quartier_id)
    proposal = budget.save_proposal(author, campaign, None, proposal_data(campaign, **overrides),
                                    submit=submit)
    db.session.commit()
    return proposal
