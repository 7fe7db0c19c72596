"""Rule kinds as typed models (parse, serialise, label = reasons), one evaluate() for decisions and funnel,
signal family versions derived from code, and one executor policy for every refine entry point."""

from __future__ import annotations

import importlib
import sys
import uuid

import numpy as np
import pandas as pd
import pytest

from core.refine import service
from core.refine.executor import InProcessExecutor, ProcessPoolExecutor
from core.refine.pipeline import POOL_MIN_ITEMS, executor_for
from core.refine.recipe import RecipeError, parse_recipe, recipe_from_yaml
from core.refine.rule_kinds import parse_rule, rule_kinds
from core.refine.rule_kinds.base import LABEL_SEPARATOR
from core.refine.rules import evaluate
from core.refine.signals import base as signal_base
from core.refine.signals.base import SignalFamily, code_files
from core.refine.signals.families import _listing, default_registry

KINDS = sorted(rule_kinds())


def varied_signals() -> pd.DataFrame:
    """Twelve items that every example rule drops some of (and keeps some of)."""
    n = 12
    return pd.DataFrame({
        "id": [f"s{k:02d}" for k in range(n)],
        "text_length": [50, 500] * 6,
        "quality": np.linspace(0.1, 0.95, n),
        "language": ["en", "de", "fr", "en"] * 3,
        "language_confidence": [0.9, 0.3, 0.9] * 4,
        "content_type": ["article", "boilerplate", "code", "article"] * 3,
        "pii_count": [0, 0, 1] * 4,
        "duplicate_cluster": ["a", "a", "b", "c", "c", "c", "d", "e", "f", "g", "h", "i"],
        # semantic neighbours (ids, cosines): s07 and s08 mean the same, s09 only loosely resembles s10
        "semantic_neighbour_ids": [[]] * 7 + [["s08"], ["s07"], ["s10"], ["s09"], []],
        "semantic_neighbour_similarities": [[]] * 7 + [[0.9], [0.9], [0.4], [0.4], []],
        "signal_errors": [""] * n,
    })


def test_every_kind_has_an_example_and_a_literal_name():
    assert {"min_length", "threshold", "languages", "values", "pii", "duplicates"} <= set(KINDS)
    for kind, model in rule_kinds().items():
        assert model.example is not None, f"rule kind {kind} needs an example body"
        assert model.model_fields["kind"].default == kind


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_round_trips_through_recipe_and_flat_forms(kind):
    raw = {kind: rule_kinds()[kind].example}
    rule = parse_rule(raw, 1)
    assert type(rule) is rule_kinds()[kind] and rule.kind == kind
    assert rule.to_dict() == raw  # the recipe (YAML) form comes back as written
    assert parse_rule(rule.to_dict(), 1) == rule
    assert parse_rule(rule.model_dump(), 1) == rule  # the flat form parses through the discriminated union
    recipe = parse_recipe({"name": "rt", "rules": [raw]})
    assert recipe_from_yaml(recipe.to_yaml()) == recipe and recipe_from_yaml(recipe.to_yaml()).hash == recipe.hash


@pytest.mark.parametrize("kind", KINDS)
def test_label_is_the_reasons_a_rule_drops_with(kind):
    rule = parse_rule({kind: rule_kinds()[kind].example}, 1)
    recipe = parse_recipe({"name": "labels", "rules": [rule.to_dict()]})
    decisions, funnel = evaluate(varied_signals(), recipe)
    given = set(decisions.loc[~decisions["kept"], "drop_reason"])
    assert given, "the example must drop something for this test to mean anything"
    assert funnel[-1]["rule"] == rule.label
    terms = rule.label.split(LABEL_SEPARATOR)
    assert terms == list(rule.reasons())
    assert given <= set(terms)  # every reason an item gets is one term of the label: no second vocabulary


def test_threshold_label_and_reason_agree_where_they_used_to_differ():
    rule = parse_rule({"threshold": {"column": "quality", "min": 0.6}}, 1)
    decisions, funnel = evaluate(varied_signals(), parse_recipe({"name": "q", "rules": [rule.to_dict()]}))
    assert rule.label == "min_quality<0.6" and funnel[-1]["rule"] == "min_quality<0.6"
    assert set(decisions.loc[~decisions["kept"], "drop_reason"]) == {"min_quality<0.6"}


def test_bad_bodies_name_the_rule_and_the_problem():
    with pytest.raises(RecipeError, match=r"rule 3 \(threshold\): 'min': Input should be a valid number"):
        parse_rule({"kind": "threshold", "column_name": "quality", "min": "high"}, 3)
    with pytest.raises(RecipeError, match=r"rule 1 \(values\): needs 'column' and exactly one"):
        parse_rule({"values": {"column": "x", "allow": ["a"], "exclude": ["b"]}}, 1)
    with pytest.raises(RecipeError, match="at most one 'pii' rule"):
        parse_recipe({"name": "two", "rules": [{"pii": "drop"}, {"pii": "keep"}]})


@pytest.mark.parametrize("kind", KINDS)
def test_controls_describe_the_rule_and_give_it_back_unchanged(kind):
    """What a page draws for a rule: controls seeded with the rule's values, whose values make the same rule."""
    rule = parse_rule({kind: rule_kinds()[kind].example}, 1)
    controls = rule.controls(varied_signals())
    assert controls and all(c.widget in ("slider", "multiselect", "selectbox") for c in controls)
    for control in controls:
        if control.widget == "slider":
            assert control.low <= control.value <= control.high
        elif control.widget == "selectbox":
            assert control.value in control.options
        else:
            assert set(control.value) <= set(control.options)
    untouched = {control.name: control.value for control in controls}
    assert parse_rule({kind: rule.body_from_controls(untouched)}, 1) == rule


def test_one_evaluate_gives_decisions_and_funnel_that_agree():
    recipe = parse_recipe({"name": "all", "rules": [{k: rule_kinds()[k].example} for k in KINDS]})
    decisions, funnel = evaluate(varied_signals(), recipe)
    assert funnel[-1]["remaining"] == int(decisions["kept"].sum())
    assert sum(step["dropped"] for step in funnel) == int((~decisions["kept"]).sum())
    reasons = decisions.loc[~decisions["kept"], "drop_reason"]
    for step in funnel:
        assert step["dropped"] == int(reasons.isin(step["rule"].split(LABEL_SEPARATOR)).sum()), step


def test_preview_evaluates_the_recipe_once(monkeypatch):
    calls = []
    real = service.evaluate

    def counting(signals, recipe):
        calls.append(recipe.hash)
        return real(signals, recipe)

    monkeypatch.setattr(service, "evaluate", counting)
    recipe = parse_recipe({"name": "once", "rules": [{"min_length": 100}]})
    outcome = service.preview(varied_signals(), recipe)
    assert calls == [recipe.hash]
    assert outcome["funnel"][-1]["remaining"] == int(outcome["decisions"]["kept"].sum()) == 6


# --- signal family versions ------------------------------------------------------------------------------
def _write_package(root, name: str, parser_body: str) -> None:
    package = root / name
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "parser.py").write_text(f"def parse(text):\n    return {parser_body}\n")
    (package / "unrelated.py").write_text("def other():\n    return 1\n")
    (package / "signal.py").write_text(
        "import pandas as pd\n\n"
        f"from {name}.parser import parse\n\n"
        "COLUMN = 'parsed'\n\n\n"
        "def compute(items, params, upstream):\n"
        "    return pd.DataFrame({COLUMN: [parse(t) for t in items['text']]}, index=items.index)\n"
    )


def _family_version(name: str) -> str:
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    signal = importlib.import_module(f"{name}.signal")
    return SignalFamily.from_code("parsed", signal.compute, ("parsed",)).version


def test_family_version_follows_the_code_it_uses_transitively(tmp_path, monkeypatch):
    name = f"famcode_{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(signal_base, "FIRST_PARTY", (*signal_base.FIRST_PARTY, name))
    _write_package(tmp_path, name, "len(text)")
    first = _family_version(name)
    assert _family_version(name) == first  # stable while nothing changes
    (tmp_path / name / "unrelated.py").write_text("def other():\n    return 2\n")
    assert _family_version(name) == first  # code the family does not use does not invalidate it
    _write_package(tmp_path, name, "len(text.strip())")  # the parser the compute function imports changed
    assert _family_version(name) != first
    second = _family_version(name)
    signal_path = tmp_path / name / "signal.py"
    signal_path.write_text(signal_path.read_text().replace("COLUMN = 'parsed'", "COLUMN = 'parsed_v2'"))
    assert _family_version(name) != second  # a constant the compute function reads


def test_listing_family_version_covers_the_price_parser():
    """The stale version of issue #18: the listing family follows core/sources/standardize.py's parser."""
    assert "core.sources.standardize" in code_files(_listing)
    versions = default_registry().versions()
    assert set(versions) >= {"listing", "language", "content_type", "duplicates", "media", "pii", "quality"}
    assert all(len(v) == 8 for v in versions.values())


# --- one executor policy -----------------------------------------------------------------------------------
def test_one_executor_policy_for_every_entry_point():
    assert isinstance(executor_for(POOL_MIN_ITEMS - 1), InProcessExecutor)
    assert isinstance(executor_for(10, workers=1), InProcessExecutor)
    with executor_for(POOL_MIN_ITEMS) as pool:
        assert isinstance(pool, ProcessPoolExecutor) and pool.workers == 2
    with pytest.raises(ValueError, match="workers must be within"):
        executor_for(10, workers=0)
    with pytest.raises(ValueError, match="workers must be within"):
        executor_for(10, workers=10_000)


def test_refine_command_takes_workers_and_no_cache_in_every_mode():
    import argparse

    from core.refine import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    dataset = parser.parse_args(["refine", "--dataset", "d", "--workers", "1", "--no-cache"])
    assert (dataset.dataset, dataset.workers, dataset.no_cache) == ("d", 1, True)
    file_mode = parser.parse_args(["refine", "in.jsonl", "--out", "o"])
    assert (file_mode.workers, file_mode.no_cache) == (None, False)
