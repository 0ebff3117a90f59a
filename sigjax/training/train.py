"""train_and_evaluate(config, workdir): the one train loop.

Data parallel over a ('data',) mesh: the state is replicated, each step's
batch is sharded along its batch axis, and one jitted step runs on all
devices (XLA inserts the gradient all-reduce). Multi-host: each process feeds
its own share through jax.make_array_from_process_local_data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from sigjax.data import make_dataset
from sigjax.evaluation.hooks import evaluate
from sigjax.models import make_models
from sigjax.training.checkpoints import Checkpointer, abstract_like
from sigjax.training.config_checks import validate_config
from sigjax.training.losses import make_losses
from sigjax.training.metrics_writer import MetricWriter, Progress
from sigjax.training.state import TrainState, init_state, make_optimizers
from sigjax.training.step import make_train_step


class NonFiniteLossError(FloatingPointError):
  """Training produced NaN/Inf; the last good checkpoint is left untouched."""


def make_mesh(num_devices: int = 0) -> Mesh:
  devices = jax.devices()
  if num_devices:
    if num_devices > len(devices):
      raise ValueError(f"num_devices={num_devices} but only {len(devices)} devices exist.")
    devices = devices[:num_devices]
  return Mesh(np.asarray(devices), ("data",))


def _all_finite(tree) -> bool:
  leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
  return bool(jnp.all(jnp.stack(leaves))) if leaves else True


class _PreemptionFlag:
  """Set by SIGTERM (preemptible VMs send it before shutting down)."""

  def __init__(self):
    self.raised = False
    self._previous = None

  def __enter__(self):
    try:
      self._previous = signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # not the main thread: no signal handling
      self._previous = None
    return self

  def _handle(self, signum, frame):
    del signum, frame
    self.raised = True

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)


@dataclasses.dataclass
class Trainer:
  """The pieces of a run: initial state (replicated on the mesh), the jitted
  train step and the model's sampler."""

  state: TrainState
  train_step: Callable
  sample: Callable
  batch_sharding: NamedSharding


def build_trainer(config, example_shape, mesh: Mesh) -> Trainer:
  """Models, optimisers, losses and the jitted data-parallel step for ``config``."""
  replicated = NamedSharding(mesh, P())
  batch_sharding = NamedSharding(mesh, P(None, "data"))
  generator, discriminator = make_models(config, example_shape)
  g_tx, d_tx = make_optimizers(config)
  critic_loss, generator_loss, sample = make_losses(config, generator, discriminator)
  state = init_state(config, generator, discriminator, example_shape, g_tx, d_tx)
  train_step = jax.jit(
      make_train_step(config, critic_loss, generator_loss, g_tx, d_tx),
      in_shardings=(replicated, batch_sharding),
      out_shardings=(replicated, replicated),
      donate_argnums=0,
  )
  return Trainer(jax.device_put(state, replicated), train_step, sample, batch_sharding)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (or resumes) the run described by ``config`` in ``workdir``.

  Returns the final TrainState.
  """
  validate_config(config)
  workdir = os.path.abspath(workdir)
  is_writer = jax.process_index() == 0
  mesh = make_mesh(config.get("num_devices", 0))
  if config.task == "classifier":
    from sigjax.training.classifier import train_classifier

    return train_classifier(config, workdir, mesh)
  if config.batch_size % mesh.size:
    raise ValueError(f"batch_size={config.batch_size} is not divisible by the {mesh.size} devices.")
  replicated = NamedSharding(mesh, P())

  n_critic = config.objective.n_critic if config.objective.name != "sig" else 1
  dataset = make_dataset(
      config.data, global_batch_size=config.batch_size, seed=config.seed,
      process_index=jax.process_index(), process_count=jax.process_count(),
  )
  trainer = build_trainer(config, dataset.example_shape, mesh)
  state, sample = trainer.state, trainer.sample
  if is_writer:
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json_best_effort(indent=2))
  checkpointer = Checkpointer(workdir, keep=config.keep_checkpoints)
  if checkpointer.latest_step() is not None:
    state = checkpointer.restore(abstract_like(state, replicated))
    logging.info("Resumed from %s at step %d.", checkpointer.directory, int(state.step))
  train_step = trainer.train_step
  eval_batch = config.eval.batch_size
  sample_fn = jax.jit(lambda p, k: sample(p, k, eval_batch), out_shardings=replicated)

  batch_sharding = trainer.batch_sharding

  def global_batch(step):
    # n_critic consecutive data-set batches per step: a pure function of step.
    parts = [dataset.batch(step * n_critic + i)["x"] for i in range(n_critic)]
    return jax.make_array_from_process_local_data(batch_sharding, np.stack(parts))

  def run_eval(step):
    params = state.g_ema if config.optim.ema_decay > 0 else state.g_params
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed + 1), step)
    chunks = -(-config.eval.num_samples // eval_batch)
    samples = np.concatenate(
        [np.asarray(sample_fn(params, jax.random.fold_in(key, i))) for i in range(chunks)]
    )[: config.eval.num_samples]
    metrics = evaluate(config, samples, step, writer)
    if metrics:
      writer.write_scalars(step, metrics)
      logging.info("eval at step %d: %s", step, metrics)
    return metrics

  def save(step):
    if not _all_finite(state.g_params) or not _all_finite(state.d_params):
      raise NonFiniteLossError(_nan_message(step, checkpointer))
    checkpointer.save(step, state)

  writer = MetricWriter(workdir, enabled=is_writer)
  step = int(state.step)
  progress = Progress(step, config.num_steps)
  last_metrics = {}
  try:
    if step >= config.num_steps:
      logging.info("The run in %s is already complete (step %d); evaluating it.", workdir, step)
      last_metrics = run_eval(step)
    with _PreemptionFlag() as preempted:
      while step < config.num_steps:
        state, metrics = train_step(state, global_batch(step))
        step += 1
        if step % config.log_every == 0 or step == config.num_steps:
          host = {k: float(v) for k, v in jax.device_get(metrics).items()}
          if not all(np.isfinite(v) for v in host.values()):
            raise NonFiniteLossError(_nan_message(step, checkpointer, host))
          host["steps_per_sec"] = progress.steps_per_sec(step)
          writer.write_scalars(step, host)
          if is_writer:
            progress.log(step, host["steps_per_sec"], host)
          last_metrics = host
        if step % config.checkpoint_every == 0 or step == config.num_steps:
          save(step)
        if step % config.eval_every == 0 or step == config.num_steps:
          last_metrics.update(run_eval(step))
          progress.restart_clock(step)
        if preempted.raised:
          logging.warning("SIGTERM at step %d: saving a checkpoint and stopping.", step)
          save(step)
          break
  finally:
    checkpointer.close()
    writer.close()
  if is_writer:
    with open(os.path.join(workdir, "final_metrics.json"), "w") as f:
      json.dump({"step": step, **last_metrics}, f, indent=2)
  return state


def _nan_message(step, checkpointer, metrics=None) -> str:
  last = checkpointer.latest_step()
  where = (f"the last good checkpoint is step {last} in {checkpointer.directory}"
           if last is not None else "no checkpoint was saved before it")
  shown = f" (metrics: {metrics})" if metrics else ""
  return (
      f"Training diverged: non-finite values at step {step}{shown}. Nothing was "
      f"saved for this state; {where}. Rerun the same command to resume from it, "
      "e.g. with a lower learning rate (--config.optim.g_lr / d_lr) or a larger "
      "--config.objective.si_scale."
  )
