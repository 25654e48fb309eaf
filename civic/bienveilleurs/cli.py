"""`flask bienveilleurs …`: reminders, purge, statistics, keys. Safe to run from cron
(idempotent)."""

from __future__ import annotations

import click

from civic.extensions import db


def register(bp) -> None:  # noqa: ANN001 - a Blueprint
    """Attach the commands to the blueprint's CLI group."""

    @bp.cli.command("remind")
    def remind() -> None:
        """Email the people in charge of referrals stuck too long in a state and of
        conciergerie requests at risk."""
        from civic.bienveilleurs.services import send_job_reminders, send_reminders

        n = send_reminders()
        jobs = send_job_reminders()
        db.session.commit()
        click.echo(f"reminders sent: {n}")
        click.echo(f"conciergerie reminders sent: {jobs}")

    @bp.cli.command("purge")
    def purge() -> None:
        """Erase personal fields of referrals and requests closed beyond the retention."""
        from civic.bienveilleurs.services import purge_closed

        n = purge_closed()
        db.session.commit()
        click.echo(f"purged: {n}")

    @bp.cli.command("publish-statistics")
    def publish_statistics() -> None:
        """Freeze the statistics of every closed period not published yet (monthly cron)."""
        from civic.bienveilleurs.services import publish_due_statistics

        n = publish_due_statistics()
        db.session.commit()
        click.echo(f"statistics published: {n}")

    @bp.cli.command("new-key")
    def new_key() -> None:
        """Print a fresh encryption key (to put first in CIVIC_ENCRYPTION_KEYS)."""
        from civic.bienveilleurs.crypto import new_key as make

        click.echo(make())

    @bp.cli.command("rotate-key")
    def rotate_key() -> None:
        """Re-encrypt every personal field with the first key of CIVIC_ENCRYPTION_KEYS."""
        from civic.bienveilleurs.services import rotate_keys

        n = rotate_keys()
        db.session.commit()
        click.echo(f"re-encrypted: {n}")
