"""5x5 Gaussian mixture: GAN-SI (GAN loss + lambda * SIG NLL, eq. 4)."""

from configs import gmm_gan


def get_config():
  c = gmm_gan.get_config()
  c.objective.si_weight = 0.1
  return c
