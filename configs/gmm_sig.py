"""5x5 Gaussian mixture: pure SIG (maximum likelihood, no discriminator).

The kernel std is learned from a wide start (1.0): with a fixed small std
each data point only pulls its nearest theta and the generator fills the
square instead of finding the modes; learning it lets the fit anneal itself.
"""

from configs import gmm_gan


def get_config():
  c = gmm_gan.get_config()
  c.objective.name = "sig"
  c.objective.si_scale = 1.0
  c.objective.learn_scale = True
  c.eval.sample_kernel_noise = True  # SIG's samples are x ~ p(x | theta)
  return c
