"""CIFAR-10 DCGAN-SI: DCGAN + lambda * SIG NLL (eq. 4)."""

from configs import cifar10_dcgan


def get_config():
  c = cifar10_dcgan.get_config()
  c.objective.si_weight = 1e-3
  c.objective.si_scale = 0.2
  return c
