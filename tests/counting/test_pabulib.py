"""Reading and writing Pabulib files: the quirks of real files, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic.counting import (
    Ballot,
    Instance,
    PabulibError,
    Profile,
    Project,
    format_pabulib,
    parse_pabulib,
    read_pabulib,
)

GOOD = """META
key;value
description;Test
num_projects;3
num_votes;3
budget;400000.0
vote_type;approval
max_length;2
PROJECTS
project_id;cost;votes;name;category
1;100000.0;2;"Parc ""des Enfants""; jeux";nature
2;2372571.24;1;"Odkupmy" i my - kosze;
10;0;0;Free;x
VOTES
voter_id;vote;age
a;1,2;33
b;1;
c;;40
"""


def test_reads_money_as_exact_cents_and_csv_quoted_names() -> None:
    instance, profile = parse_pabulib(GOOD)
    assert instance.budget == 40_000_000
    p1, p2, p10 = instance.projects
    assert (p1.cost, p2.cost, p10.cost) == (10_000_000, 237_257_124, 0)
    assert p1.get("name") == 'Parc "des Enfants"; jeux'
    # A field that only starts with a quote (Czestochowa 2020) reads as csv does.
    assert p2.get("name") == "Odkupmy i my - kosze"
    assert p2.get("category") is None  # empty cell
    assert [b.projects for b in profile.ballots] == [("1", "2"), ("1",), ()]
    assert profile.ballots[0].get("age") == "33"


def test_crlf_and_bom_read_the_same() -> None:
    crlf = "\ufeff" + GOOD.replace("\n", "\r\n")
    assert parse_pabulib(crlf) == parse_pabulib(GOOD)


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("a;1,2;33", "a;1,9;33"), 16, "unknown project 9"),
        (("a;1,2;33", "a;1,1;33"), 16, "twice"),
        (("a;1,2;33", "a;1,2,10;33"), 16, "max_length"),
        (("2;2372571.24", "2;12.345"), 12, "decimal places"),
        (("2;2372571.24", "2;lots"), 12, "not an amount"),
        (("b;1;", "b;1"), 17, "fields"),
        (("num_votes;3", "num_votes;4"), 5, "num_votes says 4"),
        (("10;0;0", "1;0;0"), 13, "appears twice"),
        (("vote_type;approval", "vote_type;secret"), 7, "vote_type"),
        (("PROJECTS", "PROJECT"), 9, "key;value"),
    ],
)
def test_malformed_input_names_the_line(change, line, words) -> None:
    text = GOOD.replace(*change, 1)
    with pytest.raises(PabulibError) as info:
        parse_pabulib(text)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"line {line}:")


def test_missing_sections_and_budget() -> None:
    with pytest.raises(PabulibError, match="VOTES is missing"):
        parse_pabulib(GOOD.split("VOTES")[0])
    with pytest.raises(PabulibError, match="no budget"):
        parse_pabulib(GOOD.replace("budget;400000.0\n", ""))
    with pytest.raises(PabulibError, match="start with META"):
        parse_pabulib("hello\n" + GOOD)


CUMULATIVE = """META
key;value
budget;100
vote_type;cumulative
max_sum_points;10
PROJECTS
project_id;cost
1;60
2;50
VOTES
voter_id;vote;points
1;1,2;6,4
2;2;{points}
"""


def test_cumulative_points_are_checked() -> None:
    _, profile = parse_pabulib(CUMULATIVE.format(points="10"))
    assert profile.ballots[0].points == (6, 4)
    with pytest.raises(PabulibError, match="max_sum_points") as info:
        parse_pabulib(CUMULATIVE.format(points="11"))
    assert info.value.line == 13
    with pytest.raises(PabulibError, match="1 projects but 2 points"):
        parse_pabulib(CUMULATIVE.format(points="5,5"))


def test_unreadable_file_is_a_domain_error(tmp_path) -> None:
    with pytest.raises(PabulibError, match="cannot read"):
        read_pabulib(tmp_path / "absent.pb")
    bad = tmp_path / "latin1.pb"
    bad.write_bytes(GOOD.replace("Test", "Tést").encode("latin-1"))
    with pytest.raises(PabulibError, match="UTF-8") as info:
        read_pabulib(bad)
    assert info.value.line == 3


# ------------------------------------------------------------ lossless round trip

ids = st.text(alphabet="abcXYZ0123456789-_.", min_size=1, max_size=6)
cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=12,
)
meta_values = cells.map(str.strip)


@st.composite
def elections(draw):
    project_ids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    projects = tuple(
        Project(
            id=pid,
            cost=draw(st.integers(0, 10**12)),
            extra=tuple(
                (k, draw(cells))
                for k in draw(st.sampled_from([(), ("name",), ("name", "x")]))
            ),
        )
        for pid in project_ids
    )
    meta = tuple(
        (k, draw(meta_values))
        for k in draw(
            st.lists(
                st.sampled_from(["description", "unit", "rule", "comment"]), unique=True
            )
        )
    )
    instance = Instance(
        budget=draw(st.integers(0, 10**13)), projects=projects, meta=meta
    )
    ballots = []
    for i in range(draw(st.integers(0, 8))):
        chosen = draw(st.lists(st.sampled_from(project_ids), unique=True))
        extra = tuple(("age", draw(cells)) for _ in range(draw(st.integers(0, 1))))
        ballots.append(Ballot(projects=tuple(chosen), voter_id=f"v{i}", extra=extra))
    return instance, Profile(ballots=tuple(ballots))


@settings(max_examples=150, deadline=None)
@given(elections())
def test_writer_then_reader_is_lossless(election) -> None:
    instance, profile = election
    again = parse_pabulib(format_pabulib(instance, profile))
    assert again == (instance, profile)


def test_every_sample_round_trips(samples) -> None:
    for path in sorted(samples.glob("*.pb")):
        instance, profile = read_pabulib(path)
        assert parse_pabulib(format_pabulib(instance, profile)) == (instance, profile)


def test_identical_votes_share_a_tuple_but_keep_their_own_columns() -> None:
    """The reader builds one tuple per distinct vote and per distinct set of
    extra columns; each ballot still reads as written, and a bad vote is
    reported on the first line that has it."""
    text = (
        "META\nkey;value\nbudget;10\nvote_type;approval\n"
        "PROJECTS\nproject_id;cost\n1;5\n2;5\n"
        "VOTES\nvoter_id;vote;age;sex\n"
        "a;1,2;30;F\nb;1,2;40;\nc;2;30;F\nd;1,2;30;F\n"
    )
    _, profile = parse_pabulib(text)
    a, b, c, d = profile.ballots
    assert a.projects == b.projects == d.projects == ("1", "2") and c.projects == ("2",)
    assert a.projects is d.projects
    assert (a.extra, b.extra, c.extra) == (
        (("age", "30"), ("sex", "F")),
        (("age", "40"),),
        (("age", "30"), ("sex", "F")),
    )
    assert [x.voter_id for x in profile.ballots] == ["a", "b", "c", "d"]
    bad = text.replace("d;1,2;30;F", "d;1,1;30;F").replace("b;1,2;40;", "b;1,1;40;")
    with pytest.raises(PabulibError) as err:
        parse_pabulib(bad)
    assert err.value.line == 12  # b, the first of the two
