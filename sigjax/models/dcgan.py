"""DCGAN generators and discriminators.

* 28x28x3 (Stacked MNIST): the Unrolled-GAN experiment's pair, as the public
  code that reproduces it (PacGAN, ``stacked_MNIST_experiments/
  unrolled_GAN_experiment``, DCGAN-tensorflow layers) builds it. Generator:
  linear to 4x4x64, 3x3 stride-2 deconvolutions to 7x7x32, 14x14x16, 28x28x8
  (batch norm + ReLU after each), a 3x3 conv to 3 channels and tanh.
  Discriminator: three 3x3 stride-2 convolutions with (2, 4, 8), (4, 8, 16) or
  (8, 16, 32) channels (sizes S, M, L: D = G/4, G/2, G), each with batch norm
  and leaky ReLU 0.3, and a linear output. Weights start N(0, 0.02)
  (truncated for the convolutions), biases 0.
* 32x32x3 (CIFAR-10): the WGAN-GP paper's DCGAN-style pair, width ``dim``.
"""

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from sigjax.models.conv import Conv, ConvTranspose
from sigjax.models.layers import normalization


def _bias(norm: str) -> bool:
  # Batch norm subtracts the mean, so a bias before it has an exactly zero
  # gradient: Adam would turn its round-off into +-lr steps. Leave it out.
  return norm != "batch"

DISCRIMINATOR_CHANNELS = {"S": (2, 4, 8), "M": (4, 8, 16), "L": (8, 16, 32)}
# DCGAN-tensorflow's initialisers, which the Stacked-MNIST reference uses:
# normal(0.02) for linear and transposed layers, truncated normal for convs.
_NORMAL = nn.initializers.normal(0.02)
_TRUNCATED = nn.initializers.truncated_normal(0.02)
MNIST_LEAK = 0.3  # the reference discriminator's leaky-ReLU slope


class MnistGenerator(nn.Module):
  """z [B, z_dim] -> images [B, 28, 28, channels] in [-1, 1]."""

  channels: int = 3
  norm: str = "batch"

  @nn.compact
  def __call__(self, z):
    b = _bias(self.norm)
    h = nn.Dense(4 * 4 * 64, use_bias=b, kernel_init=_NORMAL)(z).reshape(z.shape[0], 4, 4, 64)
    h = nn.relu(normalization(self.norm)(h))
    # 4 -> 7 -> 14 -> 28; the first is TF's conv2d_transpose to output_shape 7.
    for features, padding in ((32, ((1, 1), (1, 1))), (16, "SAME"), (8, "SAME")):
      h = ConvTranspose(features, (3, 3), strides=(2, 2), padding=padding, use_bias=b,
                        kernel_init=_NORMAL)(h)
      h = nn.relu(normalization(self.norm)(h))
    return jnp.tanh(Conv(self.channels, (3, 3), padding="SAME", kernel_init=_TRUNCATED)(h))


class MnistDiscriminator(nn.Module):
  """images [B, 28, 28, C] -> logits [B]."""

  channels: Sequence[int] = DISCRIMINATOR_CHANNELS["M"]
  norm: str = "batch"

  @nn.compact
  def __call__(self, x):
    h = x
    for c in self.channels:  # 28 -> 14 -> 7 -> 4; the reference normalises every layer
      h = Conv(c, (3, 3), strides=(2, 2), padding="SAME", use_bias=_bias(self.norm),
               kernel_init=_TRUNCATED)(h)
      h = nn.leaky_relu(normalization(self.norm)(h), MNIST_LEAK)
    return jnp.squeeze(nn.Dense(1, kernel_init=_NORMAL)(h.reshape(h.shape[0], -1)), -1)


class CifarGenerator(nn.Module):
  """z [B, z_dim] -> images [B, 32, 32, 3] in [-1, 1] (WGAN-GP's DCGAN G)."""

  dim: int = 64
  norm: str = "batch"

  @nn.compact
  def __call__(self, z):
    b = _bias(self.norm)
    h = nn.Dense(4 * 4 * 4 * self.dim, use_bias=b)(z).reshape(z.shape[0], 4, 4, 4 * self.dim)
    h = nn.relu(normalization(self.norm)(h))
    for c in (2 * self.dim, self.dim):  # 8x8, 16x16
      h = ConvTranspose(c, (5, 5), strides=(2, 2), padding="SAME", use_bias=b)(h)
      h = nn.relu(normalization(self.norm)(h))
    return jnp.tanh(ConvTranspose(3, (5, 5), strides=(2, 2), padding="SAME")(h))


class CifarDiscriminator(nn.Module):
  """images [B, 32, 32, 3] -> logits [B] (WGAN-GP's DCGAN D; no batch norm for GP)."""

  dim: int = 64
  norm: str = "none"

  @nn.compact
  def __call__(self, x):
    h = x
    for i, c in enumerate((self.dim, 2 * self.dim, 4 * self.dim)):
      h = Conv(c, (5, 5), strides=(2, 2), padding="SAME", use_bias=i == 0 or _bias(self.norm))(h)
      if i > 0:
        h = normalization(self.norm)(h)
      h = nn.leaky_relu(h, 0.2)
    return jnp.squeeze(nn.Dense(1)(h.reshape(h.shape[0], -1)), -1)
