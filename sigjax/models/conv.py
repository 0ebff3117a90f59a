"""Convolutions that are fast on XLA:CPU as well as on accelerators.

On GPU/TPU ``conv_general_dilated`` is the native XLA convolution. On CPU,
every convolution with a large kernel is rewritten into stride-1, undilated
convolutions, the shape XLA:CPU runs near its GEMM rate. Why: XLA:CPU runs
input-dilated convolutions (transposed convolutions, and the input gradient of
strided ones) and some kernel gradients 10-40x below that rate (jax 0.10.2, 2
cores: a 5x5, 256->128, 4x4 -> 8x8 transposed convolution took 570 ms forward,
its phase form 15-19 ms; see benchmarks/README.md).

* Transposed (input-dilated) convolution, stride s: the phase (sub-pixel)
  decomposition. Output pixels with the same position modulo s see only one
  sub-kernel ``w[k0::s]`` over the undilated input, so the result is s^2
  stride-1 convolutions, interleaved: no multiplications by inserted zeros.
* Strided convolution: XLA's forward, with a custom VJP whose input gradient
  is the phase form of the transposed convolution (not XLA's input-dilated
  one) and whose kernel gradient is one GEMM over the strided windows (XLA's
  is a kernel-dilated convolution, emitted as a naive loop inside lax.scan).
* Stride-1 convolution (and each phase of the above): XLA's forward and input
  gradient, with the kernel gradient as one GEMM over the input's windows
  (XLA's kernel gradient of the 3x3, 32->64, 28x28 classifier layer took 1.1 s,
  the GEMM 0.24 s; and inside lax.scan bodies, where critic updates run,
  XLA:CPU emits its kernel-gradient convolutions as naive loops).

Every rule is exact up to float summation order, differentiable to any order
(the WGAN-GP penalty differentiates the input gradient), and chosen when XLA
lowers for a platform (``jax.lax.platform_dependent``), so one model definition
serves CPU and accelerators. Which convolutions are rewritten is decided per
shape (``_worth_rewriting``); the others stay native everywhere. ``Conv`` and
``ConvTranspose`` are flax's modules with this convolution plugged in; their
params are named and initialised like flax's.
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

_NHWC = ("NHWC", "HWIO", "NHWC")
# Stride-1 kernels with fewer entries (kh*kw*C*F) stay native on CPU too: the
# GEMM kernel gradient loses on small layers (a 3x3, 8->3 Stacked-MNIST layer ran
# 2x slower) and wins on the classifier's 32->64 one (4.6x; benchmarks/conv.py).
MIN_REWRITE_KERNEL_SIZE = 2 ** 14


def _pairs(value, default=1):
  return (default, default) if value is None else tuple(value)


def _native(x, w, strides=(1, 1), padding="VALID", lhs_dilation=None, precision=None):
  return lax.conv_general_dilated(x, w, strides, padding, lhs_dilation=lhs_dilation,
                                  dimension_numbers=_NHWC, precision=precision)


def _pad_hw(x, pads):
  (lo_h, hi_h), (lo_w, hi_w) = pads  # negative values crop
  return lax.pad(x, jnp.zeros((), x.dtype), [(0, 0, 0), (lo_h, hi_h, 0), (lo_w, hi_w, 0), (0, 0, 0)])


def _flip_io(w):
  # The kernel of the adjoint: spatially flipped, input and output features swapped.
  return jnp.swapaxes(w[::-1, ::-1], 2, 3)


def _windows(x, kh, kw, out_h, out_w, strides=(1, 1)):
  # [B, out_h, out_w, kh*kw*C]: x's kh*kw shifted (strided) windows, feature order
  # (i, j, c), the row order of a kernel reshaped to [kh*kw*C, F].
  s_h, s_w = strides
  return jnp.concatenate(
      [x[:, i:i + (out_h - 1) * s_h + 1:s_h, j:j + (out_w - 1) * s_w + 1:s_w]
       for i in range(kh) for j in range(kw)], axis=-1)


def _sum_over_positions(a, b, precision):
  # sum over batch and pixels of a[..., p]^T b[..., q]: [P, Q], one GEMM.
  return lax.dot_general(a, b, (((0, 1, 2), (0, 1, 2)), ((), ())), precision=precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_valid(x, w, precision=None):
  """Stride-1, undilated 'VALID' correlation of x [B, H, W, C] with w [kh, kw, C, F].

  Forward and input gradient are XLA's convolutions; the kernel gradient is
  one GEMM over x's kh*kw shifted windows. XLA's own kernel gradient is a
  convolution in a non-canonical layout that XLA:CPU emits as a naive loop
  inside lax.scan bodies (the WGAN-GP critic step went from 1.2 s to 6.7 s).
  """
  return _native(x, w, precision=precision)


def _conv_valid_fwd(x, w, precision):
  return conv_valid(x, w, precision), (x, w)


def _conv_valid_bwd(precision, residuals, dy):
  x, w = residuals
  kh, kw, c, f = w.shape
  dx = conv_valid(_pad_hw(dy, ((kh - 1, kh - 1), (kw - 1, kw - 1))), _flip_io(w), precision)
  windows = _windows(x, kh, kw, *dy.shape[1:3])
  dw = _sum_over_positions(windows, dy, precision).reshape(kh, kw, c, f)
  return dx, dw


conv_valid.defvjp(_conv_valid_fwd, _conv_valid_bwd)


def _phase_plan(n, k, s, lo, hi):
  """One axis of corr(pad(dilate_s(x), lo, hi), w): the output length, the
  length q of each phase y[r::s] (padded up to ceil(out / s)), and per phase
  r the taps w[k0::s] it uses and the (low, high) padding of x that makes the
  phase a 'VALID' correlation of length q."""
  out = (n - 1) * s + 1 + lo + hi - k + 1
  q = -(-out // s)
  phases = []
  for r in range(s):
    k0 = (lo - r) % s  # output r + s*i meets x only through taps k0, k0 + s, ...
    taps = len(range(k0, k, s))
    offset = (r + k0 - lo) // s  # exact: x index of tap k0 at phase position 0
    phases.append((slice(k0, k, s), -offset, q - 1 + taps - n + offset, taps))
  return out, q, phases


def _phase_conv(x, w, padding, lhs_dilation, precision=None):
  # s_h*s_w stride-1 convolutions on the undilated x, interleaved.
  b, n_h, n_w, _ = x.shape
  kh, kw, _, f = w.shape
  (s_h, s_w) = lhs_dilation
  out_h, q_h, rows = _phase_plan(n_h, kh, s_h, *padding[0])
  out_w, q_w, cols = _phase_plan(n_w, kw, s_w, *padding[1])
  phases = []
  for taps_h, lo_h, hi_h, t_h in rows:
    row = []
    for taps_w, lo_w, hi_w, t_w in cols:
      if t_h == 0 or t_w == 0:  # kernel smaller than the stride: this phase sees nothing
        row.append(jnp.zeros((b, q_h, q_w, f), x.dtype))
      else:
        row.append(conv_valid(_pad_hw(x, ((lo_h, hi_h), (lo_w, hi_w))), w[taps_h, taps_w],
                              precision))
    phases.append(jnp.stack(row, 3))  # [B, q_h, q_w, s_w, F]
  y = jnp.stack(phases, 2).reshape(b, q_h * s_h, q_w * s_w, f)  # [B, q_h, s_h, q_w, s_w, F]
  return y[:, :out_h, :out_w]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def dilated_conv(x, w, padding, lhs_dilation, precision=None):
  """``conv_general_dilated(x, w, 1, padding, lhs_dilation)`` (a transposed
  convolution): forward in the phase form; input gradient a strided
  convolution of dy; kernel gradient one GEMM of x with dy's strided windows."""
  return _phase_conv(x, w, padding, lhs_dilation, precision)


def _dilated_fwd(x, w, padding, lhs_dilation, precision):
  return dilated_conv(x, w, padding, lhs_dilation, precision), (x, w)


def _dilated_bwd(padding, lhs_dilation, precision, residuals, dy):
  x, w = residuals
  kh, kw, c, f = w.shape
  # dx[i] = sum_k dy[lo + s*i - k] w[k]^T: dy padded by (k - 1 - lo) low, correlated
  # with the flipped kernel at stride s, cropped or padded high to the n inputs.
  dy_padding = tuple((k - 1 - lo, (n - 1) * s + 1 - o + lo) for n, k, s, (lo, _), o in
                     zip(x.shape[1:3], (kh, kw), lhs_dilation, padding, dy.shape[1:3]))
  dx = strided_conv(dy, _flip_io(w), tuple(lhs_dilation), dy_padding, precision)
  # dw[k - 1 - m] = sum_i x[i]^T dyp[s*i + m]: the same padded dy's strided windows.
  windows = _windows(_pad_hw(dy, dy_padding), kh, kw, *x.shape[1:3], lhs_dilation)
  dw = _sum_over_positions(x, windows, precision).reshape(c, kh, kw, f)
  return dx, jnp.transpose(dw, (1, 2, 0, 3))[::-1, ::-1]


dilated_conv.defvjp(_dilated_fwd, _dilated_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def strided_conv(x, w, strides, padding, precision=None):
  """XLA's strided convolution (explicit (lo, hi) padding) whose input gradient
  is the phase form of the transposed convolution and whose kernel gradient is
  one GEMM over x's strided windows."""
  return _native(x, w, strides, padding, precision=precision)


def _strided_fwd(x, w, strides, padding, precision):
  return strided_conv(x, w, strides, padding, precision), (x, w)


def _strided_bwd(strides, padding, precision, residuals, dy):
  x, w = residuals
  # dx[i] = sum_{o*s + j = i + lo} dy[o] w[j]: the s-dilated dy correlated with the
  # flipped kernel, padded so that exactly the n input positions come out.
  dx_padding = tuple((k - 1 - lo, n + lo - (o - 1) * s - 1) for n, k, s, (lo, _), o in
                     zip(x.shape[1:3], w.shape[:2], strides, padding, dy.shape[1:3]))
  dx = dilated_conv(dy, _flip_io(w), dx_padding, strides, precision)
  # The kernel gradient as one GEMM over the strided windows (see _worth_rewriting).
  kh, kw, c, f = w.shape
  windows = _windows(_pad_hw(x, padding), kh, kw, *dy.shape[1:3], strides)
  return dx, _sum_over_positions(windows, dy, precision).reshape(kh, kw, c, f)


strided_conv.defvjp(_strided_fwd, _strided_bwd)


def cpu_conv(lhs, rhs, window_strides, padding, *, lhs_dilation=None, precision=None):
  """``lax.conv_general_dilated`` (NHWC x HWIO, no kernel dilation) in the
  stride-1 forms above: the convolution this module runs on CPU."""
  strides, dilation = _pairs(window_strides), _pairs(lhs_dilation)
  if isinstance(padding, str):
    dilated = [(n - 1) * d + 1 for n, d in zip(lhs.shape[1:3], dilation)]
    padding = lax.padtype_to_pads(dilated, rhs.shape[:2], strides, padding)
  padding = tuple(tuple(p) for p in padding)
  if dilation != (1, 1):
    if strides != (1, 1):  # strided and dilated: no model here uses it
      return _native(lhs, rhs, strides, padding, dilation, precision)
    return dilated_conv(lhs, rhs, padding, dilation, precision)
  if strides != (1, 1):
    return strided_conv(lhs, rhs, strides, padding, precision)
  return conv_valid(_pad_hw(lhs, padding), rhs, precision)


def _worth_rewriting(kernel_shape, window_strides, lhs_dilation) -> bool:
  """Where the CPU forms beat XLA's (benchmarks/conv.py, every model layer)."""
  if _pairs(lhs_dilation) != (1, 1):
    # Transposed: the phase form wins from 8 output features up (the Stacked-MNIST
    # 32->16 layer 2.4x; its generator's backward 54 -> 40-46 ms with the 16->8 layer
    # too); with 3 (a CIFAR generator's last layer) XLA's is 2.5x faster.
    return kernel_shape[-1] >= 8
  if _pairs(window_strides) != (1, 1):
    # Strided: always, since XLA's kernel gradient of one (a kernel-dilated
    # convolution) is emitted as a naive loop inside lax.scan bodies, where the
    # critic updates run (a CIFAR critic update took 10 s instead of 0.4 s).
    return True
  return math.prod(kernel_shape) >= MIN_REWRITE_KERNEL_SIZE


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
  """Drop-in ``lax.conv_general_dilated``: the stride-1 forms on CPU, native elsewhere."""
  native = functools.partial(
      lax.conv_general_dilated, window_strides=window_strides, padding=padding,
      lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count, batch_group_count=batch_group_count,
      precision=precision, preferred_element_type=preferred_element_type)
  nhwc = lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
  given = (nhwc if dimension_numbers is None
           else lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers))
  if (given != nhwc or lhs.ndim != 4 or feature_group_count != 1 or batch_group_count != 1
      or _pairs(rhs_dilation) != (1, 1) or preferred_element_type is not None
      or not _worth_rewriting(rhs.shape, window_strides, lhs_dilation)):
    return native(lhs, rhs)
  cpu = functools.partial(cpu_conv, window_strides=window_strides, padding=padding,
                          lhs_dilation=lhs_dilation, precision=precision)
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
  """flax.linen.ConvTranspose (NHWC), same params.

  ``padding``: 'SAME', 'VALID', or explicit (low, high) pairs per spatial dim,
  as ``lax.conv_transpose`` takes them (padding of the stride-dilated input):
  e.g. ((1, 1), (1, 1)) with a 3x3 kernel and stride 2 maps 4x4 to 7x7, as
  TensorFlow's ``conv2d_transpose`` with ``output_shape`` 7x7 does.
  """

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (1, 1)
  padding: str | Sequence[tuple[int, int]] = "SAME"
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    strides = _pairs(self.strides)
    if isinstance(self.padding, str):
      pads = [_transpose_padding(k, s, self.padding) for k, s in zip(self.kernel_size, strides)]
    else:
      pads = [tuple(p) for p in self.padding]
    y = conv_general_dilated(x, kernel, (1, 1), pads, lhs_dilation=strides,
                             dimension_numbers=_NHWC)
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,))
    return y
