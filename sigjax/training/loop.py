"""The one train loop: steps, logging, NaN guard, checkpoints, evaluation, SIGTERM.

Both trainers (GAN/SIG in train.py and the MNIST classifier) hand it a jitted
step, a function that builds the step's inputs and an evaluation function; the
cadence, guards and files are the same for every run.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Callable

import jax
import numpy as np
from absl import logging

from sigjax.training.checkpoints import all_finite
from sigjax.training.metrics_writer import MetricWriter, Progress


class NonFiniteLossError(FloatingPointError):
  """Training produced NaN/Inf; the last good checkpoint is left untouched."""


class Preempted(Exception):
  """SIGTERM stopped the run after saving a checkpoint; it did not finish.

  Raised (not returned) so that nobody mistakes a preempted run for a
  finished one: no final_metrics.json is written, and experiments.main exits
  with EXIT_PREEMPTED so a scheduler requeues it.
  """

  def __init__(self, step: int, workdir: str):
    super().__init__(f"Preempted by SIGTERM at step {step}; a checkpoint of step {step} is in "
                     f"{workdir}/checkpoints. Rerun the same command to resume.")
    self.step = step


class PreemptionFlag:
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


def nan_message(step, checkpointer, metrics=None) -> str:
  last = checkpointer.latest_step()
  where = (f"the last good checkpoint is step {last} in {checkpointer.directory}"
           if last is not None else "no checkpoint was saved before it")
  shown = f" (metrics: {metrics})" if metrics else ""
  return (
      f"Training diverged: non-finite values at step {step}{shown}. Nothing was "
      f"saved for this state; {where}. Rerun the same command to resume from it, "
      "e.g. with a lower learning rate (--config.optim.g_lr / d_lr), adding "
      "--allow_config_change since the config changes (a kernel std is restored from the "
      "checkpoint: to change it, start a new workdir)."
  )


def run_loop(state, *, workdir: str, num_steps: int, log_every: int, checkpoint_every: int,
             eval_due: Callable[[int], bool], train_step: Callable, step_inputs: Callable,
             evaluate_state: Callable, checkpointer, writer: MetricWriter):
  """Runs ``state`` from its step to ``num_steps``; returns the final state.

  Args:
    log_every, checkpoint_every: cadences in steps (the last step does both).
    eval_due: step -> whether to evaluate after it (the last step always does).
    train_step: (state, *step_inputs(step)) -> (state, metrics), jitted.
    step_inputs: step -> tuple of global arrays for that step.
    evaluate_state: (state, step) -> {"eval/...": value}; may write pictures.
    checkpointer: a sigjax.training.checkpoints.Checkpointer (closed here).
    writer: the run's MetricWriter (closed here).
  """

  def run_eval(state, step):
    metrics = evaluate_state(state, step)
    if metrics:
      writer.write_scalars(step, metrics)
      logging.info("eval at step %d: %s", step, metrics)
    return metrics

  def save(state, step):
    if not all_finite(state):
      raise NonFiniteLossError(nan_message(step, checkpointer))
    if checkpointer.latest_step() != step:  # SIGTERM right after a cadence save
      checkpointer.save(step, state)

  step = int(state.step)
  progress = Progress(step, num_steps)
  last_metrics = {}
  preempted_at = None
  try:
    if step >= num_steps:
      logging.info("The run in %s is already complete (step %d); evaluating it.", workdir, step)
      last_metrics = run_eval(state, step)
    with PreemptionFlag() as preempted:
      first = step
      while step < num_steps:
        state, metrics = train_step(state, *step_inputs(step))
        step += 1
        if step == first + 1:
          # The first step includes compilation: time steps/s and ETA from here.
          jax.block_until_ready(metrics)
          progress.restart_clock(step)
        if step % log_every == 0 or step == num_steps:
          host = {k: float(v) for k, v in jax.device_get(metrics).items()}
          if not all(np.isfinite(v) for v in host.values()):
            raise NonFiniteLossError(nan_message(step, checkpointer, host))
          host["steps_per_sec"] = progress.steps_per_sec(step)
          writer.write_scalars(step, host)
          if writer.enabled:
            progress.log(step, host["steps_per_sec"], host)
          last_metrics = host
        if step % checkpoint_every == 0 or step == num_steps:
          save(state, step)
        if eval_due(step) or step == num_steps:
          last_metrics.update(run_eval(state, step))
          progress.restart_clock(step)
        if preempted.raised:
          logging.warning("SIGTERM at step %d: saving a checkpoint and stopping.", step)
          save(state, step)
          preempted_at = step
          break
  finally:
    checkpointer.close()
    writer.close()
  if preempted_at is not None:
    raise Preempted(preempted_at, workdir)
  if writer.enabled:
    path = os.path.join(workdir, "final_metrics.json")
    final = {"step": step, **last_metrics}
    if os.path.exists(path):  # a finished run evaluated again keeps its training metrics
      with open(path) as f:
        previous = json.load(f)
      if previous.get("step") == step:
        final = {**previous, **final}
    with open(path, "w") as f:
      json.dump(final, f, indent=2)
  return state
