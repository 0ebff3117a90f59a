"""5x5 Gaussian mixture: pure SIG (maximum likelihood, no discriminator).

The kernel std is learned from a wide start (1.0): with a fixed small std
each data point only pulls its nearest theta and the generator fills the
square instead of finding the modes; learning it lets the fit anneal itself.
Network: 3 x 128 ReLU, z in R^64, batch 256, Adam(1e-3, beta1 0.5), 10k steps
(the setup the README's SIG row was measured with).
"""

from configs import default


def get_config():
  c = default.get_base_config()
  c.num_devices = 1  # a toy: one device is fastest
  c.num_steps = 10_000
  c.eval_every = 5_000
  c.checkpoint_every = 5_000
  c.model.g_norm = "none"
  c.optim.g_lr = c.optim.d_lr = 1e-3
  c.objective.name = "sig"
  c.objective.si_scale = 1.0
  c.objective.learn_scale = True
  c.objective.sample_kernel_noise = True  # SIG's samples are x ~ p(x | theta)
  c.eval_batch_size = 10_000
  c.evals.modes.num_samples = 50_000
  return c
