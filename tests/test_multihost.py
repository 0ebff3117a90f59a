"""Two processes x 4 CPU devices (jax.distributed over gloo) against one
process on one device (so also the data-parallel check): same data, losses, parameters and sig_nll; a run killed in both
processes resumes to where an uninterrupted one ends."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from helpers import ROOT, read_jsonl, saved_arrays, tiny
from sigjax.data import make_dataset
from sigjax.training import train_and_evaluate

WORKER = os.path.join(ROOT, "tests", "multihost_worker.py")
# Loss and parameter agreement between 2 x 4 and 1 x 8 devices: the gradient
# all-reduce over gloo sums the two processes' partial sums in another order
# than XLA's in-process reduction, so results agree to float32 rounding, which
# training then carries along; bit-identical is not expected.
RTOL = 1e-4


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _launch(workdir, spec, overrides, *, mock_examples=0, sig_out="", devices=4):
  env = dict(os.environ, JAX_PLATFORMS="cpu",
             XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
  port = _free_port()
  return [subprocess.Popen(
      [sys.executable, WORKER, f"--coordinator=127.0.0.1:{port}", f"--process_id={p}",
       f"--workdir={workdir}", f"--spec={spec}", f"--overrides={json.dumps(overrides)}",
       f"--mock_examples={mock_examples}", f"--sig_out={sig_out}"],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for p in range(2)]


def _wait(procs, timeout=240):
  outs = [p.communicate(timeout=timeout)[0] for p in procs]
  for p, out in zip(procs, outs):
    assert p.returncode == 0, out[-3000:]
  return outs


def _assert_same_run(reference, other, steps, *, exact, rtol=RTOL):
  rows = lambda w: [r for r in read_jsonl(w) if "g_loss" in r]
  ref_rows, other_rows = rows(reference), rows(other)
  assert [r["step"] for r in other_rows] == [r["step"] for r in ref_rows] == list(range(1, steps + 1))
  for a, b in zip(ref_rows, other_rows):
    for key in ("d_loss", "g_loss"):
      np.testing.assert_allclose(b[key], a[key], rtol=0 if exact else rtol, err_msg=key)
  for a, b in zip(saved_arrays(reference, steps), saved_arrays(other, steps)):
    if exact:
      np.testing.assert_array_equal(a, b)
    else:
      np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * np.max(np.abs(a)))


GRID = {"num_steps": 6, "checkpoint_every": 1, "eval_every": 6}


def test_two_processes_equal_one_and_resume_after_kill(tmp_path):
  # Also the data-parallel check: 2 x 4 devices against 1 device, uninterrupted.
  train_and_evaluate(tiny("gmm_gansi", num_devices=1, **GRID), str(tmp_path / "one"))
  # 2 x 4 devices, kill -9 both processes mid-run, restart them.
  two = tmp_path / "two"
  procs = _launch(two, "gmm_gansi", dict(num_devices=0, **GRID), sig_out=str(tmp_path / "sig.npz"))
  deadline = time.time() + 180
  while time.time() < deadline and not (two / "checkpoints" / "2").exists():
    assert all(p.poll() is None for p in procs), procs[0].communicate()[0][-3000:]
    time.sleep(0.02)
  for p in procs:
    p.send_signal(signal.SIGKILL)
    p.wait()
  saved_steps = [int(s) for s in os.listdir(two / "checkpoints") if s.isdigit()]
  assert 2 <= max(saved_steps) < 6, saved_steps  # it was killed mid-run
  _wait(_launch(two, "gmm_gansi", dict(num_devices=0, **GRID)))
  # Same losses at every step (before and after the kill), same final parameters.
  _assert_same_run(tmp_path / "one", two, 6, exact=False)
  # Exactly one process wrote metrics (no duplicate rows) and final metrics.
  assert len(read_jsonl(two)) == len(read_jsonl(tmp_path / "one"))
  assert json.loads((two / "final_metrics.json").read_text())["step"] == 6

  # sig_nll with axis_name under shard_map across both processes = one process.
  from multihost_worker import sig_nll_inputs
  from sigjax.loss import sig_nll
  x, theta = sig_nll_inputs()
  value, grad = jax.value_and_grad(lambda t: jax.numpy.sum(sig_nll(x, t, scale=0.7)))(theta)
  saved = np.load(tmp_path / "sig.npz")
  np.testing.assert_allclose(saved["value"], value, rtol=1e-5)
  np.testing.assert_allclose(saved["grad"], grad, rtol=1e-5, atol=1e-6)


IMAGES = {"num_steps": 2, "model.dim": 8}


def test_two_processes_equal_one_device_on_images(tmp_path):
  # Images over 2 processes x 1 device (the 2 x 4 topology is the grid test's;
  # 8 conv partitions would make this the suite's slowest test) against 1 device:
  # each process reads its share, and G and D batch norm statistics are over the
  # global batch, so they must agree.
  with tfds.testing.mock_data(num_examples=64):
    train_and_evaluate(tiny("cifar10_dcgan", num_devices=1, **IMAGES,
                            **{"evals.inception.num_samples": 128}), str(tmp_path / "one"))
  assert os.path.exists(tmp_path / "one" / "samples" / "samples_00000002.png")
  # No IS/FID weights configured: the evaluation draws only the grid's 64 samples.
  assert np.load(tmp_path / "one" / "samples_final.npz")["samples"].shape[0] == 64
  _wait(_launch(tmp_path / "two", "cifar10_dcgan", dict(num_devices=0, **IMAGES),
                mock_examples=64, devices=1))
  _assert_same_run(tmp_path / "one", tmp_path / "two", 2, exact=False, rtol=1e-3)


@pytest.mark.parametrize("name", ["grid", "cifar10"])
def test_each_process_reads_only_its_share_of_the_global_batch(name):
  config = tiny("gmm_gan" if name == "grid" else "cifar10_dcgan").data
  with tfds.testing.mock_data(num_examples=64):
    whole = make_dataset(config, global_batch_size=16, seed=3)
    shares = [make_dataset(config, global_batch_size=16, seed=3, process_index=p,
                           process_count=2) for p in range(2)]
    for step in (0, 5):
      parts = [s.batch(step)["x"] for s in shares]
      assert all(len(part) == 8 for part in parts)
      np.testing.assert_array_equal(np.concatenate(parts), whole.batch(step)["x"])


def test_coordinator_unreachable_is_one_line(tmp_path):
  out = subprocess.run(
      [sys.executable, "-m", "experiments.main", "--config=configs/gmm_gan.py",
       f"--workdir={tmp_path}", f"--coordinator_address=127.0.0.1:{_free_port()}",
       "--num_processes=2", "--process_id=1", "--initialization_timeout=3"],
      cwd=ROOT, capture_output=True, text=True, timeout=120,
      env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert out.returncode == 1
  last = out.stderr.strip().splitlines()[-1]
  assert last.startswith("error: process 1 of 2 could not join the coordinator at 127.0.0.1:")
  assert "within 3 s" in last
  assert not os.listdir(tmp_path)
