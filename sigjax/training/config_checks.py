"""Checks a config before any work, so mistakes fail in seconds with a clear message."""

from sigjax.data.base import DATASETS
from sigjax.models.factory import ARCHITECTURES
from sigjax.training.losses import GENERATOR_LOSSES, OBJECTIVES


def validate_config(config) -> None:
  def need(cond, msg):
    if not cond:
      raise ValueError(f"config: {msg}")

  need(config.task in ("generative", "classifier"),
       f"task={config.task!r}; choose 'generative' or 'classifier'.")
  obj = config.objective
  need(obj.name in OBJECTIVES, f"objective.name={obj.name!r}; choose from {OBJECTIVES}.")
  need(obj.si_weight >= 0, f"objective.si_weight (lambda) must be >= 0, got {obj.si_weight}.")
  need(obj.si_scale > 0, f"objective.si_scale (SIG kernel std) must be > 0, got {obj.si_scale}.")
  need(obj.n_critic >= 1, f"objective.n_critic must be >= 1, got {obj.n_critic}.")
  need(obj.generator_loss in GENERATOR_LOSSES,
       f"objective.generator_loss={obj.generator_loss!r}; choose from {tuple(GENERATOR_LOSSES)}.")
  need(config.data.name in DATASETS, f"data.name={config.data.name!r}; choose from {DATASETS}.")
  need(config.model.arch in ARCHITECTURES,
       f"model.arch={config.model.arch!r}; choose from {ARCHITECTURES}.")
  need(0 <= config.optim.ema_decay < 1, f"optim.ema_decay must be in [0, 1), got {config.optim.ema_decay}.")
  for key in ("batch_size", "num_steps", "log_every", "eval_every", "checkpoint_every",
              "keep_checkpoints"):
    need(config[key] >= 1, f"{key} must be >= 1, got {config[key]}.")
  need(config.eval.num_samples >= 1 and config.eval.batch_size >= 1,
       "eval.num_samples and eval.batch_size must be >= 1.")
