"""Helpers of the reproduction scripts."""

import os

import pytest

from experiments.config_cli import load_config_file, unknown_key_message
from experiments.reproduce import apply_overrides, markdown_table

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
