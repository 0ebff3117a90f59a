"""Orbax checkpoints: keep the last N, restore the newest *usable* one.

Saves are synchronous: a save returns once the step is on disk (orbax
writes to a temporary directory and renames it, so a kill -9 mid-save
leaves the previous checkpoint as the newest). A run killed at any moment
therefore loses at most ``checkpoint_every`` steps; with asynchronous saves
an unfinished write could cost one more interval.

On restore, a checkpoint that cannot be read, or that holds NaN/Inf, is
reported in one line and moved to ``checkpoints_unusable/`` (kept for
inspection, never deleted), and the previous one is tried.
"""

from __future__ import annotations

import os
import shutil

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from absl import logging


class CheckpointSaveError(OSError):
  """A checkpoint could not be written; earlier checkpoints are untouched."""


class NoUsableCheckpointError(RuntimeError):
  """Every checkpoint in the workdir was unreadable or non-finite."""


def all_finite(tree) -> bool:
  leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)
            if jnp.issubdtype(x.dtype, jnp.floating)]
  return bool(jnp.all(jnp.stack(leaves))) if leaves else True


def _one_line(error: Exception) -> str:
  text = str(error).strip().splitlines()
  return f"{type(error).__name__}: {text[0][:200] if text else ''}"


class Checkpointer:
  """A thin wrapper so the train loop reads as save / restore / close."""

  def __init__(self, workdir: str, *, keep: int):
    self.workdir = os.path.abspath(workdir)
    self.directory = os.path.join(self.workdir, "checkpoints")
    self._keep = keep
    self._manager = self._open()

  def _open(self):
    return ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=self._keep, create=True,
                                             enable_async_checkpointing=False),
    )

  def latest_step(self):
    return self._manager.latest_step()

  def _set_aside(self, step: int) -> str:
    """Moves checkpoints/<step> to checkpoints_unusable/<step>[.n]; returns where."""
    target = os.path.join(self.workdir, "checkpoints_unusable", str(step))
    n = 0
    while os.path.exists(target + (f".{n}" if n else "")):
      n += 1
    target += f".{n}" if n else ""
    if jax.process_index() == 0:  # one mover on a shared file system
      os.makedirs(os.path.dirname(target), exist_ok=True)
      shutil.move(os.path.join(self.directory, str(step)), target)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils

      multihost_utils.sync_global_devices(f"sigjax_set_aside_{step}")
    self._manager.close()
    self._manager = self._open()
    return target

  def restore_latest_or(self, state, sharding):
    """The newest usable checkpoint shaped like ``state``, or ``state`` itself, on ``sharding``.

    Raises NoUsableCheckpointError when checkpoints exist but none is usable.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if not steps:
      return jax.device_put(state, sharding)
    abstract = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding), state)
    for step in steps:
      try:
        restored = self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
      except Exception as error:  # any unreadable file: orbax/tensorstore raise many kinds
        reason = f"unreadable ({_one_line(error)})"
      else:
        if all_finite(restored):
          logging.info("Resuming from %s at step %d.", self.directory, step)
          return restored
        reason = "it holds NaN/Inf values"
      where = self._set_aside(step)
      logging.warning("Checkpoint step %d is unusable: %s; moved to %s, trying the previous one.",
                      step, reason, where)
    raise NoUsableCheckpointError(
        f"None of the checkpoints in {self.directory} (steps {steps}) is usable; they are in "
        f"{os.path.join(self.workdir, 'checkpoints_unusable')}. Rerun to start from step 0, "
        "or use another --workdir.")

  def save(self, step: int, state) -> None:
    """Saves ``state`` as ``step``; a failure (full disk, lost mount) raises
    CheckpointSaveError in one line naming the last checkpoint that is safe."""
    try:
      self._manager.save(int(step), args=ocp.args.StandardSave(state), force=True)
    except Exception as error:
      last = self._manager.latest_step()
      where = f"step {last} is the last good one" if last is not None else "none was saved yet"
      raise CheckpointSaveError(
          f"Saving checkpoint step {step} in {self.directory} failed ({_one_line(error)}); "
          f"{where}. Fix the cause (e.g. free disk space) and rerun the same command to "
          "resume.") from error

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
