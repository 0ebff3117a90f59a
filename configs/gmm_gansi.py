"""5x5 Gaussian mixture: GAN-SI (GAN loss + lambda * SIG NLL, eq. 4).

The GAN of configs/gmm_gan.py (the literature's networks and optimiser) plus
the SI term with a fixed kernel std of 0.05 (the data's): a learned std grows
to explain the modes the adversarial term drops, which weakens the SI term
(measured on the earlier 3 x 128 networks).
"""

from configs import gmm_gan


def get_config():
  c = gmm_gan.get_config()
  c.objective.si_weight = 0.01
  c.objective.si_scale = 0.05
  return c
