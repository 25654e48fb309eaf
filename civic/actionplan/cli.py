"""`flask actionplan export-csv / import-csv`: a plan as a CSV file (see README.md here)."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from civic.extensions import db


def register(group: click.Group) -> None:
    """Attach the CSV commands to the `flask actionplan` group."""

    @group.command("export-csv")
    @click.argument("slug")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="File to write (default: standard output).")
    def export_csv_command(slug: str, output: Path | None) -> None:
        """Write the plan SLUG as CSV (the format `import-csv` reads back)."""
        from civic.actionplan.csvio import export_plan_csv
        from civic.actionplan.models import Plan

        plan = db.session.execute(select(Plan).where(Plan.slug == slug)).scalar_one_or_none()
        if plan is None:
            raise click.ClickException(f"no plan with the slug {slug!r}")
        data = export_plan_csv(plan)
        if output is None:
            click.get_binary_stream("stdout").write(data)
        else:
            output.write_bytes(data)
            click.echo(f"{slug}: {len(plan.nodes)} nodes written to {output}")

    @group.command("import-csv")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--slug", required=True, help="Identifier of the new (or empty) plan.")
    def import_csv_command(path: Path, slug: str) -> None:
        """Create the plan SLUG from the CSV file PATH: every line, or nothing."""
        from civic.actionplan.csvio import CsvImportError, import_plan_csv
        from civic.actionplan.services import ActionPlanError

        try:
            plan = import_plan_csv(None, path.read_bytes(), slug=slug)
            db.session.commit()
        except CsvImportError as exc:
            db.session.rollback()
            for line, message in exc.errors:
                click.echo(f"{path}:{line}: {message}", err=True)
            raise click.ClickException(str(exc.message)) from exc
        except ActionPlanError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc
        click.echo(f"{slug}: {len(plan.nodes)} nodes imported")
