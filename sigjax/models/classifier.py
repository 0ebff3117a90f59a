"""A small CNN classifier for MNIST digits (labels Stacked-MNIST channels)."""

import flax.linen as nn

from sigjax.models.conv import Conv
from sigjax.models.layers import max_pool_tiles


class MnistClassifier(nn.Module):
  """images [B, 28, 28, 1] in [-1, 1] -> logits [B, 10]."""

  num_classes: int = 10

  @nn.compact
  def __call__(self, x):
    h = nn.relu(Conv(32, (3, 3))(x))
    h = max_pool_tiles(nn.relu(Conv(64, (3, 3))(h)))
    h = nn.relu(Conv(64, (3, 3))(h))
    h = max_pool_tiles(h)
    h = nn.relu(nn.Dense(128)(h.reshape(h.shape[0], -1)))
    return nn.Dense(self.num_classes)(h)
