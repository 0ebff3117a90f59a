"""Stacked-MNIST scores: label each colour channel with the MNIST classifier.

The classifier is the one ``configs/mnist_classifier.py`` trains; its workdir
is the ``classifier_workdir`` option of the ``stacked_mnist`` evaluator. The arithmetic is
``sigjax.evaluation.scores.stacked_mnist_metrics``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sigjax.evaluation.scores import stacked_mnist_metrics
from sigjax.models import MnistClassifier


@jax.jit
def _digit_probs(params, images):
  return jax.nn.softmax(MnistClassifier().apply(params, images), -1)


class StackedMnistScorer:
  """samples [N, 28, 28, 3] in [-1, 1] -> the seed's six Stacked-MNIST columns.

  Args:
    params: MNIST classifier params (``load_classifier_params``).
    high_quality_threshold: a channel counts as high quality when the
      classifier's largest digit probability is at least this.
    batch_size: images per classifier call.
  """

  def __init__(self, params, *, high_quality_threshold: float, batch_size: int = 1000):
    if not 0.0 < high_quality_threshold <= 1.0:
      raise ValueError(f"high_quality_threshold must be in (0, 1], got {high_quality_threshold}.")
    self.params = jax.device_put(params)
    self.threshold = float(high_quality_threshold)
    self.batch_size = int(batch_size)

  def channel_probs(self, samples: np.ndarray) -> np.ndarray:
    """[N, 28, 28, 3] -> [N, 3, 10] digit probabilities per colour channel."""
    samples = np.asarray(samples, np.float32)
    if samples.ndim != 4 or samples.shape[1:] != (28, 28, 3):
      raise ValueError(f"Stacked-MNIST samples must be [N, 28, 28, 3], got {samples.shape}.")
    # Channels become separate grey images: [N, 28, 28, 3] -> [N * 3, 28, 28, 1].
    singles = np.moveaxis(samples, -1, 1).reshape(-1, 28, 28, 1)
    probs = [np.asarray(_digit_probs(self.params, jnp.asarray(singles[i:i + self.batch_size])))
             for i in range(0, len(singles), self.batch_size)]
    return np.concatenate(probs).reshape(len(samples), 3, 10)

  def __call__(self, samples: np.ndarray) -> dict:
    return stacked_mnist_metrics(self.channel_probs(samples),
                                 high_quality_threshold=self.threshold)
