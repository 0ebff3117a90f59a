"""Checks a config's shared fields before any work, so mistakes fail in seconds
with a clear message. Each section with a factory (model, objective, evals)
is checked by that factory when the run starts."""

import math

from sigjax.data import DATASETS

TASK_NAMES = ("generative", "classifier")


def validate_config(config) -> None:
  def need(cond, msg):
    if not cond:
      raise ValueError(f"config: {msg}")

  need(config.task in TASK_NAMES, f"task={config.task!r}; choose from {TASK_NAMES}.")
  for key in ("batch_size", "num_steps", "log_every", "eval_every", "checkpoint_every",
              "keep_checkpoints", "eval_batch_size"):
    need(config[key] >= 1, f"{key} must be >= 1, got {config[key]}.")
  need(config.num_devices >= 0, f"num_devices must be >= 0 (0: all), got {config.num_devices}.")
  need(config.data.name in DATASETS, f"data.name={config.data.name!r}; choose from {DATASETS}.")
  if config.data.name in ("grid", "ring"):
    need(math.isfinite(config.data.std) and config.data.std > 0,
         f"data.std (the mixture's std) must be finite and > 0, got {config.data.std}.")
  optim = config.optim
  for key in ("lr", "g_lr", "d_lr"):
    if key in optim:
      need(math.isfinite(optim[key]) and optim[key] > 0,
           f"optim.{key} must be finite and > 0, got {optim[key]}.")
  for key in ("b1", "b2"):
    need(0 <= optim[key] < 1, f"optim.{key} (Adam's beta) must be in [0, 1), got {optim[key]}.")
  if "lr_final_fraction" in optim:
    need(0 <= optim.lr_final_fraction <= 1,
         f"optim.lr_final_fraction (the decayed fraction of the learning rates at num_steps; "
         f"1 = constant) must be in [0, 1], got {optim.lr_final_fraction}.")
  if "ema_decay" in optim:
    need(0 <= optim.ema_decay < 1, f"optim.ema_decay must be in [0, 1), got {optim.ema_decay}.")
