"""Toy MLP generator and discriminator for the 2-D mixtures.

The literature's grid networks (VEEGAN / PacGAN, fjxmlzn/PacGAN's
2DGrid config): a generator of 4 x 400 ReLU units with batch norm and no
hidden biases, and a discriminator of 3 x 200 maxout units with 5 pieces,
weights drawn from N(0, 0.02^2). ``norm``, ``maxout_pieces`` and
``init_std`` select that; the defaults are plain ReLU MLPs with flax's
initialisers.
"""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from sigjax.models.layers import normalization


def _dense(features, init_std, use_bias=True):
  if init_std > 0:
    return nn.Dense(features, use_bias=use_bias, kernel_init=nn.initializers.normal(init_std))
  return nn.Dense(features, use_bias=use_bias)


class MLPGenerator(nn.Module):
  """z [B, z_dim] -> theta [B, out_dim]."""

  out_dim: int = 2
  hidden: Sequence[int] = (128, 128, 128)
  norm: str = "none"  # "batch": batch norm before each ReLU (then no hidden bias)
  init_std: float = 0.0  # > 0: N(0, init_std^2) weights instead of flax's default

  @nn.compact
  def __call__(self, z):
    h = z
    for width in self.hidden:
      h = _dense(width, self.init_std, use_bias=self.norm == "none")(h)
      h = nn.relu(normalization(self.norm)(h))
    return _dense(self.out_dim, self.init_std)(h)


class MLPDiscriminator(nn.Module):
  """x [B, D] -> logits [B]."""

  hidden: Sequence[int] = (128, 128, 128)
  maxout_pieces: int = 1  # 1: ReLU units; k > 1: maxout over k linear pieces
  init_std: float = 0.0

  @nn.compact
  def __call__(self, x):
    h = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      if self.maxout_pieces > 1:
        h = _dense(width * self.maxout_pieces, self.init_std)(h)
        h = jnp.max(h.reshape(h.shape[0], width, self.maxout_pieces), axis=-1)
      else:
        h = nn.relu(_dense(width, self.init_std)(h))
    return jnp.squeeze(_dense(1, self.init_std)(h), -1)
