"""Mode coverage and quality on the 2-D mixtures (5x5 grid, ring)."""

from __future__ import annotations

import numpy as np


def mode_metrics(samples: np.ndarray, means: np.ndarray, std: float, *, num_std: float = 3.0) -> dict:
  """Mode coverage and sample quality for a mixture of isotropic Gaussians.

  Each sample is assigned to its nearest mean. It is *high quality* when it
  lies within ``num_std`` standard deviations of that mean.

  Returns:
    modes: number of means with at least one high-quality sample.
    high_quality: fraction of samples that are high quality.
    kl: KL(histogram of nearest means over all samples || uniform), in nats;
      0 for perfectly balanced modes, log K when every sample is in one mode.
  """
  samples = np.asarray(samples, np.float64)
  means = np.asarray(means, np.float64)
  d2 = ((samples[:, None, :] - means[None, :, :]) ** 2).sum(-1)
  nearest = d2.argmin(1)
  hq = np.sqrt(d2[np.arange(len(samples)), nearest]) <= num_std * std
  k = len(means)
  covered = np.unique(nearest[hq]).size
  p = np.bincount(nearest, minlength=k) / len(samples)
  nz = p > 0
  kl = float(np.sum(p[nz] * np.log(p[nz] * k)))
  return {"modes": int(covered), "high_quality": float(hq.mean()), "kl": kl}


def scatter_png(samples: np.ndarray, means: np.ndarray, path: str, *, title: str = "") -> str:
  """Scatter plot of samples with the mixture means marked."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  ax.scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.2, c="tab:blue", linewidths=0)
  ax.scatter(means[:, 0], means[:, 1], s=12, marker="x", c="tab:red")
  lim = np.abs(means).max() + 1.5
  ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
  return path
