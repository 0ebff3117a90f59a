"""CIFAR-10 WGAN-GP-SI: WGAN-GP + lambda * SIG NLL (eq. 4)."""

from configs import cifar10_wgangp


def get_config():
  c = cifar10_wgangp.get_config()
  c.objective.si_weight = 1e-3
  c.objective.si_scale = 0.2
  return c
