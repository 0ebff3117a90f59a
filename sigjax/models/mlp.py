"""Toy MLP generator and discriminator for the 2-D mixtures."""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


class MLPGenerator(nn.Module):
  """z [B, z_dim] -> theta [B, out_dim]."""

  out_dim: int = 2
  hidden: Sequence[int] = (128, 128, 128)

  @nn.compact
  def __call__(self, z):
    h = z
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    return nn.Dense(self.out_dim)(h)


class MLPDiscriminator(nn.Module):
  """x [B, D] -> logits [B]."""

  hidden: Sequence[int] = (128, 128, 128)

  @nn.compact
  def __call__(self, x):
    h = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    return jnp.squeeze(nn.Dense(1)(h), -1)
