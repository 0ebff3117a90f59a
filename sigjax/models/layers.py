"""Shared layers."""

import flax.linen as nn
import jax
import jax.numpy as jnp


class BatchStatNorm(nn.Module):
  """Batch normalisation with the statistics of the current batch only.

  GAN generators and discriminators are usually run in training mode, so this
  keeps no running averages: the model stays a pure function of (params,
  inputs), with no mutable collection to thread through the train state.
  Under ``jax.jit`` over a device mesh the mean is over the *global* batch,
  so results do not depend on the number of devices.
  """

  epsilon: float = 1e-5

  @nn.compact
  def __call__(self, x):
    axes = tuple(range(x.ndim - 1))
    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    scale = self.param("scale", nn.initializers.ones, (x.shape[-1],))
    bias = self.param("bias", nn.initializers.zeros, (x.shape[-1],))
    return (x - mean) * jax.lax.rsqrt(var + self.epsilon) * scale + bias


def normalization(kind: str):
  """'batch' -> BatchStatNorm, 'layer' -> LayerNorm, 'none' -> identity."""
  if kind == "batch":
    return BatchStatNorm()
  if kind == "layer":
    return nn.LayerNorm()
  if kind == "none":
    return lambda x: x
  raise ValueError(f"unknown normalization {kind!r}; choose 'batch', 'layer' or 'none'.")


def max_pool_tiles(x, size: int = 2):
  """Max over non-overlapping size x size tiles of x [B, H, W, C] ('VALID': a
  remainder row or column is dropped), as ``nn.max_pool(x, (size, size), (size, size))``.

  Written as a reshape and a max rather than a reduce_window: the gradient of
  reduce_window max is a select_and_scatter, which XLA:CPU runs 6.6x slower than
  this form's (the MNIST classifier's two 2x2 pools, forward + backward at batch
  128: 95.4 vs 14.4 ms, quiet; benchmarks/README.md). Values are identical;
  gradients too wherever a tile's maximum is unique (ties share the gradient
  equally here, flax gives it to the first).
  """
  b, h, w, c = x.shape
  hh, ww = h // size, w // size
  tiles = x[:, :hh * size, :ww * size].reshape(b, hh, size, ww, size, c)
  return tiles.max(axis=(2, 4))
