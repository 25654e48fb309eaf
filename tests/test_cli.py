"""Command-line tools."""

from __future__ import annotations

from sqlalchemy import func, select

from civic.accounts.models import User
from civic.extensions import db
from civic.territory.models import Council, Quartier


def test_seed_demo_is_idempotent(runner, app):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = (db.session.scalar(select(func.count(User.id))),
                  db.session.scalar(select(func.count(Quartier.id))),
                  db.session.scalar(select(func.count(Council.id))))
    assert counts[0] >= 6 and counts[1] >= 5
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "users +0" in second.output
    with app.app_context():
        assert counts == (db.session.scalar(select(func.count(User.id))),
                          db.session.scalar(select(func.count(Quartier.id))),
                          db.session.scalar(select(func.count(Council.id))))


def test_create_admin(runner, app):
    result = runner.invoke(args=["create-admin", "--email", "Boss@Example.org", "--name", "Boss",
                                 "--password", "a very long passphrase"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "boss@example.org")).scalar_one()
        assert user.has_role("admin") and user.email_confirmed_at is not None
    again = runner.invoke(args=["create-admin", "--email", "boss@example.org", "--name", "B",
                                "--password", "a very long passphrase"])
    assert again.exit_code != 0 and "Traceback" not in again.output
    weak = runner.invoke(args=["create-admin", "--email", "x@example.org", "--name", "X",
                               "--password", "short"])
    assert weak.exit_code != 0
