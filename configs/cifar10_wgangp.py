"""CIFAR-10 WGAN-GP (Gulrajani et al.): n_critic 5, lambda_gp 10, Adam(1e-4, 0.5, 0.9)."""

from configs import cifar10_dcgan


def get_config():
  c = cifar10_dcgan.get_config()
  c.objective.name = "wgan_gp"
  c.objective.n_critic = 5
  c.objective.gp_weight = 10.0
  c.model.d_norm = "none"  # the gradient penalty is per example: no batch norm
  c.optim.g_lr = c.optim.d_lr = 1e-4
  c.optim.b1, c.optim.b2 = 0.5, 0.9
  return c
