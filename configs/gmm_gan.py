"""5x5 Gaussian mixture: plain GAN (eq. 3 + non-saturating generator)."""

from configs import default


def get_config():
  c = default.get_base_config()
  c.num_steps = 10_000
  c.eval_every = 5_000
  c.checkpoint_every = 5_000
  c.eval.num_samples = 50_000
  c.eval.batch_size = 10_000
  c.optim.g_lr = c.optim.d_lr = 1e-3
  return c
