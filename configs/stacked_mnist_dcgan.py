"""Stacked MNIST (1000 modes) with the Unrolled-GAN DCGAN; size S, M or L.

  --config=configs/stacked_mnist_dcgan.py:S

The reference setup, as PacGAN's public reproduction of the Unrolled-GAN
experiment runs it (stacked_MNIST_experiments/unrolled_GAN_experiment/*/config.py):
z 256, batch 128, Adam with D lr 2e-4, G lr 1e-4, betas (0.5, 0.99), batch
norm in both networks, non-saturating generator loss. Deviation: that code
trains 500k steps; here num_steps is what this project can afford (README).
"""

import ml_collections

from configs import default


def get_config(size: str = "M"):
  c = default.get_base_config()
  c.data.name = "stacked_mnist"
  c.data.data_dir = "~/tensorflow_datasets"
  c.model_name = "dcgan28"
  c.model = ml_collections.ConfigDict(dict(z_dim=256, size=size.upper(), g_norm="batch",
                                           d_norm="batch"))
  c.batch_size = 128
  c.num_steps = 20_000
  c.log_every = 200
  c.eval_every = 5_000
  c.checkpoint_every = 2_000
  c.optim.g_lr = 1e-4
  c.optim.d_lr = 2e-4
  c.optim.b1, c.optim.b2 = 0.5, 0.99
  c.eval_batch_size = 1_000
  c.evals = ml_collections.ConfigDict()
  c.evals.samples = default.evaluator(c, "sample_grid", num_samples=64)
  # The workdir of a configs/mnist_classifier.py run ("" skips the scores), and
  # the max-probability a channel needs to count as high quality.
  c.evals.stacked_mnist = default.evaluator(
      c, "stacked_mnist", num_samples=26_000, classifier_workdir="workdirs/mnist_classifier",
      high_quality_threshold=0.9)
  return c
