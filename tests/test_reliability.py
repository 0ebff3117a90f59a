"""Runs that never lie: workdir identity and lock, unusable checkpoints, metrics
after a resume, validated local data, and kill -9 at random moments."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import orbax.checkpoint as ocp
import pytest

from helpers import ROOT, read_jsonl, saved_arrays, tiny
from sigjax.data.images import BadLocalDataError, local_source
from sigjax.training import train_and_evaluate
from sigjax.training.checkpoints import (Checkpointer, CheckpointSaveError,
                                         NoUsableCheckpointError)
from sigjax.training.workdir import WorkdirConfigMismatch, WorkdirLock, WorkdirLocked


def test_foreign_workdir_is_refused_before_anything_is_written(tmp_path):
  train_and_evaluate(tiny("gmm_gan"), str(tmp_path))
  before = (tmp_path / "config.json").read_text()
  lam = tiny("gmm_gansi").objective.si_weight
  with pytest.raises(WorkdirConfigMismatch,
                     match=re.escape(f"objective.si_weight (0.0 -> {lam})")):
    train_and_evaluate(tiny("gmm_gansi"), str(tmp_path))
  assert (tmp_path / "config.json").read_text() == before
  # Resumable keys (length, cadence, evaluation options) may change.
  state = train_and_evaluate(tiny("gmm_gan", num_steps=3, eval_every=3,
                                  **{"evals.modes.num_samples": 32}), str(tmp_path))
  assert int(state.step) == 3
  state = train_and_evaluate(tiny("gmm_gansi", num_steps=4), str(tmp_path),
                             allow_config_change=True)
  assert int(state.step) == 4 and json.loads((tmp_path / "config.json").read_text())[
      "objective"]["si_weight"] == lam


def test_a_second_live_run_in_one_workdir_is_refused(tmp_path):
  with WorkdirLock(str(tmp_path)):
    with pytest.raises(WorkdirLocked, match=f"pid {os.getpid()}"):
      train_and_evaluate(tiny("gmm_gan"), str(tmp_path))
  train_and_evaluate(tiny("gmm_gan"), str(tmp_path))  # released: runs


def test_unusable_newest_checkpoint_falls_back_to_the_previous(tmp_path, caplog):
  straight = train_and_evaluate(tiny("gmm_gan", num_steps=4), str(tmp_path / "a"))
  run = tmp_path / "b"
  train_and_evaluate(tiny("gmm_gan", num_steps=4), str(run))
  # Truncate every file of the newest checkpoint, as a full disk or a copy cut short would.
  for dirpath, _, files in os.walk(run / "checkpoints" / "4"):
    for name in files:
      with open(os.path.join(dirpath, name), "r+b") as f:
        f.truncate(max(0, os.path.getsize(os.path.join(dirpath, name)) // 3))
  resumed = train_and_evaluate(tiny("gmm_gan", num_steps=4), str(run))
  assert "Checkpoint step 4 is unusable: unreadable" in caplog.text
  assert os.path.isdir(run / "checkpoints_unusable" / "4")
  for a, b in zip(saved_arrays(tmp_path / "a", 4), saved_arrays(run, 4)):
    np.testing.assert_array_equal(a, b)
  assert int(resumed.step) == int(straight.step) == 4


def test_a_checkpoint_holding_nan_is_never_the_last_good_one(tmp_path, caplog):
  state = train_and_evaluate(tiny("gmm_gan", num_steps=2), str(tmp_path))
  import jax
  poisoned = state.replace(step=state.step + 4, g_params=jax.tree.map(
      lambda x: x * np.nan, state.g_params))
  checkpointer = Checkpointer(str(tmp_path), keep=3)
  checkpointer.save(6, poisoned)
  checkpointer.close()
  resumed = train_and_evaluate(tiny("gmm_gan", num_steps=3), str(tmp_path))
  assert "Checkpoint step 6 is unusable: it holds NaN/Inf values" in caplog.text
  assert int(resumed.step) == 3
  # Nothing usable at all: one clear error, nothing deleted.
  for step in os.listdir(tmp_path / "checkpoints"):
    for dirpath, _, files in os.walk(tmp_path / "checkpoints" / step):
      for name in files:
        open(os.path.join(dirpath, name), "w").close()
  with pytest.raises(NoUsableCheckpointError, match="None of the checkpoints"):
    train_and_evaluate(tiny("gmm_gan", num_steps=3), str(tmp_path))


def test_resumed_metrics_have_no_repeated_rows_and_reevaluation_keeps_them(tmp_path):
  train_and_evaluate(tiny("gmm_gan", num_steps=4), str(tmp_path))
  # As if killed after step 4's metrics were written but before its checkpoint.
  import shutil
  shutil.rmtree(tmp_path / "checkpoints" / "4")
  train_and_evaluate(tiny("gmm_gan", num_steps=4), str(tmp_path))
  steps = [r["step"] for r in read_jsonl(tmp_path) if "d_loss" in r]
  assert steps == [1, 2, 3, 4]
  train_and_evaluate(tiny("gmm_gan", num_steps=4), str(tmp_path))  # finished: evaluates again
  final = json.loads((tmp_path / "final_metrics.json").read_text())
  assert {"d_loss", "g_loss", "eval/modes"} <= set(final) and final["step"] == 4


def test_a_failed_save_is_one_line_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
  train_and_evaluate(tiny("gmm_gan", num_steps=2), str(tmp_path))

  def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(ocp.CheckpointManager, "save", disk_full)
  with pytest.raises(CheckpointSaveError,
                     match=r"step 4 .*No space left on device.*step 2 is the last good one"):
    train_and_evaluate(tiny("gmm_gan", num_steps=4), str(tmp_path))
  assert os.listdir(tmp_path / "checkpoints") == ["2"]


def _npz(tmp_path, name, **arrays):
  path = tmp_path / name
  np.savez(path, **arrays)
  return str(path)


def test_local_data_is_checked_and_converted(tmp_path):
  rng = np.random.default_rng(0)
  unit = rng.uniform(0, 1, (4, 8, 8, 3)).astype(np.float32)
  source = local_source(_npz(tmp_path, "unit.npz", x_train=unit), "train")
  x = source.to_unit(source[0]["image"])
  np.testing.assert_allclose(x, unit[0] * 2 - 1, rtol=1e-6)  # [0, 1] is not a constant -1
  nchw = local_source(_npz(tmp_path, "nchw.npz", x_train=(unit * 255).astype(np.uint8)
                           .transpose(0, 3, 1, 2)), "train")
  assert nchw[0]["image"].shape == (8, 8, 3)
  gray = local_source(_npz(tmp_path, "gray.npz", x_train=np.zeros((4, 8, 8), np.uint8)), "train")
  assert gray[0]["image"].shape == (8, 8, 1)
  bad = {
      "NaN or Inf": dict(x_train=np.full((4, 8, 8, 3), np.nan, np.float32)),
      r"\[0, 255\]: save them as uint8": dict(x_train=unit * 255),
      "is empty": dict(x_train=np.zeros((0, 8, 8, 3), np.uint8)),
      r"has shape \(4, 8\)": dict(x_train=np.zeros((4, 8), np.uint8)),
      "has no array x_train": dict(images=np.zeros((4, 8, 8, 3), np.uint8)),
  }
  for i, (message, arrays) in enumerate(bad.items()):
    with pytest.raises(BadLocalDataError, match=message):
      local_source(_npz(tmp_path, f"bad{i}.npz", **arrays), "train")
  np.save(tmp_path / "x.npy", unit)
  with pytest.raises(BadLocalDataError, match="not an .npz archive"):
    local_source(str(tmp_path / "x.npy"), "train")


def test_grayscale_data_for_an_rgb_model_is_refused_with_the_shape(tmp_path):
  path = _npz(tmp_path, "gray32.npz", x_train=np.zeros((64, 32, 32), np.uint8))
  config = tiny("cifar10_dcgan", **{"data.name": "local", "data.path": path, "model.dim": 8})
  with pytest.raises(ValueError, match=r"makes 32x32x3 images.*\(32, 32, 1\)"):
    train_and_evaluate(config, str(tmp_path / "wd"))


def test_missing_config_file_is_one_line():
  out = subprocess.run([sys.executable, "-m", "experiments.main", "--config=configs/nope.py",
                        "--workdir=unused"], cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert out.returncode == 1
  assert out.stderr.strip().splitlines() == [
      "error: config file 'configs/nope.py' does not exist (--config=path/to/config.py[:arg])."]


TINY_CLI = ["--config.model.hidden=(16,16)",
            "--config.model.d_hidden=(16,16)", "--config.batch_size=16",
            "--config.evals.modes.num_samples=64", "--config.eval_batch_size=64",
            "--config.log_every=1", "--config.checkpoint_every=1", "--config.eval_every=1000000",
            "--config.optim.lr_final_fraction=1.0"]  # resumed to more steps


def _cli(workdir, steps):
  return [sys.executable, "-m", "experiments.main", f"--workdir={workdir}",
          "--config=configs/gmm_gan.py", f"--config.num_steps={steps}", *TINY_CLI]


def test_kill_9_at_random_moments_resumes_bit_identical(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  steps, rng = 16, np.random.default_rng(0)
  # The same run uninterrupted, in this process (the CLI flags above, as overrides).
  train_and_evaluate(tiny("gmm_gan", num_steps=steps, checkpoint_every=steps,
                          **{"model.d_hidden": (16, 16)}), str(tmp_path / "straight"))
  run = tmp_path / "killed"
  metrics = run / "metrics.jsonl"
  for _ in range(2):
    proc = subprocess.Popen(_cli(run, steps), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    start_rows = len(metrics.read_text().splitlines()) if metrics.exists() else 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
      if metrics.exists() and len(metrics.read_text().splitlines()) > start_rows:
        break
      time.sleep(0.05)
    time.sleep(rng.uniform(0, 0.5))  # somewhere in the middle of steps and saves
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.endswith("}")]
    logged = max(r["step"] for r in rows)
    latest = max((int(s) for s in os.listdir(run / "checkpoints") if s.isdigit()), default=0)
    assert latest >= logged - 1, (latest, logged)  # lost at most checkpoint_every steps
  subprocess.run(_cli(run, steps), cwd=ROOT, env=env, check=True, capture_output=True,
                 timeout=300)
  for a, b in zip(saved_arrays(tmp_path / "straight", steps), saved_arrays(run, steps)):
    np.testing.assert_array_equal(a, b)
  assert [r["step"] for r in read_jsonl(run) if "d_loss" in r] == list(range(1, steps + 1))
