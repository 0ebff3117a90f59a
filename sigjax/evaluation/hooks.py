"""Periodic evaluation per data set: metrics for metrics.jsonl and pictures."""

from __future__ import annotations

import os

import numpy as np

from sigjax.evaluation import grid as grid_eval
from sigjax.evaluation.images import image_grid


def evaluate(config, samples: np.ndarray, step: int, writer) -> dict:
  """Returns {"eval/...": value} for ``samples`` and writes their pictures."""
  name = config.data.name
  if name in ("grid", "ring"):
    from sigjax.data.grid import means_for

    means = means_for(config.data)
    metrics = grid_eval.mode_metrics(samples, means, float(config.data.std))
    if writer.enabled:
      path = os.path.join(writer.workdir, "samples", f"scatter_{step:08d}.png")
      obj = config.objective
      label = obj.name if obj.name == "sig" else f"{obj.name}, lambda={obj.si_weight:g}"
      grid_eval.scatter_png(samples, means, path,
                            title=f"{label}, step {step}: {metrics['modes']} modes")
    return {f"eval/{k}": v for k, v in metrics.items()}
  # Image data: a grid of the first 64 samples. Data-set metrics (Stacked-MNIST
  # modes/KL, CIFAR-10 IS/FID) plug in here when their scorers are configured.
  writer.write_image(step, "samples", image_grid(samples[:64]))
  return {}
