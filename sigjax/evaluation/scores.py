"""Sample-quality scores as pure functions of classifier outputs / features.

Inception Score, FID, and the Stacked-MNIST metrics of the seed's table. The
networks that produce the inputs (the MNIST classifier, Inception-v3) live in
sigjax.models; these functions only do the arithmetic, so they can be checked
against known answers.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def inception_score(probs: np.ndarray, *, splits: int = 10) -> tuple[float, float]:
  """IS = exp(E_x KL(p(y|x) || p(y))), mean and std over ``splits`` chunks.

  Args:
    probs: [N, K] class probabilities of N samples.

  Example:
    >>> import numpy as np
    >>> from sigjax.evaluation.scores import inception_score
    >>> mean, std = inception_score(np.eye(10)[np.arange(100) % 10], splits=2)
    >>> round(mean, 6), round(std, 6)  # one-hot predictions, uniform over 10 classes
    (10.0, 0.0)
  """
  probs = np.asarray(probs, np.float64)
  scores = []
  for part in np.array_split(probs, splits):
    marginal = part.mean(0, keepdims=True)
    kl = np.sum(part * (np.log(np.maximum(part, 1e-30)) - np.log(np.maximum(marginal, 1e-30))), 1)
    scores.append(float(np.exp(kl.mean())))
  return float(np.mean(scores)), float(np.std(scores))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
  """FID between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

  ||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2}).

  Example:
    >>> import numpy as np
    >>> from sigjax.evaluation.scores import frechet_distance
    >>> round(frechet_distance(np.zeros(3), np.eye(3), np.ones(3), np.eye(3)), 6)
    3.0
  """
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
  covmean = linalg.sqrtm(sigma1 @ sigma2)
  if not np.all(np.isfinite(covmean)):  # singular product: regularise, as the reference code does
    offset = np.eye(len(mu1)) * 1e-6
    covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
  covmean = np.real(covmean)
  return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * covmean))


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  features = np.asarray(features, np.float64)
  return features.mean(0), np.cov(features, rowvar=False)


def stacked_mnist_metrics(channel_probs: np.ndarray, *, high_quality_threshold: float = 0.5) -> dict:
  """The seed's Stacked-MNIST columns from per-channel digit probabilities.

  Args:
    channel_probs: [N, 3, 10] classifier probabilities for the R, G, B digits.
    high_quality_threshold: a channel's sample is high quality when its largest
      class probability is at least this.

  Returns:
    modes: distinct predicted digit triples (of 1000).
    kl: KL(P_g || uniform over 1000) of the predicted triples, in nats.
    inception_score, high_quality, exp_h_y_given_x, exp_h_y: computed per
      channel over its 10 digits and averaged over the three channels.
    high_quality_samples: fraction of samples whose three channels are all
      high quality (not a column of the paper's table).
    modes_high_quality: distinct triples among those samples (not a column of
      the paper's table): faint or textured channels, which the classifier
      still labels, cannot count as modes here.
  """
  p = np.asarray(channel_probs, np.float64)
  if p.ndim != 3 or p.shape[1:] != (3, 10):
    raise ValueError(f"channel_probs must be [N, 3, 10], got {p.shape}.")
  digits = p.argmax(-1)
  triples = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
  hist = np.bincount(triples, minlength=1000) / len(triples)
  nz = hist > 0
  per_channel = {"inception_score": [], "high_quality": [], "exp_h_y_given_x": [], "exp_h_y": []}
  for c in range(3):
    q = p[:, c]
    logq = np.log(np.maximum(q, 1e-30))
    marginal = q.mean(0)
    per_channel["inception_score"].append(inception_score(q, splits=1)[0])
    per_channel["high_quality"].append(float(np.mean(q.max(-1) >= high_quality_threshold)))
    per_channel["exp_h_y_given_x"].append(float(np.exp(-np.mean(np.sum(q * logq, -1)))))
    per_channel["exp_h_y"].append(float(np.exp(-np.sum(marginal * np.log(np.maximum(marginal, 1e-30))))))
  sharp = np.all(p.max(-1) >= high_quality_threshold, axis=1)
  out = {"modes": int(nz.sum()), "kl": float(np.sum(hist[nz] * np.log(hist[nz] * 1000))),
         "high_quality_samples": float(np.mean(sharp)),
         "modes_high_quality": int(len(np.unique(triples[sharp])))}
  out.update({k: float(np.mean(v)) for k, v in per_channel.items()})
  return out
