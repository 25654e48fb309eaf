"""Command-line tools: seed-demo, create-admin, actionplan, translate."""

from __future__ import annotations

import subprocess  # noqa: S404 - runs pybabel with fixed arguments, no shell
import sys
from pathlib import Path

import click
from flask import Flask

from civic.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def register_cli(app: Flask) -> None:
    """Attach the commands to `flask`."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo city (idempotent)."""
        from civic.demo import DEMO_PASSWORD, seed_demo

        created = seed_demo()
        db.session.commit()
        click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
        click.echo(f"demo accounts use the password {DEMO_PASSWORD!r} (see README)")

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", prompt=True)
    @click.password_option()
    def create_admin_command(email: str, name: str, password: str) -> None:
        """Create a confirmed administrator account."""
        from civic.accounts.services import AccountError, create_admin

        try:
            create_admin(email, password, name)
            db.session.commit()
        except AccountError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        click.echo(f"administrator {email} created")

    @app.cli.group("backup")
    def backup() -> None:
        """Consistent, checksummed backups (database + uploaded files)."""

    @backup.command("create")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_create(path: Path) -> None:
        """Write a backup archive to PATH."""
        from civic.backup import create_backup

        manifest = create_backup(path)
        rows = sum(manifest["tables"].values())
        click.echo(f"backup written to {path}: {rows} rows, "
                   f"{len(manifest['sha256']) - len(manifest['tables'])} files")

    @backup.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def backup_restore(path: Path, yes: bool) -> None:
        """Replace the database and uploads with the archive at PATH (checksums verified)."""
        from civic.backup import BackupError, restore_backup

        if not yes:
            click.confirm("This replaces every row of the database. Continue?", abort=True)
        try:
            manifest = restore_backup(path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"restored {sum(manifest['tables'].values())} rows from {path}")

    @app.cli.group("actionplan")
    def actionplan() -> None:
        """The action plans."""

    from civic.actionplan.cli import register as register_actionplan_csv

    register_actionplan_csv(actionplan)

    @actionplan.command("import-seeds")
    def import_seeds_command() -> None:
        """Import the three seed frameworks (idempotent: a second run changes nothing)."""
        from civic.actionplan.seed_data import SeedDataError
        from civic.actionplan.services import import_seed_plans

        try:
            report = import_seed_plans()
            db.session.commit()
        except SeedDataError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        for slug, counts in report.per_plan.items():
            click.echo(f"{slug}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        click.echo(f"plans: +{report.plans_created} new, {report.plans_updated} changed; "
                   f"nodes: +{report.nodes_created} new, {report.nodes_updated} changed")

    @app.cli.group("translate")
    def translate() -> None:
        """Translation catalogs (pybabel)."""

    def pybabel(*args: str) -> None:
        exe = Path(sys.executable).with_name("pybabel")
        subprocess.run([str(exe), *args], check=True, cwd=ROOT)  # noqa: S603

    @translate.command("extract")
    def extract() -> None:
        """Extract messages into translations/messages.pot."""
        pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-o", "translations/messages.pot",
                "--no-location", "--sort-output", ".")

    @translate.command("update")
    def update() -> None:
        """Extract, then update the fr and en catalogs."""
        extract.callback()
        pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
                "--no-fuzzy-matching", "--ignore-pot-creation-date")

    @translate.command("compile")
    def compile_() -> None:
        """Compile the catalogs (.mo files are build output, not in git)."""
        pybabel("compile", "-d", "translations")
