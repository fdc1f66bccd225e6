from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import RunConfig, load_config, parse_override
from curation.errors import ConfigError


def test_unknown_key_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inputs: [a.jsonl]\nsplit:\n  validaton: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "split.validaton" in str(err.value) and "curate init" in str(err.value)


def test_bad_value_and_bad_yaml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="near_dedup.threshold"):
        load_config(None, overrides=["near_dedup.threshold=2"])
    path = tmp_path / "broken.yaml"
    path.write_text("inputs: [a\nmodel: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml"):
        load_config(path)
    with pytest.raises(ConfigError, match="add up to 1"):
        load_config(None, overrides=["split.validation=0.5"])


def test_precedence_defaults_yaml_cli(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inputs: [data/a.jsonl]\nseed: 3\nlanguage:\n  allow: [en]\n", encoding="utf-8")
    config = load_config(path, overrides=["language.allow=[en, fr]"], values={"seed": 5})
    assert config.seed == 5 and config.language.allow == ["en", "fr"]
    assert config.inputs[0].path == str(tmp_path / "data" / "a.jsonl")  # relative to the config file
    assert config.near_dedup.threshold == 0.7  # default kept


def test_overrides_are_yaml_scalars() -> None:
    assert parse_override("a.b=0.5") == ("a.b", 0.5)
    assert parse_override("a=[x, y]") == ("a", ["x", "y"])
    assert parse_override("a=true") == ("a", True)
    with pytest.raises(ConfigError):
        parse_override("no-equals-sign")


def test_hash_ignores_where_and_how_but_not_what() -> None:
    a = RunConfig.model_validate({"inputs": ["x"], "out": "one", "runner": {"workers": 1}})
    b = RunConfig.model_validate({"inputs": ["x"], "out": "two", "runner": {"workers": 2}})
    c = RunConfig.model_validate({"inputs": ["x"], "seed": 1})
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_one_target_model() -> None:
    with pytest.raises(ConfigError, match="top-level `model:`"):
        load_config(None, overrides=["length.model=gpt-4o"])


def test_the_written_config_runs_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A run writes config.yaml beside its outputs; `curate run out/config.yaml` must reproduce the run.
    from curation.config import dump_config

    monkeypatch.chdir(tmp_path)
    config = load_config(None, values={"inputs": [str(tmp_path / "a.jsonl")], "model": "gpt-4.1-mini", "seed": 4},
                         overrides=["decontaminate.paths=[evals/e.jsonl]"])
    (tmp_path / "run").mkdir()
    path = tmp_path / "run" / "config.yaml"
    path.write_text(dump_config(config), encoding="utf-8")
    again = load_config(path)
    assert again.config_hash() == load_config(
        None, values={"inputs": [str(tmp_path / "a.jsonl")], "model": "gpt-4.1-mini", "seed": 4},
        overrides=[f"decontaminate.paths=[{tmp_path / 'evals' / 'e.jsonl'}]"]).config_hash()
    assert "gpt-4o-mini" not in path.read_text(encoding="utf-8")  # no second, unused target model


def test_a_language_name_in_allow_stops_the_run_before_any_work() -> None:
    # allow: [english] matched no detected code and dropped every record, exit 0
    with pytest.raises(ConfigError, match="'english' is not a language code.*did you mean 'en'"):
        load_config(None, overrides=["language.allow=[english]"])
    assert load_config(None, overrides=["language.allow=[EN, zh-CN, yue]"]).language.allow == ["EN", "zh-CN", "yue"]


def test_a_country_code_in_allow_and_bounds_that_drop_everything_stop_the_run_before_any_work() -> None:
    # allow: [jp] (Japan, not Japanese) and min above max each ran all the work, then rejected every record
    for code, meant in (("jp", "ja"), ("cn", "zh"), ("ua", "uk"), ("KR", "ko")):
        with pytest.raises(ConfigError, match=f"'{code}' names a country.*did you mean '{meant}'"):
            load_config(None, overrides=[f"language.allow=[{code}]"])
    with pytest.raises(ConfigError, match=r"min_tokens \(100\) is above max_tokens \(10\)"):
        load_config(None, overrides=["length.min_tokens=100", "length.max_tokens=10"])
    with pytest.raises(ConfigError, match=r"min_turns \(5\) is above max_turns \(2\)"):
        load_config(None, overrides=["turns.min_turns=5", "turns.max_turns=2"])
    # the order the keys are given in does not matter, and equal bounds are allowed
    config = load_config(None, overrides=["length.max_tokens=200", "length.min_tokens=100", "turns.max_turns=2",
                                          "turns.min_turns=2", "language.allow=[ja, uk]"])
    assert (config.length.min_tokens, config.turns.max_turns, config.language.allow) == (100, 2, ["ja", "uk"])


def test_a_misspelt_input_format_stops_the_run_before_any_work(tmp_path: Path) -> None:
    # It failed in the first worker, after the output folder and its .work shards were made.
    path = tmp_path / "c.yaml"
    path.write_text("inputs:\n  - path: a.jsonl\n    format: sharegtp\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "'inputs.0.format': unknown input format 'sharegtp' (did you mean 'sharegpt'?)" in str(err.value)
    assert "Value error" not in str(err.value)
    assert load_config(None, overrides=["inputs=[{path: a.jsonl, format: sharegpt}]"]).inputs[0].format == "sharegpt"


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    # YAML keeps the last of two keys: a second `split:` further down silently undid the first.
    path = tmp_path / "c.yaml"
    path.write_text("inputs: [a.jsonl]\nsplit:\n  train: 0.8\n  validation: 0.2\nseed: 1\nsplit:\n  test: 0.1\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.where == f"{path}:6"
    assert "the key 'split' is given twice (first on line 2)" in str(err.value)
    path.write_text("inputs: [a.jsonl]\nsplit: {train: 0.8, train: 0.9}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'train' is given twice"):
        load_config(path)
    # a merge key and a key that overrides what it merged are not a key given twice
    path.write_text("inputs: [a.jsonl]\nexact_dedup: &on {enabled: true}\nnear_dedup: {<<: *on, enabled: false}\n",
                    encoding="utf-8")
    config = load_config(path)
    assert config.exact_dedup.enabled and not config.near_dedup.enabled


def test_a_refused_key_names_its_yaml_line_unless_a_flag_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("inputs: [a.jsonl]\nseed: 0\nsplit:\n  train: 0.9\n  tst: 0.1\nnear_dedup:\n  threshold: high\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "line 5: unknown key 'split.tst'" in str(err.value)
    assert "line 7: 'near_dedup.threshold'" in str(err.value)
    # a value from --set is not on any line of the file, even where the file holds the same key
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides=["seed=x", "split.foo=1"])
    text = str(err.value)
    assert "'seed'" in text and "line 2" not in text and "line 5: unknown key 'split.tst'" in text
    assert "unknown key 'split.foo'" in text and "line 3" not in text


def test_a_folder_given_as_the_config_is_said_to_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert "is a folder, not a YAML file" in str(err.value) and "not found" not in str(err.value)
