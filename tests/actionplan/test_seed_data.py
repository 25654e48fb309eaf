"""Tests for the action-plan seed frameworks and their loader/validator (issue 6)."""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from civic.actionplan.seed_data import (  # noqa: E402
    SEEDS_DIR,
    SeedDataError,
    SeedPlan,
    count_by_kind,
    iter_nodes,
    load_seed_plan,
    load_seed_plans,
    parse_plan,
)

LE_HAVRE = "le-havre-ensemble"
HAINAUT = "porte-du-hainaut-contrat-de-ville"
SIX = "six-thematiques"

EXPECTED_COUNTS = {
    LE_HAVRE: {"priorite": 2, "orientation": 11, "action": 6},
    HAINAUT: {"axe": 7, "priorite": 20, "objectif": 50, "mesure": 126},
    SIX: {"thematique": 6, "orientation": 5, "objectif": 33},
}


@pytest.fixture(scope="module")
def plans() -> dict[str, SeedPlan]:
    """All seed plans by slug."""
    return {plan.slug: plan for plan in load_seed_plans()}


def _raw(name: str) -> dict[str, Any]:
    """A fresh decoded copy of a seed file, for breaking on purpose."""
    return json.loads((SEEDS_DIR / name).read_text(encoding="utf-8"))


def test_three_plans_are_shipped(plans: dict[str, SeedPlan]) -> None:
    """The three frameworks of the seed texts are present, one JSON file each."""
    assert set(plans) == set(EXPECTED_COUNTS)
    assert {p.file_name for p in plans.values()} == {
        "le_havre_ensemble.json",
        "porte_du_hainaut_contrat_de_ville.json",
        "six_thematiques.json",
    }


@pytest.mark.parametrize("slug", sorted(EXPECTED_COUNTS))
def test_counts_per_level(plans: dict[str, SeedPlan], slug: str) -> None:
    """The counts at each level are those documented in the seeds README."""
    assert count_by_kind(plans[slug]) == EXPECTED_COUNTS[slug]


def test_hainaut_counts_per_axe(plans: dict[str, SeedPlan]) -> None:
    """Per axe: priorities, objectives and mesures-socle as reconstructed from the 004 table."""
    per_axe = {}
    for axe in plans[HAINAUT].nodes:
        objectives = [o for p in axe.children for o in p.children]
        per_axe[axe.code] = (len(axe.children), len(objectives), sum(len(o.children) for o in objectives))
    assert per_axe == {
        "1": (2, 4, 8),
        "2": (3, 9, 24),
        "3": (2, 6, 17),
        "4": (4, 9, 27),
        "5": (3, 7, 19),
        "6": (4, 8, 19),
        "7": (2, 7, 12),
    }


def test_hainaut_objective_codes_are_the_printed_ones(plans: dict[str, SeedPlan]) -> None:
    """Every objectif opérationnel has the code printed in 004 (1-1-1 normalised to 1.1.1)."""
    codes = [v.node.code for v in iter_nodes(plans[HAINAUT]) if v.node.kind == "objectif"]
    assert codes[:4] == ["1.1.1", "1.1.2", "1.2.1", "1.2.2"]
    assert "2.1.3" in codes and "4.3.2" in codes and "7.2.2" in codes
    assert all(re.fullmatch(r"[1-7]\.[1-4]\.[1-5]", c or "") for c in codes)
    mesures = [v.node for v in iter_nodes(plans[HAINAUT]) if v.node.kind == "mesure"]
    assert all(m.code is None for m in mesures)


@pytest.mark.parametrize("slug", sorted(EXPECTED_COUNTS))
def test_codes_unique_and_consistent(plans: dict[str, SeedPlan], slug: str) -> None:
    """No duplicate codes; each code extends its parent's code by one segment."""
    codes = [v.node.code for v in iter_nodes(plans[slug]) if v.node.code]
    assert len(codes) == len(set(codes))
    for visit in iter_nodes(plans[slug]):
        if visit.node.code is None:
            continue
        if visit.parent_code is None:
            assert visit.depth == 0 and "." not in visit.node.code
        else:
            assert visit.node.code.rpartition(".")[0] == visit.parent_code


@pytest.mark.parametrize("slug", sorted(EXPECTED_COUNTS))
def test_node_keys_are_unique(plans: dict[str, SeedPlan], slug: str) -> None:
    """iter_nodes gives every node a distinct key, usable for idempotent imports."""
    keys = [v.key for v in iter_nodes(plans[slug])]
    assert len(keys) == len(set(keys))


def test_six_thematiques_depth_differs_per_branch(plans: dict[str, SeedPlan]) -> None:
    """Thématiques 1 and 5 have orientations; 2, 3, 4 and 6 carry their objectives directly."""
    plan = plans[SIX]
    with_orientations = [t.code for t in plan.nodes if all(c.kind == "orientation" for c in t.children)]
    direct = [t.code for t in plan.nodes if all(c.kind == "objectif" for c in t.children)]
    assert with_orientations == ["1", "5"]
    assert direct == ["2", "3", "4", "6"]
    derived = [v.node for v in iter_nodes(plan) if v.node.kind == "objectif"]
    assert all(n.code_derived and n.printed_code for n in derived)


def test_cross_cutting_themes_are_tags_not_branches(plans: dict[str, SeedPlan]) -> None:
    """The two transversal thématiques and Le Havre's disability inclusion are tags, never tree nodes."""
    six = plans[SIX]
    assert [t.label for t in six.cross_cutting_tags] == [
        "Égalité femmes-hommes et lutte contre les discriminations",
        "Laïcité, valeurs de la République",
    ]
    assert [len(t.objectives) for t in six.cross_cutting_tags] == [4, 3]
    le_havre = plans[LE_HAVRE]
    assert [t.id for t in le_havre.cross_cutting_tags] == ["inclusion-handicap"]
    for plan in plans.values():
        labels = {t.label.casefold() for t in plan.cross_cutting_tags}
        titles = {v.node.title.casefold() for v in iter_nodes(plan)}
        assert not labels & titles
    six_titles = " ".join(v.node.title.casefold() for v in iter_nodes(six) if v.depth == 0)
    assert "laïcité" not in six_titles and "égalité femmes" not in six_titles
    assert len(six.nodes) == 6


def test_le_havre_has_exactly_six_emblematic_actions(plans: dict[str, SeedPlan]) -> None:
    """Le Havre: the six emblematic actions, each with an expected impact, and a note on the 73 actions."""
    plan = plans[LE_HAVRE]
    actions = [v.node for v in iter_nodes(plan) if v.node.kind == "action"]
    assert [a.title for a in actions] == [
        "Le développement du sport féminin",
        "Mise en place de budgets participatifs",
        "Les bienveilleurs",
        "La Machine à Lire",
        "Conciergerie de l'emploi",
        "Orchestre Démos",
    ]
    assert all(a.expected_impact for a in actions)
    assert [len(a.expected_impact) for a in actions] == [5, 4, 4, 4, 2, 2]
    assert all(a.note and "inferred" in a.note for a in actions)
    assert "73" in plan.source_note and "not in the source" in plan.source_note
    assert plan.period is not None and (plan.period.start, plan.period.end) == (2019, 2023)
    assert plan.publics_prioritaires == ()


def test_hainaut_publics_and_call_criteria(plans: dict[str, SeedPlan]) -> None:
    """Porte du Hainaut: 002's three plan-wide publics, 004's axe-2 list, the four innovation criteria."""
    plan = plans[HAINAUT]
    plan_wide = [p.label for p in plan.publics_prioritaires if not p.scope_codes]
    assert plan_wide == [
        "Publics jeunes (préadolescents et adolescents) et jeunes adultes (18-25 ans)",
        "Jeunes familles (parents âgés de moins de 30 ans et leurs enfants)",
        "Femmes",
    ]
    axe2 = [p.label for p in plan.publics_prioritaires if p.scope_codes == ("2",)]
    assert axe2 == ["Jeunes de moins de 26 ans", "Femmes et familles monoparentales", 'Public "sous-main de justice"']
    assert plan.metadata is not None
    assert len(plan.metadata["call_criteria"]["criteria"]) == 4
    assert plan.metadata["cofinancing"]["max_percent"] == 80
    assert plan.metadata["conseils_citoyens"]["priority_quartiers_count"] == 10
    assert [a["axe_code"] for a in plan.metadata["call_orientations"]["axes"]] == [str(i) for i in range(1, 8)]
    assert all(axe.alt_titles for axe in plan.nodes)


def test_hainaut_inferred_attributions_are_flagged(plans: dict[str, SeedPlan]) -> None:
    """Objectives whose mesures were attributed by inference say so; 5.3.1 has none."""
    objectives = {v.node.code: v.node for v in iter_nodes(plans[HAINAUT]) if v.node.kind == "objectif"}
    assert objectives["5.3.1"].children == ()
    assert "No mesure-socle" in (objectives["5.3.1"].note or "")
    for code in ("1.2.1", "2.1.2", "3.2.4", "5.1.3", "6.1.2", "6.3.2"):
        assert "inferred" in (objectives[code].note or ""), code


def test_load_is_deterministic() -> None:
    """Loading twice gives equal plans (the import command relies on it for idempotency)."""
    assert load_seed_plans() == load_seed_plans()


# --- the validator rejects broken trees -------------------------------------------------


def test_rejects_parent_child_code_mismatch() -> None:
    """A 2.1.3 placed under 2.2 is reported with file and node path."""
    data = _raw("porte_du_hainaut_contrat_de_ville.json")
    data["nodes"][1]["children"][1]["children"][0]["code"] = "2.1.9"
    with pytest.raises(SeedDataError) as err:
        parse_plan(data, "broken.json")
    message = str(err.value)
    assert message.startswith("broken.json: nodes[1].children[1].children[0] (code 2.1.9)")
    assert "not consistent with parent code '2.2'" in message


def test_rejects_duplicate_code() -> None:
    """A code used twice in a plan is reported with both places."""
    data = _raw("six_thematiques.json")
    data["nodes"][1]["children"][1]["code"] = "2.1"
    with pytest.raises(SeedDataError, match=r"broken\.json: nodes\[1\]\.children\[1\] \(code 2\.1\): duplicate code '2\.1' \(already used at nodes\[1\]\.children\[0\]\)"):
        parse_plan(data, "broken.json")


def test_rejects_unknown_tag() -> None:
    """A node may only carry tags the plan declares."""
    data = _raw("le_havre_ensemble.json")
    data["nodes"][0]["children"][0]["tags"] = ["accessibilite"]
    with pytest.raises(SeedDataError, match=r"broken\.json: nodes\[0\]\.children\[0\]: unknown tag 'accessibilite' \(declared: inclusion-handicap\)"):
        parse_plan(data, "broken.json")


def test_accepts_declared_tag() -> None:
    """Tagging a node with a declared cross-cutting tag is valid."""
    data = _raw("le_havre_ensemble.json")
    data["nodes"][0]["children"][0]["tags"] = ["inclusion-handicap"]
    plan = parse_plan(data, "ok.json")
    assert plan.nodes[0].children[0].tags == ("inclusion-handicap",)


def test_rejects_level_going_up_or_too_deep() -> None:
    """A child must be of a deeper level than its parent, within the declared levels."""
    data = _raw("le_havre_ensemble.json")
    data["nodes"][0]["children"][0]["children"] = [{"kind": "orientation", "title": "x", "children": []}]
    with pytest.raises(SeedDataError, match=r"nodes\[0\]\.children\[0\]\.children\[0\]: a 'orientation' cannot sit under a 'orientation'"):
        parse_plan(data, "broken.json")
    data = _raw("le_havre_ensemble.json")
    data["nodes"][0]["children"][2]["children"][0]["children"] = [{"kind": "action", "title": "x", "children": []}]
    with pytest.raises(SeedDataError, match=r"nodes\[0\]\.children\[2\]\.children\[0\]\.children\[0\]: depth 4 exceeds the 3 declared levels"):
        parse_plan(data, "broken.json")
    data = _raw("le_havre_ensemble.json")
    data["nodes"][0]["kind"] = "mesure"
    with pytest.raises(SeedDataError, match=r"kind 'mesure' is not a declared level"):
        parse_plan(data, "broken.json")


def test_rejects_bad_public_scope_and_top_level_code() -> None:
    """Public scopes must name existing codes; top-level codes are single numbers."""
    data = _raw("porte_du_hainaut_contrat_de_ville.json")
    data["publics_prioritaires"][3]["scope_codes"] = ["9"]
    with pytest.raises(SeedDataError, match=r"scope code '9' is not a node code"):
        parse_plan(data, "broken.json")
    data = _raw("six_thematiques.json")
    data["nodes"][0]["code"] = "1.1"
    with pytest.raises(SeedDataError, match=r"top-level code '1\.1' must be a single number"):
        parse_plan(data, "broken.json")


def test_load_seed_plan_names_the_file(tmp_path: Path) -> None:
    """Errors from a file on disk carry its file name."""
    data = copy.deepcopy(_raw("six_thematiques.json"))
    data["nodes"][0]["children"][0]["children"][0]["code"] = "1.2.1"
    path = tmp_path / "bad_plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SeedDataError, match=r"^bad_plan\.json: nodes\[0\]\.children\[0\]\.children\[0\] \(code 1\.2\.1\)"):
        load_seed_plan(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SeedDataError, match=r"^bad_plan\.json: cannot read JSON"):
        load_seed_plan(path)


# --- optional cross-check against the seed texts ----------------------------------------

SHARED_DIR = Path(os.environ.get("CIVIC_SHARED_DIR", REPO_ROOT.parent / "shared"))
SEED_TEXTS = SHARED_DIR / "seeds"
# Titles where obvious PDF breakage was repaired: repaired text -> text as printed.
PDF_REPAIRS = {
    "comportements violents": "omportements violents",
    "réactivité et": "réactivitéet",
    "jeunes dans les actions": "jeunesdans les actions",
    "d'accueil et de loisirs": "d'accueilet de loisirs",
    "prioritaires en favorisant": "prioritairesen favorisant",
    "suivi social": "suivisocial",
    "formation-action": "formation- action",
}


def _norm(text: str) -> str:
    """Compare modulo whitespace, case and apostrophe/quote style."""
    for a, b in (("’", "'"), ("‘", "'"), ("«", '"'), ("»", '"')):
        text = text.replace(a, b)
    return re.sub(r"\s+", "", text).casefold()


@pytest.mark.skipif(not SEED_TEXTS.is_dir(), reason="seed texts not available (set CIVIC_SHARED_DIR)")
def test_titles_and_texts_come_from_the_seed_texts(plans: dict[str, SeedPlan]) -> None:
    """Every node title, description, expected impact, tag, public and call text is found in its source."""
    missing = []
    for plan in plans.values():
        corpus = {s.file: _norm((SEED_TEXTS / s.file).read_text(encoding="utf-8")) for s in plan.sources}
        tree_text = corpus[plan.sources[0].file]
        everything = "".join(corpus.values())
        for visit in iter_nodes(plan):
            texts = [visit.node.title, *visit.node.expected_impact, *filter(None, [visit.node.description])]
            for text in texts:
                for repaired, printed in PDF_REPAIRS.items():
                    text = text.replace(repaired, printed)
                if _norm(text) not in tree_text:
                    missing.append((plan.slug, visit.key, text))
            missing += [(plan.slug, visit.key, a.title) for a in visit.node.alt_titles if _norm(a.title) not in everything]
        for tag in plan.cross_cutting_tags:
            for text in (tag.source_text, *(o.title for o in tag.objectives)):
                if _norm(text) not in everything:
                    missing.append((plan.slug, tag.id, text))
        for public in plan.publics_prioritaires:
            if _norm(public.source_text) not in everything:
                missing.append((plan.slug, public.id, public.source_text))
        criteria = (plan.metadata or {}).get("call_criteria", {}).get("criteria", [])
        missing += [(plan.slug, "call_criteria", c) for c in criteria if _norm(c) not in everything]
        for axe in (plan.metadata or {}).get("call_orientations", {}).get("axes", []):
            items = list(axe["items"]) + [i for g in axe.get("groups", []) for i in g["items"]]
            missing += [(plan.slug, "call_orientations", i) for i in items if _norm(i) not in everything]
    assert missing == []
