"""CIFAR-10 with the WGAN-GP paper's DCGAN-style G/D and the standard GAN loss."""

import ml_collections

from configs import default


def get_config():
  c = default.get_base_config()
  c.data.name = "cifar10"
  c.data.data_dir = "~/tensorflow_datasets"
  c.model_name = "dcgan32"
  c.model = ml_collections.ConfigDict(dict(z_dim=128, dim=64, g_norm="batch", d_norm="batch"))
  c.batch_size = 64
  c.num_steps = 100_000
  c.log_every = 500
  c.eval_every = 10_000
  c.checkpoint_every = 5_000
  c.optim.g_lr = c.optim.d_lr = 2e-4
  c.optim.ema_decay = 0.999
  c.eval_batch_size = 500
  c.evals = ml_collections.ConfigDict()
  c.evals.samples = default.evaluator(c, "sample_grid", num_samples=64)
  # Inception Score (10 splits of 50,000 samples) and FID against 50,000
  # training images, from FID Inception-v3 weights (sigjax/models/inception.py;
  # "" skips both).
  c.evals.inception = default.evaluator(c, "inception", num_samples=50_000, weights="",
                                        splits=10, fid_reference_samples=50_000)
  return c
