"""Mode coverage and quality on the 2-D mixtures (5x5 grid, ring), PacGAN's way.

The protocol of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018;
``MetricLogger`` in github.com/fjxmlzn/PacGAN, synthetic_data_experiments):
2,500 samples; each sample goes to its nearest mode and is *high quality*
when it lies within 3 standard deviations of it; a mode is *captured* when
it holds at least one high-quality sample; reverse KL compares the modes'
histogram of high-quality samples with the uniform distribution.
"""

from __future__ import annotations

import textwrap

import numpy as np

# Samples per evaluation in VEEGAN's and PacGAN's tables.
PROTOCOL_SAMPLES = 2_500


def mode_metrics(samples: np.ndarray, means: np.ndarray, std: float, *, num_std: float = 3.0,
                 mass_threshold: float = 0.01) -> dict:
  """PacGAN's grid metrics for samples of a mixture of isotropic Gaussians.

  Args:
    samples: [S, 2] generated points (use PROTOCOL_SAMPLES to compare with
      the literature: ``modes`` grows with S).
    means: [K, 2] mixture means; std: their common standard deviation.
    num_std: the high-quality radius, in standard deviations.
    mass_threshold: the share of the high-quality samples a mode needs for
      ``modes_with_mass``.

  Returns:
    modes: modes with at least one high-quality sample.
    high_quality: fraction of samples within ``num_std`` std of their nearest mode.
    reverse_kl: KL(p || uniform) in nats, p the histogram of the high-quality
      samples over the K modes (0 balanced, log K all in one mode; NaN when
      no sample is high quality).
    modes_with_mass: modes holding at least ``mass_threshold`` of the
      high-quality samples: a thin trail past a mode cannot pass for coverage.
  """
  samples = np.asarray(samples, np.float64)
  means = np.asarray(means, np.float64)
  d2 = ((samples[:, None, :] - means[None, :, :]) ** 2).sum(-1)
  nearest = d2.argmin(1)
  hq = np.sqrt(d2[np.arange(len(samples)), nearest]) <= num_std * std
  k = len(means)
  counts = np.bincount(nearest[hq], minlength=k)
  total = counts.sum()
  if total:
    p = counts / total
    nz = p > 0
    reverse_kl = float(np.sum(p[nz] * np.log(p[nz] * k)))
  else:
    p, reverse_kl = np.zeros(k), float("nan")
  return {
      "modes": int(np.count_nonzero(counts)),
      "high_quality": float(hq.mean()),
      "reverse_kl": reverse_kl,
      "modes_with_mass": int(np.count_nonzero(p >= mass_threshold)),
  }


def scatter_image(samples: np.ndarray, means: np.ndarray, *, title: str = "") -> np.ndarray:
  """Scatter plot of samples with the mixture means marked, as [H, W, 3] uint8."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, c="tab:blue", linewidths=0)
  ax.scatter(means[:, 0], means[:, 1], s=12, marker="x", c="tab:red")
  lim = np.abs(means).max() + 1.5
  ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
  ax.set_title(textwrap.fill(title, 60), fontsize=8)  # long titles wrap, never cut
  fig.tight_layout()
  fig.canvas.draw()
  image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
  plt.close(fig)
  return image
