"""The real train loop, 1-4 steps at a time, on tiny configs and mock data."""

import json
import os
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from helpers import ROOT, read_jsonl, tiny
from sigjax.data.images import DataNotPreparedError
from sigjax.training import train_and_evaluate
from sigjax.training.loop import NonFiniteLossError

CONFIGS = {
    # gmm_gansi trains in test_resume_matches_uninterrupted_run and tests/test_multihost.py.
    "gmm_gan": {}, "gmm_sig": {},
    # Stacked-MNIST scoring has its own test (test_evaluation.py).
    "stacked_mnist_dcgan:S": {"evals.stacked_mnist.classifier_workdir": ""},
    "stacked_mnist_dcgan_si:L": {"evals.stacked_mnist.classifier_workdir": ""},
    # cifar10_dcgan trains in tests/test_multihost.py (1 device and 2 x 4).
    "cifar10_dcgan_si": {"model.dim": 8},
    "cifar10_wgangp": {"model.dim": 8, "objective.n_critic": 2},
    "cifar10_wgangp_si": {"model.dim": 8, "objective.n_critic": 2},
    "mnist_classifier": {},
}


@pytest.mark.parametrize("spec", sorted(CONFIGS))
def test_every_config_trains_two_steps(spec, tmp_path):
  config = tiny(spec, **CONFIGS[spec])
  with tfds.testing.mock_data(num_examples=64):
    train_and_evaluate(config, str(tmp_path))
  rows = read_jsonl(tmp_path)
  assert [r["step"] for r in rows if "eval/test_accuracy" not in r][:2] == [1, 2]
  assert os.path.isdir(tmp_path / "checkpoints" / "2")
  assert os.listdir(tmp_path / "tensorboard")
  if spec.startswith("gmm"):
    final = rows[-1]
    assert {"eval/modes", "eval/high_quality", "eval/reverse_kl", "eval/modes_with_mass"} <= set(final)
    assert 0 <= final["eval/modes"] <= 25
    assert os.path.exists(tmp_path / "samples" / "scatter_00000002.png")
    saved = np.load(tmp_path / "samples_final.npz")
    assert saved["samples"].shape == (config.evals.modes.num_samples, 2) and int(saved["step"]) == 2
  elif spec != "mnist_classifier":
    assert os.path.exists(tmp_path / "samples" / "samples_00000002.png")
    # No scorer configured here: the evaluation draws only the grid's 64 samples.
    assert np.load(tmp_path / "samples_final.npz")["samples"].shape[0] == 64
    if "_si" in spec:
      assert np.isfinite(rows[0]["sig_nll"])
  else:
    assert 0 <= rows[-1]["eval/test_accuracy"] <= 1


def _params(state):
  return jax.tree.leaves(jax.device_get((state.g_params, state.d_params, state.g_opt_state)))


def test_resume_matches_uninterrupted_run(tmp_path):
  straight = train_and_evaluate(tiny("gmm_gansi", num_steps=4), str(tmp_path / "a"))
  train_and_evaluate(tiny("gmm_gansi", num_steps=2), str(tmp_path / "b"))
  resumed = train_and_evaluate(tiny("gmm_gansi", num_steps=4), str(tmp_path / "b"))
  assert int(resumed.step) == 4
  for a, b in zip(_params(straight), _params(resumed)):
    np.testing.assert_array_equal(a, b)
  # Rerunning a finished run evaluates it again and changes nothing.
  again = train_and_evaluate(tiny("gmm_gansi", num_steps=4), str(tmp_path / "b"))
  assert int(again.step) == 4
  with open(tmp_path / "b" / "final_metrics.json") as f:
    assert json.load(f)["eval/modes"] >= 0


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
  train_and_evaluate(tiny("gmm_gan", num_steps=2), str(tmp_path))
  with pytest.raises(NonFiniteLossError, match="last good checkpoint is step 2"):
    # An absurd learning rate overflows the parameters within a step or two.
    train_and_evaluate(tiny("gmm_gan", num_steps=6, **{"optim.g_lr": 1e38, "optim.d_lr": 1e38}),
                       str(tmp_path), allow_config_change=True)
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["2"]
  # Back to the first config (the workdir now records the changed one).
  state = train_and_evaluate(tiny("gmm_gan", num_steps=2), str(tmp_path), allow_config_change=True)
  assert int(state.step) == 2
  assert all(np.all(np.isfinite(x)) for x in _params(state))


def test_offline_without_prepared_data_fails_fast(tmp_path):
  config = tiny("stacked_mnist_dcgan:S", **{"data.data_dir": str(tmp_path / "empty"),
                                            "evals.stacked_mnist.classifier_workdir": ""})
  start = time.time()
  with pytest.raises(DataNotPreparedError, match="(?s)not prepared.*prepare_data"):
    train_and_evaluate(config, str(tmp_path / "wd"))
  assert time.time() - start < 30


def test_bad_config_values_are_named(tmp_path):
  with pytest.raises(ValueError, match="objective.si_weight"):
    train_and_evaluate(tiny("gmm_gansi", **{"objective.si_weight": -1.0}), str(tmp_path))
  with pytest.raises(ValueError, match="objective.name"):
    train_and_evaluate(tiny("gmm_gansi", **{"objective.name": "vae"}), str(tmp_path))


def _main(*args, timeout=120):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  return subprocess.run([sys.executable, "-m", "experiments.main", *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=timeout, env=env)


def test_cli_unknown_override_lists_valid_keys(tmp_path):
  result = _main("--config=configs/gmm_gan.py", f"--workdir={tmp_path}",
                 "--config.objective.si_wieght=1")
  assert result.returncode != 0
  assert "unknown config key 'objective.si_wieght'" in result.stderr
  assert "si_weight" in result.stderr


def test_cli_runs_and_sigterm_saves_a_checkpoint(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1")
  proc = subprocess.Popen(
      [sys.executable, "-m", "experiments.main", "--config=configs/gmm_gan.py",
       f"--workdir={tmp_path}", "--config.num_steps=1000000", "--config.log_every=10",
       "--config.checkpoint_every=1000000", "--config.eval_every=1000000"],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  metrics = tmp_path / "metrics.jsonl"
  deadline = time.time() + 90
  while not (metrics.exists() and metrics.read_text()) and time.time() < deadline:
    time.sleep(0.2)
  proc.terminate()  # SIGTERM, as a preemptible VM gets
  out, _ = proc.communicate(timeout=60)
  # Preempted is not finished: exit 143 (128 + SIGTERM), no final_metrics.json.
  assert proc.returncode == 143, out[-2000:]
  assert "SIGTERM at step" in out and "Rerun the same command to resume" in out
  assert not (tmp_path / "final_metrics.json").exists()
  saved = [int(s) for s in os.listdir(tmp_path / "checkpoints")]
  assert len(saved) == 1 and 10 <= saved[0] < 1000000


def test_lr_final_fraction_decays_both_rates_along_a_cosine():
  import optax

  from sigjax.training.state import make_optimizers

  steps, n_critic = 10, 5
  g_tx, d_tx = make_optimizers(g_lr=1e-3, d_lr=4e-3, b1=0.0, b2=0.0, num_steps=steps,
                               n_critic=n_critic, lr_final_fraction=0.1)

  def rates(tx, updates):
    # Adam with b1 = b2 = 0 turns a gradient of ones into a step of -lr.
    params = np.zeros(3, np.float32)
    state, out = tx.init(params), []
    for _ in range(updates + 1):
      update, state = tx.update(np.ones(3, np.float32), state, params)
      out.append(-float(update[0]))
    return np.array(out)

  cosine = lambda t, total: 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * np.minimum(t, total) / total))
  np.testing.assert_allclose(rates(g_tx, steps), 1e-3 * cosine(np.arange(steps + 1), steps),
                             rtol=1e-4)
  # The critic's updates are n_critic per step: it reaches the floor at num_steps too.
  d = rates(d_tx, steps * n_critic)
  np.testing.assert_allclose(d[::n_critic], 4e-3 * cosine(np.arange(steps + 1), steps), rtol=1e-4)
  # 1.0 keeps constant float rates (no schedule counter in the optimiser state).
  g_const, _ = make_optimizers(g_lr=1e-3, d_lr=1e-3, b1=0.5, b2=0.9, lr_final_fraction=1.0)
  assert jax.tree.structure(g_const.init(np.zeros(3))) == jax.tree.structure(
      optax.adam(1e-3, b1=0.5, b2=0.9).init(np.zeros(3)))


@pytest.mark.parametrize("spec, decaying", [
    ("gmm_gan", {"optim.lr_final_fraction": 0.1}),
    ("gmm_gansi", {"objective.si_weight_final_fraction": 0.0,
                   "objective.si_scale_final_fraction": 0.5}),
])
def test_a_decaying_schedule_makes_num_steps_part_of_the_experiment(tmp_path, spec, decaying):
  from sigjax.training.workdir import WorkdirConfigMismatch

  train_and_evaluate(tiny(spec, num_steps=2, **decaying), str(tmp_path))
  with pytest.raises(WorkdirConfigMismatch, match="num_steps"):
    train_and_evaluate(tiny(spec, num_steps=3, **decaying), str(tmp_path))
  state = train_and_evaluate(tiny(spec, num_steps=2, **decaying), str(tmp_path))
  assert int(state.step) == 2


def test_a_workdir_recorded_before_a_field_existed_still_resumes(tmp_path):
  # Runs recorded before optim.lr_final_fraction, objective.si_num_samples and
  # the SI schedules existed read them as constant, the batch, and no floor.
  train_and_evaluate(tiny("gmm_gan", num_steps=2), str(tmp_path))
  path = tmp_path / "config.json"
  stored = json.loads(path.read_text())
  del stored["optim"]["lr_final_fraction"]
  for field in ("si_num_samples", "si_weight_final_fraction", "si_scale_final_fraction",
                "min_scale"):
    del stored["objective"][field]
  path.write_text(json.dumps(stored))
  assert int(train_and_evaluate(tiny("gmm_gan", num_steps=3), str(tmp_path)).step) == 3
  # ... and a run that asks for a decay is another experiment.
  path.write_text(json.dumps(stored))
  from sigjax.training.workdir import WorkdirConfigMismatch
  with pytest.raises(WorkdirConfigMismatch, match="lr_final_fraction"):
    train_and_evaluate(tiny("gmm_gan", num_steps=3, **{"optim.lr_final_fraction": 0.5}),
                       str(tmp_path))
