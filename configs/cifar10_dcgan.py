"""CIFAR-10 with the WGAN-GP paper's DCGAN-style G/D and the standard GAN loss."""

from configs import default


def get_config():
  c = default.get_base_config()
  c.data.name = "cifar10"
  c.data.data_dir = "~/tensorflow_datasets"
  c.model.arch = "dcgan32"
  c.model.dim = 64
  c.model.z_dim = 128
  c.model.d_norm = "batch"
  c.batch_size = 64
  c.num_steps = 100_000
  c.log_every = 500
  c.eval_every = 10_000
  c.checkpoint_every = 5_000
  c.optim.g_lr = c.optim.d_lr = 2e-4
  c.optim.ema_decay = 0.999
  c.eval.num_samples = 50_000
  c.eval.batch_size = 500
  return c
