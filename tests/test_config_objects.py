"""The config becomes values once: the model table, the objective settings and
the evaluators declared in config.evals, each failing with the valid choices."""

import subprocess
import sys

import pytest

from helpers import ROOT, read_jsonl, tiny
from sigjax.evaluation.evaluators import EVALUATORS, check_evals
from sigjax.models import MODELS, model_spec
from sigjax.training import train_and_evaluate
from sigjax.training.objective_builder import objective_settings


def test_model_table_takes_only_the_architectures_own_fields():
  pair = model_spec("dcgan32", {"dim": 8, "z_dim": 16})
  assert (pair.dim, pair.z_dim) == (8, 16)
  with pytest.raises(ValueError, match="model.hidden is not a field of model 'dcgan32'.*dim"):
    model_spec("dcgan32", {"hidden": (16,)})
  with pytest.raises(ValueError, match="unknown model_name 'resnet'.*mlp"):
    model_spec("resnet", {})
  with pytest.raises(ValueError, match="model.size must be one of S/M/L"):
    model_spec("dcgan28", {"size": "XL"})
  generator, discriminator = model_spec("mlp", {"hidden": (4,)}).build((2,))
  assert generator.out_dim == 2 and tuple(discriminator.hidden) == (4,)
  assert set(MODELS) == {"mlp", "dcgan28", "dcgan32"}


def test_objective_settings_name_unknown_and_bad_fields():
  assert objective_settings({"name": "sig", "si_scale": 1.0}).name == "sig"
  with pytest.raises(ValueError, match="objective.lamda is not an objective setting.*si_weight"):
    objective_settings({"lamda": 1.0})
  with pytest.raises(ValueError, match="objective.si_scale.*> 0"):
    objective_settings({"si_scale": 0.0})
  with pytest.raises(ValueError, match="objective.si_weight.*finite"):
    objective_settings({"si_weight": float("nan")})


def test_evals_entries_are_checked_before_anything_is_built():
  check_evals({"m": {"type": "grid_modes", "every": 0, "num_samples": 10}})
  with pytest.raises(ValueError, match="config.evals.m.type='fid'.*grid_modes"):
    check_evals({"m": {"type": "fid", "every": 1, "num_samples": 1}})
  with pytest.raises(ValueError, match="config.evals.m.weight is not an option.*weights"):
    check_evals({"m": {"type": "inception", "every": 1, "num_samples": 1, "weight": "x"}})
  with pytest.raises(ValueError, match="config.evals.m needs 'every'"):
    check_evals({"m": {"type": "sample_grid", "num_samples": 1}})
  assert set(EVALUATORS) == {"grid_modes", "sample_grid", "stacked_mnist", "inception"}


def test_each_evaluator_keeps_its_own_cadence(tmp_path):
  # modes every step, a second grid evaluator (its own name) only at the end.
  config = tiny("gmm_gan", num_steps=3, eval_every=1, checkpoint_every=3)
  config.evals.at_end = dict(config.evals.modes.to_dict(), every=0, num_samples=32)
  train_and_evaluate(config, str(tmp_path))
  evaluated = [r["step"] for r in read_jsonl(tmp_path) if "eval/modes" in r]
  assert evaluated == [1, 2, 3]
  assert config.evals.modes.every == 1  # follows eval_every until set on its own


def test_eval_every_override_reaches_every_evaluator():
  config = tiny("cifar10_dcgan")
  config.eval_every = 7
  assert config.evals.samples.every == config.evals.inception.every == 7
  config.evals.samples.every = 3
  assert (config.eval_every, config.evals.inception.every) == (7, 7)


def test_bad_values_fail_before_any_work(tmp_path):
  cases = {"optim.g_lr": float("nan"), "optim.d_lr": -1e-4, "optim.b1": 1.0,
           "data.std": 0.0, "model.d_norm": "batch", "model.nonsense": 1,
           "optim.lr_final_fraction": 1.5}
  for key, value in cases.items():
    config = tiny("gmm_gan")
    config.unlock()
    section, field = key.split(".")
    config[section][field] = value
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
      train_and_evaluate(config, str(tmp_path / field))
    assert not (tmp_path / field).exists(), key


def test_show_config_prints_every_key_and_its_value():
  out = subprocess.run([sys.executable, "-m", "experiments.main", "--config=configs/gmm_gansi.py",
                        "--config.objective.si_weight=0.5", "--show_config"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "si_weight: 0.5" in out.stdout and "protocol_samples: 2500" in out.stdout
  assert "model_name: mlp" in out.stdout
