"""train_and_evaluate(config, workdir): GAN / WGAN-GP / SIG runs, and the
MNIST classifier that scores Stacked MNIST.

The config becomes values once, here: the model pair (``config.model_name``,
``config.model``), the ``Objective`` (``config.objective``), the optimisers and
the evaluators (``config.evals``). Everything below this module receives those
values and the few numbers it uses, never the config.

Data parallel over a ('data',) mesh: the state is replicated, each step's
batch is sharded along its batch axis, and one jitted step runs on all
devices (XLA inserts the gradient all-reduce). Multi-host: each process feeds
its own share through jax.make_array_from_process_local_data. The cadence
(logging, checkpoints, evaluation, guards) is sigjax.training.loop.run_loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from typing import Callable, NamedTuple

import jax
import ml_collections
from absl import logging
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from sigjax.data import make_dataset
from sigjax.evaluation.evaluators import EvalContext, check_evals, make_evaluators
from sigjax.models import model_spec
from sigjax.training.checkpoints import Checkpointer
from sigjax.training.config_checks import validate_config
from sigjax.training.loop import run_loop
from sigjax.training.metrics_writer import MetricWriter
from sigjax.training.objective_builder import Objective, make_objective, objective_settings
from sigjax.training.state import TrainState, init_state, make_optimizers
from sigjax.training.step import make_train_step
from sigjax.training.workdir import WorkdirLock, check_config, write_config


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
  train step and the objective (whose sampler draws evaluation samples)."""

  state: TrainState
  train_step: Callable
  objective: Objective
  batch_sharding: NamedSharding


def build_trainer(config, example_shape, mesh: Mesh) -> Trainer:
  """Models, optimisers, objective and the jitted data-parallel step for ``config``."""
  replicated = NamedSharding(mesh, P())
  batch_sharding = NamedSharding(mesh, P(None, "data"))
  models = model_spec(config.model_name, config.model)
  generator, discriminator = models.build(example_shape)
  optim = config.optim
  objective = make_objective(objective_settings(config.objective), generator, discriminator,
                             z_dim=models.z_dim, num_generated=config.batch_size,
                             num_steps=config.num_steps)
  g_tx, d_tx = make_optimizers(g_lr=optim.g_lr, d_lr=optim.d_lr, b1=optim.b1, b2=optim.b2,
                               num_steps=config.num_steps, n_critic=objective.n_critic,
                               lr_final_fraction=optim.lr_final_fraction)
  # Eager on purpose: a jitted init fuses N(0, s^2) draws differently (1 ulp), which
  # would change every published seed's trajectory.
  state = init_state(objective, generator, discriminator, example_shape, g_tx, d_tx,
                     seed=config.seed, z_dim=models.z_dim, use_ema=optim.ema_decay > 0)
  train_step = jax.jit(
      make_train_step(objective, g_tx, d_tx, ema_decay=optim.ema_decay),
      in_shardings=(replicated, batch_sharding),
      out_shardings=(replicated, replicated),
      donate_argnums=0,
  )
  return Trainer(jax.device_put(state, replicated), train_step, objective, batch_sharding)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       allow_config_change: bool = False):
  """Trains (or resumes) the run described by ``config`` in ``workdir``.

  ``config.task`` picks the trainer (TASKS); all share run_loop. Every config
  section and the workdir's identity (sigjax.training.workdir) are checked
  before anything is written; a second live run in the same workdir is
  refused. Returns the final train state.
  """
  validate_config(config)
  task = TASKS[config.task]
  task.check(config)
  workdir = os.path.abspath(workdir)
  config_json = config.to_json_best_effort(indent=2)
  check_config(workdir, config_json, allow_config_change=allow_config_change)
  is_writer = jax.process_index() == 0
  with WorkdirLock(workdir) if is_writer else contextlib.nullcontext():
    if is_writer:
      write_config(workdir, config_json)
    return task.run(config, workdir)


def check_generative(config: ml_collections.ConfigDict) -> None:
  """The generative task's sections, checked before any data is read or network built."""
  model_spec(config.model_name, config.model)
  objective_settings(config.objective)
  check_evals(config.evals)


def train_generative(config: ml_collections.ConfigDict, workdir: str) -> TrainState:
  """A GAN, WGAN-GP or SIG run (with or without the SI term)."""
  settings = objective_settings(config.objective)
  is_writer = jax.process_index() == 0
  mesh = make_mesh(config.num_devices)
  if config.batch_size % mesh.size:
    raise ValueError(f"batch_size={config.batch_size} is not divisible by the {mesh.size} devices.")
  replicated = NamedSharding(mesh, P())

  decoded = {}  # decoded tfds records, shared with the evaluators (the FID reference)
  dataset = make_dataset(
      config.data, global_batch_size=config.batch_size, seed=config.seed,
      process_index=jax.process_index(), process_count=jax.process_count(), decoded=decoded,
  )
  trainer = build_trainer(config, dataset.example_shape, mesh)
  n_critic = trainer.objective.n_critic
  checkpointer = Checkpointer(workdir, keep=config.keep_checkpoints)
  state = checkpointer.restore_latest_or(trainer.state, replicated)
  eval_batch = config.eval_batch_size
  sample_fn = jax.jit(lambda p, k: trainer.objective.sample(p, k, eval_batch),
                      out_shardings=replicated)
  use_ema = config.optim.ema_decay > 0

  def global_batch(step):
    # n_critic consecutive data-set batches per step: a pure function of step.
    parts = [dataset.batch(step * n_critic + i)["x"] for i in range(n_critic)]
    return jax.make_array_from_process_local_data(trainer.batch_sharding, np.stack(parts))

  def draw(params, step, count):
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed + 1), step)
    chunks = -(-count // eval_batch)
    last = time.time()
    parts = []
    for i in range(chunks):
      parts.append(np.asarray(sample_fn(params, jax.random.fold_in(key, i))))
      if time.time() - last > 10 and is_writer:  # a long draw says where it is
        logging.info("evaluation at step %d: %d of %d samples drawn", step,
                     min((i + 1) * eval_batch, count), count)
        last = time.time()
    return np.concatenate(parts)[:count]

  def evaluate_state(state, step):
    final = step >= config.num_steps
    due = [e for e in evaluators if e.due(step, final=final)]
    if not due:
      return {}
    start = time.time()
    # Only what the due evaluators need (a sample grid alone needs one batch).
    count = max(e.num_samples for e in due)
    samples = draw(state.g_ema if use_ema else state.g_params, step, count)
    if final and writer.enabled:
      # The final evaluation's samples, for anyone to score with their own code.
      np.savez_compressed(os.path.join(workdir, "samples_final.npz"), samples=samples, step=step)
    metrics = {}
    for i, evaluator in enumerate(due):
      if len(samples) > 1000 and is_writer:  # scoring thousands of samples takes a while: say so
        logging.info("evaluation at step %d: evaluator %d of %d (%s) on %d samples", step, i + 1,
                     len(due), evaluator.name, evaluator.num_samples)
      scores = evaluator.score(samples[:evaluator.num_samples], step)
      metrics.update({f"eval/{k}": v for k, v in scores.items()})
    if time.time() - start > 10 and is_writer:
      logging.info("evaluation at step %d took %.0f s (%d samples)", step, time.time() - start,
                   count)
    return metrics

  writer = MetricWriter(workdir, enabled=is_writer, resume_step=int(state.step))
  label = settings.name if settings.name == "sig" else f"{settings.name}, lambda={settings.si_weight:g}"
  if settings.si_weight_final_fraction != 1.0:  # a scheduled lambda: its start -> end
    label += f"->{settings.si_weight * settings.si_weight_final_fraction:g}"
  evaluators = make_evaluators(
      config.evals, EvalContext(config.data, config.eval_batch_size, writer, label, decoded=decoded))
  return run_loop(state, workdir=workdir, num_steps=config.num_steps, log_every=config.log_every,
                  checkpoint_every=config.checkpoint_every,
                  eval_due=lambda step: any(e.due(step, final=False) for e in evaluators),
                  train_step=trainer.train_step, step_inputs=lambda step: (global_batch(step),),
                  evaluate_state=evaluate_state, checkpointer=checkpointer, writer=writer)


def _train_classifier(config, workdir):
  from sigjax.training.classifier import train_classifier

  return train_classifier(config, workdir, make_mesh(config.num_devices))


class Task(NamedTuple):
  check: Callable  # config -> None; raises ValueError naming a bad field
  run: Callable  # (config, workdir) -> final state


# config.task -> its trainer. Each reads its own config sections.
TASKS = {
    "generative": Task(check_generative, train_generative),
    "classifier": Task(lambda config: None, _train_classifier),
}
