"""5x5 Gaussian mixture: pure SIG (maximum likelihood, no discriminator)."""

from configs import gmm_gan


def get_config():
  c = gmm_gan.get_config()
  c.objective.name = "sig"
  c.eval.sample_kernel_noise = True  # SIG's samples are x ~ p(x | theta)
  return c
