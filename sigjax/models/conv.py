"""Convolutions that are fast on XLA:CPU as well as on accelerators.

On GPU/TPU ``conv_general_dilated`` is the native XLA convolution. On CPU it
is lowered as im2col: the input is padded (and dilated, for transposed
convolutions), the kh*kw shifted windows are concatenated along features and
one GEMM applies the kernel; autodiff turns slices into pads and the GEMM into
GEMMs. Why: XLA:CPU runs some convolution shapes 10-30x below its GEMM rate,
notably input-dilated ones (transposed convolutions and the input gradient of
strided ones) and the kernel gradient of wide stride-1 layers (measured with
jax 0.10.2 on 2 cores: a 5x5, 256->128, stride-2 transposed conv took 0.51 s
forward where its GEMM takes 0.05 s; see benchmarks/README.md). The choice is
made when XLA lowers for a platform (``jax.lax.platform_dependent``), so one
model definition serves both; small kernels stay native everywhere.

``Conv`` and ``ConvTranspose`` are flax's modules with this convolution
plugged in; their params are named and initialised exactly like flax's.
"""

from __future__ import annotations

import functools
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import lax

_NHWC = ("NHWC", "HWIO", "NHWC")
# Kernels with fewer entries (kh*kw*C*F) stay native on CPU too: their GEMM is
# too small to pay for gathering the windows (measured per layer of the
# Stacked-MNIST DCGAN: a 4x4, 32->16 stride-2 transposed conv ran 3.5x slower
# as im2col, while the 3x3, 32->64 classifier layer ran 3x faster).
MIN_IM2COL_KERNEL_SIZE = 2 ** 14


def _pairs(value, default=1):
  return (default, default) if value is None else tuple(value)


def im2col_conv(lhs, rhs, window_strides, padding, *, lhs_dilation=None, rhs_dilation=None,
                precision=None):
  """``lax.conv_general_dilated`` for NHWC x HWIO as one GEMM over gathered windows.

  Args:
    lhs: [B, H, W, C] input.
    rhs: [kh, kw, C, F] kernel.
    window_strides, padding, lhs_dilation, rhs_dilation: as in
      ``lax.conv_general_dilated`` (padding a string or (lo, hi) pairs).

  Returns:
    [B, H', W', F], equal to the native convolution up to summation order.
  """
  kh, kw, c, f = rhs.shape
  b = lhs.shape[0]
  ld, rd, strides = _pairs(lhs_dilation), _pairs(rhs_dilation), _pairs(window_strides)
  window = [(k - 1) * d + 1 for k, d in zip((kh, kw), rd)]
  if isinstance(padding, str):
    dilated = [(n - 1) * d + 1 for n, d in zip(lhs.shape[1:3], ld)]
    padding = lax.padtype_to_pads(dilated, window, strides, padding)
  (lo_h, hi_h), (lo_w, hi_w) = padding
  x = lax.pad(lhs, jnp.zeros((), lhs.dtype),
              [(0, 0, 0), (lo_h, hi_h, ld[0] - 1), (lo_w, hi_w, ld[1] - 1), (0, 0, 0)])
  out_h = (x.shape[1] - window[0]) // strides[0] + 1
  out_w = (x.shape[2] - window[1]) // strides[1] + 1
  columns = [
      lax.slice(x, (0, i * rd[0], j * rd[1], 0),
                (b, i * rd[0] + (out_h - 1) * strides[0] + 1, j * rd[1] + (out_w - 1) * strides[1] + 1, c),
                (1, strides[0], strides[1], 1))
      for i in range(kh) for j in range(kw)
  ]
  # Feature order (i, j, c) is the row order of rhs.reshape(kh * kw * c, f).
  patches = jnp.concatenate(columns, axis=-1)
  return jnp.dot(patches, rhs.reshape(kh * kw * c, f), precision=precision)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
  """Drop-in ``lax.conv_general_dilated``: im2col on CPU, native elsewhere."""
  native = functools.partial(
      lax.conv_general_dilated, window_strides=window_strides, padding=padding,
      lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count, batch_group_count=batch_group_count,
      precision=precision, preferred_element_type=preferred_element_type)
  nhwc = lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
  given = (nhwc if dimension_numbers is None
           else lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers))
  if (given != nhwc or lhs.ndim != 4 or feature_group_count != 1 or batch_group_count != 1
      or preferred_element_type is not None or rhs.size < MIN_IM2COL_KERNEL_SIZE):
    return native(lhs, rhs)
  cpu = functools.partial(im2col_conv, window_strides=window_strides, padding=padding,
                          lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation, precision=precision)
  return lax.platform_dependent(lhs, rhs, cpu=cpu, default=native)


def _transpose_padding(kernel: int, stride: int, padding: str) -> tuple[int, int]:
  # lax.conv_transpose's padding rule for 'SAME' / 'VALID' (same output sizes).
  if padding == "SAME":
    total = kernel + stride - 2
    low = kernel - 1 if stride > kernel - 1 else -(-total // 2)
  elif padding == "VALID":
    total = kernel + stride - 2 + max(kernel - stride, 0)
    low = kernel - 1
  else:
    raise ValueError(f"ConvTranspose padding must be 'SAME' or 'VALID', got {padding!r}.")
  return low, total - low


Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated)


class ConvTranspose(nn.Module):
  """flax.linen.ConvTranspose (NHWC, padding 'SAME' / 'VALID'), same params."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (1, 1)
  padding: str = "SAME"
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    strides = _pairs(self.strides)
    pads = [_transpose_padding(k, s, self.padding) for k, s in zip(self.kernel_size, strides)]
    y = conv_general_dilated(x, kernel, (1, 1), pads, lhs_dilation=strides,
                             dimension_numbers=_NHWC)
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,))
    return y
