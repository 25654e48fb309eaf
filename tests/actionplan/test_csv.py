"""CSV import and export of a plan: the format round-trips, bad files change nothing."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from civic.actionplan import csvio, services
from civic.actionplan.models import Indicator, Plan, PlanNode
from civic.actionplan.states import ActionStatus, ParticipationStage
from civic.extensions import db
from tests.conftest import make_plan, make_territory, make_user, plan_action


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=";"))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=csvio.COLUMNS, delimiter=";", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Plan.id))),
            db.session.scalar(select(func.count(PlanNode.id))),
            db.session.scalar(select(func.count(Indicator.id))))


def _filled_plan():
    """The small plan with what a city records: details, statuses, indicators, participation."""
    make_territory()
    plan = make_plan()
    coord = make_user("coord@example.org", roles=("coordinator",))
    a, b, c = (plan_action(plan, code) for code in ("1.1.1", "1.1.2", "1.2.1"))
    quartiers = [q.id for q in services.db.session.execute(
        select(services.Quartier)).scalars()]
    services.update_action(coord, a, porteur="Ville de Denain", partners="CAF\nMission locale",
                           period_start=2024, period_end=2026, budget_cents=1_234_550,
                           quartier_ids=quartiers, public_ids=[plan.publics[0].id],
                           tag_ids=[plan.tags[0].id])
    services.change_status(coord, a, ActionStatus.IN_PROGRESS, "Lancement")
    services.change_status(coord, b, ActionStatus.REPLACED, "", replaced_by=c)
    ind = services.add_indicator(coord, a, name="Jeunes accompagnés", unit="personnes",
                                 baseline="12,5", baseline_year=2023, source="Mission locale")
    services.record_indicator_value(coord, ind, year=2024, target="40", measured="31.25")
    services.record_indicator_value(coord, ind, year=2025, target="60", measured=None)
    services.record_breakdown(coord, ind, plan.publics[0], year=2024, target="20", measured="17")
    services.add_indicator(coord, a, name="Ateliers", unit="ateliers", baseline=None,
                           baseline_year=None, source="")
    services.record_participation(coord, a, stage="start", held_on=date(2024, 3, 2),
                                  participants=35, description="Atelier de conception")
    db.session.commit()
    return plan


def test_export_import_export_gives_identical_bytes_on_the_seed_plans(ctx):
    """Every seed plan: export → import into an empty plan → export is byte-identical."""
    services.import_seed_plans()
    db.session.commit()
    plans = services.list_plans()
    assert len(plans) == 3
    for plan in plans:
        first = csvio.export_plan_csv(plan)
        copy = csvio.import_plan_csv(None, first, slug=f"copie-{plan.slug}")
        db.session.commit()
        db.session.expire_all()
        assert csvio.export_plan_csv(db.session.get(Plan, copy.id)) == first, plan.slug
        assert len(copy.nodes) == len(plan.nodes) > 10


def test_round_trip_keeps_what_the_city_recorded(ctx):
    """Porteur, budget, quartiers, statuses, replacement, indicators, values per public and
    participation all survive the round trip; the file starts with a BOM and uses ;."""
    plan = _filled_plan()
    first = csvio.export_plan_csv(plan)
    assert first.startswith("\ufeffrecord;key;parent".encode())
    copy = csvio.import_plan_csv(None, first, slug="copie")
    db.session.commit()
    db.session.expire_all()
    copy = db.session.get(Plan, copy.id)
    assert csvio.export_plan_csv(copy) == first
    a = plan_action(copy, "1.1.1")
    assert a.porteur == "Ville de Denain" and a.partner_list == ["CAF", "Mission locale"]
    assert a.budget_cents == 1_234_550 and a.status == ActionStatus.IN_PROGRESS
    assert sorted(q.code for q in a.quartiers) == ["DEN-01", "DEN-03"]
    assert plan_action(copy, "1.1.2").replaced_by == plan_action(copy, "1.2.1")
    ind = a.indicators[0]
    assert (ind.baseline, ind.values[0].measured, ind.values[1].target) == (12.5, 31.25, 60)
    assert [(b.public.key, b.year, b.measured) for b in ind.breakdowns] == [("jeunes", 2024, 17)]
    assert [(p.stage, p.participants) for p in a.participations] == [
        (ParticipationStage.START, 35)]


def test_every_bad_line_is_reported_and_nothing_is_written(ctx):
    """Unknown code, unknown parent, cyclic parents, a non-numeric value, a bad status:
    each line is named with its number, and the database is untouched."""
    plan = _filled_plan()
    rows = _rows(csvio.export_plan_csv(plan))
    by_key = {r["key"]: r for r in rows}
    line_of = {r["key"]: i + 2 for i, r in enumerate(rows) if r["key"]}
    by_key["1.1.1"]["quartiers"] = "DEN-01|ZZZ-99"
    by_key["1.1.2"]["parent"] = "9.9"
    by_key["1"]["parent"] = "2"
    by_key["2"]["parent"] = "1"
    by_key["1.2.1"]["status"] = "finie"
    value = next(i for i, r in enumerate(rows) if r["record"] == "value")
    rows[value]["measured"] = "beaucoup"
    before = _counts()
    with pytest.raises(csvio.CsvImportError) as caught:
        csvio.import_plan_csv(None, _csv(rows), slug="cassee")
    db.session.rollback()
    errors = dict(caught.value.errors)
    assert "ZZZ-99" in errors[line_of["1.1.1"]]
    assert "9.9" in errors[line_of["1.1.2"]]
    assert "finie" in errors[line_of["1.2.1"]]
    assert "beaucoup" in errors[value + 2]
    cyclic = [m for m in errors.values() if "1 → 2 → 1" in m]
    assert len(cyclic) == 1 and "ancêtre" in cyclic[0]
    assert _counts() == before


def test_a_node_cannot_sit_above_its_level(ctx):
    """An axe inside an action (or inside another axe) is refused on its line."""
    plan = make_plan()
    rows = _rows(csvio.export_plan_csv(plan))
    line = {r["key"]: number for number, r in enumerate(rows, start=2) if r["key"]}
    rows[line["2"] - 2]["parent"] = "1.1.1"
    with pytest.raises(csvio.CsvImportError) as caught:
        csvio.import_plan_csv(None, _csv(rows), slug="niveaux")
    assert [n for n, _m in caught.value.errors] == [line["2"]]
    assert "axe" in caught.value.errors[0][1] and "action" in caught.value.errors[0][1]


def test_unreadable_files_are_refused_with_a_reason(ctx):
    """Not UTF-8, binary, empty, unknown column, too large: a message, no exception."""
    cases = {
        "é;x".encode("latin-1"): "UTF-8",
        b"\x00\x01PK": "CSV",
        b"": "vide",
        b"record;colour\nplan;red\n": "colour",
        b"x" * (csvio.MAX_CSV_BYTES + 1): "2 Mo",
    }
    for raw, expected in cases.items():
        with pytest.raises(csvio.CsvImportError) as caught:
            csvio.import_plan_csv(None, raw, slug="essai")
        assert any(expected in message for _line, message in caught.value.errors), expected


def test_a_plan_with_content_is_not_overwritten(ctx):
    """Importing into the slug of a plan that has nodes is refused on the slug field."""
    plan = make_plan()
    data = csvio.export_plan_csv(plan)
    with pytest.raises(services.ActionPlanError) as caught:
        csvio.import_plan_csv(None, data, slug=plan.slug)
    assert caught.value.field == "slug"


def test_a_hand_made_file_with_few_columns_imports(ctx):
    """Columns may be left out and come in any order; rows may name a parent defined later."""
    raw = (b"record,title,key,kind,parent\n"
           b"plan,Plan minimal,,,\n"
           b"Level,Axe,axe,,\n"
           b"level,Action,action,,\n"
           b"node,Agir,a1,action,ax\n"
           b"node,Un axe,ax,axe,\n")
    plan = csvio.import_plan_csv(None, raw, slug="minimal")
    db.session.commit()
    assert plan.title == "Plan minimal" and plan.action_kind == "action"
    axe = next(n for n in plan.nodes if n.key == "ax")
    assert [c.key for c in axe.children] == ["a1"] and axe.children[0].is_action


@pytest.fixture
def coordinator(app, client):
    """A client logged in as a coordinator, and the small plan's id."""
    from tests.conftest import login

    with app.app_context():
        plan_id = make_plan().id
        make_user("coord@example.org", roles=("coordinator",))
    login(client, "coord@example.org")
    return client, plan_id


def _upload(client, data: bytes, *, slug: str = "importe", filename: str = "plan.csv"):
    from tests.conftest import post_form

    return post_form(client, "/plan-d-action/importer",
                     {"slug": slug, "file": (io.BytesIO(data), filename)},
                     content_type="multipart/form-data")


def test_public_download_then_coordinator_upload_creates_the_plan(app, client, coordinator):
    """Anyone downloads the CSV; a coordinator uploads it under a new identifier."""
    client, plan_id = coordinator
    page = client.get(f"/plan-d-action/{plan_id}").get_data(as_text=True)
    assert f'href="/plan-d-action/{plan_id}/plan.csv"' in page
    anonymous = app.test_client().get(f"/plan-d-action/{plan_id}/plan.csv")
    assert anonymous.status_code == 200 and anonymous.mimetype == "text/csv"
    assert "plan-de-test.csv" in anonymous.headers["Content-Disposition"]
    resp = _upload(client, anonymous.data, slug="plan-importe")
    assert resp.status_code == 302
    with app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.slug == "plan-importe")).scalar_one()
        assert csvio.export_plan_csv(plan) == anonymous.data


def test_upload_errors_are_listed_with_line_numbers_in_french(app, coordinator):
    """A bad file: 422, every bad line listed in French, the typed identifier kept."""
    client, plan_id = coordinator
    with app.app_context():
        rows = _rows(csvio.export_plan_csv(db.session.get(Plan, plan_id)))
    line = {r["key"]: number for number, r in enumerate(rows, start=2) if r["key"]}
    rows[line["1.1"] - 2]["kind"] = "chapitre"
    rows[line["2"] - 2]["weight"] = "lourd"
    resp = _upload(client, _csv(rows), slug="essai-casse")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f"Ligne {line['1.1']} : Niveau inconnu 'chapitre'" in html.replace("&#39;", "'")
    assert f"Ligne {line['2']} : weight : saisissez un nombre entier" in html
    assert "rien n’a été importé" in html.replace("'", "’")
    assert 'value="essai-casse"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 1


@pytest.mark.parametrize(("data", "filename", "expected"), [
    (b"%PDF-1.4 binary", "plan.pdf", "CSV"),
    (b"\xff\xfe\x00\x00", "plan.csv", "UTF-8"),
    (b"x" * (csvio.MAX_CSV_BYTES + 10), "plan.csv", "2 Mo"),
])
def test_wrong_format_or_size_is_a_form_error_not_a_500(coordinator, data, filename, expected):
    """A PDF, a UTF-32 file, a file over 2 MB: explained on the form."""
    client, _plan_id = coordinator
    resp = _upload(client, data, filename=filename)
    assert resp.status_code == 422
    assert expected in resp.get_data(as_text=True)


def test_a_request_over_the_upload_limit_gets_the_413_page(app, coordinator):
    """Above MAX_CONTENT_LENGTH the request is refused with a page, not a 500."""
    client, _plan_id = coordinator
    resp = _upload(client, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert resp.status_code == 413
    assert "volumineux" in resp.get_data(as_text=True)


def test_import_page_needs_a_coordinator(app, client, coordinator):
    """Residents may not import plans; the link shows only to those who may."""
    _client, _plan_id = coordinator
    with app.app_context():
        make_user("habitant@example.org")
    other = app.test_client()
    from tests.conftest import login

    login(other, "habitant@example.org")
    assert other.get("/plan-d-action/importer").status_code == 403
    assert "/plan-d-action/importer" not in other.get("/plan-d-action").get_data(as_text=True)
    assert "/plan-d-action/importer" in _client.get("/plan-d-action").get_data(as_text=True)


def test_cli_export_then_import(app, runner, tmp_path):
    """`flask actionplan export-csv` then `import-csv` copies a plan; a bad file is refused."""
    with app.app_context():
        make_plan()
    out = tmp_path / "plan.csv"
    result = runner.invoke(args=["actionplan", "export-csv", "plan-de-test", "-o", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["actionplan", "import-csv", str(out), "--slug", "copie-cli"])
    assert result.exit_code == 0 and "copie-cli: 8 nodes imported" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(out.read_bytes().replace(b";1.1.1;", b";1.1.1;1.1.1;", 1))
    result = runner.invoke(args=["actionplan", "import-csv", str(bad), "--slug", "autre"])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Plan.id))) == 2


def test_the_readme_example_imports(ctx):
    """The hand-made example of civic/actionplan/README.md is a valid file."""
    from pathlib import Path

    readme = (Path(csvio.__file__).parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Example (a hand-made file)")[1].split("```")[1].strip()
    header = readme.split("## Columns")[1].split("`")[1]
    assert header == ";".join(csvio.COLUMNS)
    make_territory()
    plan = csvio.import_plan_csv(None, example.encode(), slug="exemple")
    action = plan_action(plan, "1.1")
    assert action.status == ActionStatus.IN_PROGRESS
    assert action.indicators[0].values[0].measured == 280



def test_an_unterminated_quote_is_reported_on_its_line(ctx):
    """A quote left open runs to the end of the file: refused, with a line number."""
    raw = b'record;key;title\nplan;;Plan\nlevel;action;"Action\n'
    with pytest.raises(csvio.CsvImportError) as caught:
        csvio.import_plan_csv(None, raw, slug="quote")
    assert caught.value.errors[0][0] == 3


def test_an_existing_empty_plan_is_filled(ctx):
    """A plan with no node yet (levels of its own) takes the file's title, levels and tree."""
    from civic.actionplan.models import PlanLevel

    source = make_plan()
    data = csvio.export_plan_csv(source)
    empty = Plan(slug="plan-vide", title="Brouillon", action_kind="mesure", source_note="")
    empty.levels.append(PlanLevel(kind="mesure", label="mesure", position=0))
    db.session.add(empty)
    db.session.commit()
    filled = csvio.import_plan_csv(None, data, slug="plan-vide")
    db.session.commit()
    db.session.expire_all()
    filled = db.session.get(Plan, filled.id)
    assert filled.id == empty.id and filled.title == "Plan de test"
    assert [lv.kind for lv in filled.levels] == ["axe", "objectif", "action"]
    assert csvio.export_plan_csv(filled) == data
