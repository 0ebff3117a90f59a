"""CIFAR-10 Inception Score and FID from the Flax FID Inception-v3.

IS is computed on the softmax of the 1008-way head over ``splits`` chunks of
the samples (50,000 in 10 splits in the literature). FID compares the
2048-dim pool features of the samples with those of the training set; the
training-set statistics are computed once and cached in the run's workdir.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from sigjax.evaluation.scores import feature_statistics, frechet_distance, inception_score
from sigjax.models.inception import INPUT_SIZE, FIDInceptionV3


class InceptionScorer:
  """images [N, H, W, 3] in [-1, 1] -> Inception Score (mean, std) and FID.

  Args:
    params: FID Inception-v3 params (``load_fid_inception_weights``).
    batch_size: images per network call.
    splits: chunks for the Inception Score's mean and std.
    resize_to: network input size; 299 for scores comparable with the
      literature (tests use 75, the smallest the network accepts).
  """

  def __init__(self, params, *, batch_size: int = 500, splits: int = 10,
               resize_to: int = INPUT_SIZE):
    self.params = jax.device_put(params)
    self.batch_size = int(batch_size)
    self.splits = int(splits)
    model = FIDInceptionV3(resize_to=resize_to)

    @jax.jit
    def features_and_probs(params, images):
      features, logits = model.apply(params, images)
      return features, jax.nn.softmax(logits, -1)

    self._apply = features_and_probs

  def features_and_probs(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[N, H, W, 3] -> (pool features [N, 2048], class probabilities [N, 1008])."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
      raise ValueError(f"Inception inputs must be [N, H, W, 3] RGB images, got {images.shape}.")
    features, probs = [], []
    for i in range(0, len(images), self.batch_size):
      f, p = self._apply(self.params, jnp.asarray(images[i:i + self.batch_size]))
      features.append(np.asarray(f, np.float64))
      probs.append(np.asarray(p, np.float64))
    return np.concatenate(features), np.concatenate(probs)

  def reference_statistics(self, batches, cache_path: str | None = None):
    """(mu, sigma) of the features of ``batches`` (an iterable of image arrays).

    With ``cache_path``, reads them from there when present and writes them
    there otherwise, so a run pays for the training-set pass once.
    """
    if cache_path and os.path.exists(cache_path):
      with np.load(cache_path) as f:
        return f["mu"], f["sigma"]
    features = np.concatenate([self.features_and_probs(b)[0] for b in batches])
    mu, sigma = feature_statistics(features)
    if cache_path:
      np.savez(cache_path, mu=mu, sigma=sigma, count=len(features))
      logging.info("FID reference statistics of %d images saved to %s.", len(features), cache_path)
    return mu, sigma

  def __call__(self, samples: np.ndarray, reference=None) -> dict:
    """{"inception_score", "inception_score_std"} and, given (mu, sigma), "fid"."""
    features, probs = self.features_and_probs(samples)
    mean, std = inception_score(probs, splits=self.splits)
    out = {"inception_score": mean, "inception_score_std": std}
    if reference is not None:
      out["fid"] = frechet_distance(*feature_statistics(features), *reference)
    return out
