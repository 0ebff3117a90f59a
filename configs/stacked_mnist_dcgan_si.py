"""Stacked MNIST with DCGAN-SI (eq. 4); size S, M or L after the colon."""

from configs import stacked_mnist_dcgan


def get_config(size: str = "M"):
  c = stacked_mnist_dcgan.get_config(size)
  c.objective.si_weight = 1e-3
  c.objective.si_scale = 0.2
  return c
