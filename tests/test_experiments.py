"""Helpers of the reproduction scripts."""

import os

import pytest

from experiments.config_cli import load_config_file, set_by_path, unknown_key_message
from experiments.tables import apply_overrides, combinations, markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_markdown_table_mean_and_std():
  table = markdown_table({
      "GAN": [{"eval/modes": 20, "step": 1}, {"eval/modes": 22}],
      "SIG": [{"eval/modes": 25}],
  })
  lines = table.strip().splitlines()
  assert lines[0] == "| model | modes | seeds |"
  assert lines[2] == "| GAN | 21 ± 1 | 2 |"
  assert lines[3] == "| SIG | 25 ± 0 | 1 |"


def test_apply_overrides_types_and_unknown_keys():
  config = load_config_file(os.path.join(ROOT, "configs", "gmm_gan.py"))
  apply_overrides(config, ["num_steps=7", "objective.si_weight=0.5", "data.name=ring"])
  assert config.num_steps == 7 and config.objective.si_weight == 0.5 and config.data.name == "ring"
  with pytest.raises(ValueError, match="'objective.lamda'.*si_weight"):
    apply_overrides(config, ["objective.lamda=1"])
  assert unknown_key_message(config, "optim.g_lr") is None


def test_sweep_combinations_are_the_product_of_the_grid():
  assert combinations(["a=1,2", "b=x,y"]) == [["a=1", "b=x"], ["a=1", "b=y"], ["a=2", "b=x"],
                                              ["a=2", "b=y"]]
  assert combinations([]) == [[]]
  with pytest.raises(ValueError, match="key=v1,v2"):
    combinations(["a"])


def test_set_by_path_names_unknown_keys_unless_allowed():
  config = load_config_file(os.path.join(ROOT, "configs", "gmm_gan.py"))
  set_by_path(config, "evals.modes.num_samples", 9)
  assert config.evals.modes.num_samples == 9
  with pytest.raises(KeyError, match="'evals.modes.num_sample'.*num_samples"):
    set_by_path(config, "evals.modes.num_sample", 9)
  set_by_path(config, "model.nothing", 1, missing_ok=True)
  assert "nothing" not in config.model


def test_markdown_table_follows_the_given_column_order():
  table = markdown_table({"real": [{"eval/kl": 0.0, "eval/modes": 1000}]}, ["modes", "fid", "kl"])
  assert table.splitlines()[0] == "| model | modes | fid | kl | seeds |"
  assert table.splitlines()[2] == "| real | 1000 ± 0 | n/a | 0 ± 0 | 1 |"
