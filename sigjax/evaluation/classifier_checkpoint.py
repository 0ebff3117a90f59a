"""Loads the MNIST classifier that labels Stacked-MNIST channels from its run's workdir.

It lives in evaluation (not training), because evaluation is what reads it:
training only writes checkpoints, and nothing here imports the trainer.
"""

from __future__ import annotations

import os

import jax


def load_classifier_params(workdir: str) -> dict:
  """The params of the latest checkpoint in ``workdir`` (a configs/mnist_classifier.py run's).

  Raises FileNotFoundError naming the command that trains one.
  """
  import orbax.checkpoint as ocp

  directory = os.path.abspath(os.path.join(os.path.expanduser(workdir), "checkpoints"))
  manager = ocp.CheckpointManager(directory) if os.path.isdir(directory) else None
  step = manager.latest_step() if manager else None
  if step is None:
    raise FileNotFoundError(
        f"No MNIST classifier checkpoint in {directory}. Train one with:\n"
        f"  python -m experiments.main --config=configs/mnist_classifier.py --workdir={workdir}")
  # Restored without a target: the saved ClassifierState comes back as a dict.
  restored = manager.restore(step)
  manager.close()
  return jax.device_get(restored["params"])
