"""`flask budget import-pabulib | count | export-pabulib`: import → count gives exactly what
the counting engine gives on the file itself; malformed files write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civic.budgeting.models import Campaign, Proposal
from civic.counting.cli import main as engine_main
from civic.counting.pabulib import parse_pabulib, read_pabulib
from civic.extensions import db
from civic.voting.models import Ballot

SMALL = """META
key;value
description;Budget de test
country;France
unit;Denain
num_projects;4
num_votes;8
budget;100000
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
9;40000;Jardin partagé
10;35000;Aire de jeux
11;30000;Pistes cyclables
12;20000;Bancs
VOTES
voter_id;vote;age
1;9,10;34
2;9;51
3;10,11;22
4;11,12;40
5;12;67
6;9,12;30
7;10;29
8;;45
"""

CUMULATIVE = """META
key;value
description;Points
num_projects;3
num_votes;4
budget;50
vote_type;cumulative
max_sum_points;5
PROJECTS
project_id;cost
a1;30
a2;20
a3;25
VOTES
voter_id;vote;points
1;a1,a2;3,2
2;a3;5
3;a2,a3;1,4
4;a1;5
"""

RULES = [["--rule", "greedy"], ["--rule", "mes", "--completion", "add1-greedy"],
         ["--rule", "mes"], ["--rule", "greedy", "--tie-break", "more-votes,fewer-euros,id"],
         ["--rule", "equalshares"], ["--rule", "greedy", "--utility", "cardinality"]]


def _engine(path: Path, args: list[str], capsys) -> dict | int:
    """The engine's JSON on the file itself (or its exit status when it refuses)."""
    capsys.readouterr()
    code = engine_main([str(path), *args, "--format", "json"])
    out = capsys.readouterr().out
    return json.loads(out) if code == 0 else code


def _import(runner, path: Path) -> int:
    result = runner.invoke(args=["budget", "import-pabulib", str(path)])
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip().splitlines()[0])


def _count(runner, cid: int, args: list[str]) -> dict | int:
    result = runner.invoke(args=["budget", "count", str(cid), *args, "--format", "json"])
    return json.loads(result.stdout) if result.exit_code == 0 else result.exit_code


@pytest.mark.parametrize("text", [SMALL, CUMULATIVE], ids=["approval", "cumulative"])
def test_import_then_count_is_the_engine_on_the_file(app, runner, tmp_path, text, capsys):
    path = tmp_path / "small.pb"
    path.write_text(text, encoding="utf-8")
    cid = _import(runner, path)
    for args in RULES:
        expected = _engine(path, args, capsys)
        assert _count(runner, cid, args) == expected, args
        assert isinstance(expected, dict) or (text is CUMULATIVE and "equalshares" in args)
    with app.app_context():
        campaign = db.session.get(Campaign, cid)
        assert campaign.phase().value == "results"
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == \
            len(parse_pabulib(text)[1].ballots)
        assert set(db.session.scalars(select(Ballot.source))) == {"import"}
        assert {p.validated_cost_cents for p in db.session.scalars(select(Proposal))} == {
            p.cost for p in parse_pabulib(text)[0].projects}


def test_count_options_and_text_output(app, runner, tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    cid = _import(runner, path)
    result = runner.invoke(args=["budget", "count", str(cid), "--rule", "mes", "--compare"])
    assert result.exit_code == 0 and "comparison" in result.stdout
    result = runner.invoke(args=["budget", "count", str(cid), "--tie-break", "nonsense"])
    assert result.exit_code == 2
    result = runner.invoke(args=["budget", "count", "999999"])
    assert result.exit_code != 0 and "no campaign" in result.output


def test_export_round_trip(app, runner, tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    cid = _import(runner, path)
    out = tmp_path / "out.pb"
    result = runner.invoke(args=["budget", "export-pabulib", str(cid), str(out)])
    assert result.exit_code == 0, result.output
    inst, prof = read_pabulib(out)
    orig_inst, orig_prof = parse_pabulib(SMALL)
    assert [(p.id, p.cost) for p in inst.projects] == [(p.id, p.cost) for p in orig_inst.projects]
    assert sorted(b.projects for b in prof.ballots) == sorted(
        tuple(sorted(b.projects, key=int)) for b in orig_prof.ballots)
    assert inst.budget == orig_inst.budget and inst.meta_dict["rule"] == "greedy"
    assert all(not b.extra for b in prof.ballots)  # the file's ages were not imported
    assert _import(runner, out) != cid


@pytest.mark.parametrize("bad, line", [
    (SMALL.replace("11;30000", "11;trente"), 15),
    (SMALL.replace("4;11,12;40", "4;11,99;40"), 22),
    (SMALL.replace("num_votes;8", "num_votes;9"), 7),
    (SMALL.replace("8;;45", "8;;45;extra"), 26),
])
def test_malformed_file_names_the_line_and_writes_nothing(app, runner, tmp_path, bad, line):
    path = tmp_path / "bad.pb"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["budget", "import-pabulib", str(path)])
    assert result.exit_code != 0
    assert f"line {line}" in result.output.lower() or f"ligne {line}" in result.output.lower()
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_unreadable_and_binary_files_are_clear_errors(app, runner, tmp_path):
    result = runner.invoke(args=["budget", "import-pabulib", str(tmp_path / "none.pb")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    path = tmp_path / "bin.pb"
    path.write_bytes(b"META\nkey;value\n\xff\xfe")
    result = runner.invoke(args=["budget", "import-pabulib", str(path)])
    assert result.exit_code != 0 and "3" in result.output


SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "pb-samples"
SMALL_SAMPLES = ["Netherlands_Assen_2024.pb", "France_Toulouse_2022_6_-_Saint-Cyprien.pb",
                 "Poland_Czestochowa_2020_Grabowka.pb", "Poland_Krakow_2018_Czyzyny.pb",
                 "Poland_Swiecie_2023.pb"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/pb-samples is absent")
@pytest.mark.parametrize("name", SMALL_SAMPLES)
def test_real_pabulib_files_import_and_count_like_the_engine(app, runner, name, capsys):
    path = SAMPLES / name
    cid = _import(runner, path)
    for args in (["--rule", "greedy"], ["--rule", "mes", "--completion", "add1"]):
        expected = _engine(path, args, capsys)
        assert isinstance(expected, dict)
        assert _count(runner, cid, args) == expected, (name, args)


def test_an_imported_campaign_is_counted_and_published_like_any_other(app, runner, tmp_path):
    from civic.accounts.models import OutboxMessage
    from civic.voting import count as counting
    from tests.conftest import make_user

    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    cid = _import(runner, path)
    with app.app_context():
        campaign = db.session.get(Campaign, cid)
        coord = make_user("coord@example.org", roles=("coordinator",))
        counting.count_campaign(campaign, coord)
        counting.publish_results(campaign, coord)
        db.session.commit()
        statuses = {p.title: p.status for p in db.session.scalars(select(Proposal))}
        assert statuses["Jardin partagé"] == "winner"
        assert set(statuses.values()) == {"winner", "not_winner"}
        # Nobody to tell: the system account that authors imports gets no email.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient.like("%civic.invalid"))) == 0


def test_count_cli_on_the_apps_own_campaign_agrees_with_the_stored_count(app, runner):
    from civic.voting import count as counting
    from tests.voting.count_helpers import closed_vote

    with app.app_context():
        s, _ = closed_vote()
        for rule in ("greedy", "mes"):
            s.campaign.counting_rule = rule
            run = counting.count_envelope(s.campaign, s.city, None)
            db.session.commit()
            stored = json.loads(run.output_json)
            args = ["--rule", rule, "--tie-break", counting.TIE_BREAK,
                    "--envelope", str(s.city.id)]
            if rule == "mes":
                args += ["--completion", "add1-greedy"]
            assert _count(runner, s.campaign.id, args)["winners"] == stored["winners"]
        out = runner.invoke(args=["budget", "export-pabulib", str(s.campaign.id), "/dev/null",
                                  "--envelope", "999999"])
        assert out.exit_code != 0 and "Traceback" not in out.output
