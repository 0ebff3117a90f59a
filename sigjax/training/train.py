"""train_and_evaluate(config, workdir): GAN / WGAN-GP / SIG runs.

Data parallel over a ('data',) mesh: the state is replicated, each step's
batch is sharded along its batch axis, and one jitted step runs on all
devices (XLA inserts the gradient all-reduce). Multi-host: each process feeds
its own share through jax.make_array_from_process_local_data. The cadence
(logging, checkpoints, evaluation, guards) is sigjax.training.loop.run_loop.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Callable

import jax
import ml_collections
from absl import logging
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from sigjax.data import make_dataset
from sigjax.evaluation.hooks import make_evaluator
from sigjax.models import make_models
from sigjax.training.checkpoints import Checkpointer
from sigjax.training.config_checks import validate_config
from sigjax.training.losses import make_losses
from sigjax.training.loop import run_loop
from sigjax.training.metrics_writer import MetricWriter
from sigjax.training.state import TrainState, init_state, make_optimizers
from sigjax.training.step import make_train_step


def make_mesh(num_devices: int = 0) -> Mesh:
  devices = jax.devices()
  if num_devices:
    if num_devices > len(devices):
      raise ValueError(f"num_devices={num_devices} but only {len(devices)} devices exist.")
    devices = devices[:num_devices]
  return Mesh(np.asarray(devices), ("data",))


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
  if is_writer:
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
      f.write(config.to_json_best_effort(indent=2))
  checkpointer = Checkpointer(workdir, keep=config.keep_checkpoints)
  state = checkpointer.restore_latest_or(trainer.state, replicated)
  eval_batch = config.eval.batch_size
  sample_fn = jax.jit(lambda p, k: trainer.sample(p, k, eval_batch), out_shardings=replicated)

  def global_batch(step):
    # n_critic consecutive data-set batches per step: a pure function of step.
    parts = [dataset.batch(step * n_critic + i)["x"] for i in range(n_critic)]
    return jax.make_array_from_process_local_data(trainer.batch_sharding, np.stack(parts))

  def evaluate_state(state, step):
    params = state.g_ema if config.optim.ema_decay > 0 else state.g_params
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed + 1), step)
    # Only what the configured scores need (a sample grid alone needs one batch).
    count = evaluate.num_samples
    chunks = -(-count // eval_batch)
    start = last = time.time()
    parts = []
    for i in range(chunks):
      parts.append(np.asarray(sample_fn(params, jax.random.fold_in(key, i))))
      if time.time() - last > 10 and is_writer:  # a long draw says where it is
        logging.info("evaluation at step %d: %d of %d samples drawn", step,
                     min((i + 1) * eval_batch, count), count)
        last = time.time()
    samples = np.concatenate(parts)[:count]
    if step >= config.num_steps and writer.enabled:
      # The final evaluation's samples, for anyone to score with their own code.
      np.savez_compressed(os.path.join(workdir, "samples_final.npz"), samples=samples, step=step)
    metrics = evaluate(samples, step)
    if time.time() - start > 10 and is_writer:
      logging.info("evaluation at step %d took %.0f s (%d samples)", step, time.time() - start,
                   count)
    return metrics

  writer = MetricWriter(workdir, enabled=is_writer)
  evaluate = make_evaluator(config, writer)
  return run_loop(config, workdir, state, train_step=trainer.train_step,
                  step_inputs=lambda step: (global_batch(step),),
                  evaluate_state=evaluate_state, checkpointer=checkpointer, writer=writer)
