"""Stacked MNIST (1000 modes) with the Unrolled-GAN DCGAN; size S, M or L.

  --config=configs/stacked_mnist_dcgan.py:S
"""

import ml_collections

from configs import default


def get_config(size: str = "M"):
  c = default.get_base_config()
  c.data.name = "stacked_mnist"
  c.data.data_dir = "~/tensorflow_datasets"
  c.model_name = "dcgan28"
  c.model = ml_collections.ConfigDict(dict(z_dim=100, size=size.upper(), g_norm="batch",
                                           d_norm="none"))
  c.batch_size = 64
  c.num_steps = 20_000
  c.log_every = 200
  c.eval_every = 5_000
  c.checkpoint_every = 2_000
  c.optim.g_lr = c.optim.d_lr = 2e-4
  c.eval_batch_size = 1_000
  c.evals = ml_collections.ConfigDict()
  c.evals.samples = default.evaluator(c, "sample_grid", num_samples=64)
  # The workdir of a configs/mnist_classifier.py run ("" skips the scores), and
  # the max-probability a channel needs to count as high quality.
  c.evals.stacked_mnist = default.evaluator(
      c, "stacked_mnist", num_samples=26_000, classifier_workdir="workdirs/mnist_classifier",
      high_quality_threshold=0.9)
  return c
