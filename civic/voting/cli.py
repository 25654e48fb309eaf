"""`flask budget import-pabulib | count | export-pabulib`: audits and imports on any campaign.

The commands join the budget group (the budgeting blueprint's ``flask budget``).
``count`` takes the options of ``python -m civic.counting`` and prints the same JSON: it
writes the envelope as a .pb file (the file's own project ids and META for an imported
campaign) and runs that very command line on it, so both can never drift apart.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from civic.budgeting.models import Campaign
from civic.budgeting.services import BudgetError
from civic.budgeting.views import bp as budgeting_bp
from civic.counting.api import COMPLETIONS, RULES, UTILITIES
from civic.counting.tiebreak import LEXICO
from civic.extensions import db


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"no campaign with id {campaign_id}")
    return campaign


@budgeting_bp.cli.command("import-pabulib")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_pabulib_command(path: Path) -> None:
    """Create a closed campaign from a Pabulib .pb file; print its id."""
    from civic.voting.pabulib_io import import_pabulib

    try:
        done = import_pabulib(path)
        db.session.commit()
    except BudgetError as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: {exc.message}") from exc
    click.echo(done.campaign.id)
    click.echo(f"imported {done.projects} projects and {done.ballots} ballots", err=True)


@budgeting_bp.cli.command("export-pabulib")
@click.argument("campaign_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--envelope", "envelope_id", type=int,
              help="Envelope id (default: the city-wide one).")
def export_pabulib_command(campaign_id: int, path: Path, envelope_id: int | None) -> None:
    """Write one envelope of a campaign as a Pabulib .pb file."""
    from civic.voting.pabulib_io import export_text, pick_envelope

    campaign = _campaign(campaign_id)
    try:
        text = export_text(pick_envelope(campaign, envelope_id))
    except BudgetError as exc:
        raise click.ClickException(exc.message) from exc
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from exc
    click.echo(f"written {path}")


@budgeting_bp.cli.command("count")
@click.argument("campaign_id", type=int)
@click.option("--envelope", "envelope_id", type=int,
              help="Envelope id (default: the city-wide one).")
@click.option("--rule", type=click.Choice(RULES), default="greedy", show_default=True)
@click.option("--utility", type=click.Choice(UTILITIES), default="cost", show_default=True)
@click.option("--completion", type=click.Choice(COMPLETIONS),
              help="default: none (add1 for equalshares)")
@click.option("--comparison", type=click.Choice(("satisfaction", "exclusion", "none")),
              default="satisfaction", show_default=True)
@click.option("--threshold", help="minimum votes, or 'file' (META min_project_score_threshold)")
@click.option("--tie-break", "tie_break", default=LEXICO, show_default=True)
@click.option("--seed", help="public seed of the 'draw' tie-break")
@click.option("--fund-unsupported", type=click.Choice(("yes", "no")))
@click.option("--increment", type=int, default=100, show_default=True)
@click.option("--compare", is_flag=True, help="add greedy vs MES figures")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
def count_command(campaign_id: int, envelope_id: int | None, **options) -> None:  # noqa: ANN003
    """Count a campaign's envelope from the database, as `python -m civic.counting`."""
    from civic.counting.cli import main
    from civic.voting.pabulib_io import export_text, pick_envelope

    campaign = _campaign(campaign_id)
    try:
        text = export_text(pick_envelope(campaign, envelope_id))
    except BudgetError as exc:
        raise click.ClickException(exc.message) from exc
    argv = ["--rule", options["rule"], "--utility", options["utility"],
            "--comparison", options["comparison"], "--tie-break", options["tie_break"],
            "--increment", str(options["increment"]), "--format", options["fmt"]]
    for name in ("completion", "threshold", "seed", "fund_unsupported"):
        if options[name] is not None:
            argv += [f"--{name.replace('_', '-')}", str(options[name])]
    if options["compare"]:
        argv.append("--compare")
    fd, tmp = tempfile.mkstemp(suffix=".pb")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        code = main([tmp, *argv])
    finally:
        os.unlink(tmp)
    sys.stdout.flush()
    if code:
        sys.exit(code)
