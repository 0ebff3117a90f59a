"""Orbax checkpoints: keep the last N, save asynchronously, restore the latest."""

from __future__ import annotations

import os

import jax
import orbax.checkpoint as ocp
from absl import logging


class Checkpointer:
  """A thin wrapper so the train loop reads as save / restore / close."""

  def __init__(self, workdir: str, *, keep: int):
    self.directory = os.path.abspath(os.path.join(workdir, "checkpoints"))
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
    )

  def latest_step(self):
    return self._manager.latest_step()

  def restore_latest_or(self, state, sharding):
    """The latest checkpoint shaped like ``state``, or ``state`` itself, on ``sharding``."""
    step = self._manager.latest_step()
    if step is None:
      return jax.device_put(state, sharding)
    abstract = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sharding), state)
    logging.info("Resuming from %s at step %d.", self.directory, step)
    return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))

  def save(self, step: int, state) -> None:
    self._manager.save(int(step), args=ocp.args.StandardSave(state), force=True)

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()

