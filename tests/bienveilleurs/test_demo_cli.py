"""The demo shows the whole pipeline, encrypted; the key commands work."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from civic.bienveilleurs.models import JobRequest, Referral
from civic.extensions import db


def test_seed_demo_creates_encrypted_referrals_at_every_stage_once(runner, app):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    second = runner.invoke(args=["seed-demo"])
    assert "referrals +0" in second.output and "interlocutors +0" in second.output
    with app.app_context():
        statuses = set(db.session.execute(select(Referral.status)).scalars())
        assert {"signale", "injoignable", "pris_en_charge", "clos"} <= statuses
        assert db.session.scalar(select(func.count(JobRequest.id))) == 2
        raw = db.session.execute(text("SELECT person_name_enc, contact_enc FROM referral")
                                 ).all()
        assert raw and all(v.startswith("gAAAAA") for row in raw for v in row)
        assert not any("démo" in v for row in raw for v in row)


def test_new_key_prints_a_usable_key(runner):
    result = runner.invoke(args=["bienveilleurs", "new-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())  # raises if it is not a valid key
