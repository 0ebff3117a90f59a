"""The semi-implicit (SIG) mixture negative log-likelihood.

A semi-implicit generator draws ``theta_j = g_phi(z_j)`` and then
``x ~ p(x | theta_j)``. With ``M`` draws its density is the finite mixture
``(1/M) sum_j p(x | theta_j)``, so it can be fitted by maximum likelihood
(eq. 1 of the paper):

.. math::

  H_M = -\\mathbb{E}_{x \\sim p_{data}} \\log \\frac{1}{M}
        \\sum_{j=1}^{M} p(x \\mid \\theta_j).

Both kernels here make ``log p(x_n | theta_m)`` an inner product plus a row
term and a column term, so the ``[N, M]`` log-likelihood matrix costs one
matrix product and the ``[N, M, D]`` difference tensor is never built. On top
of that, :func:`sig_nll` streams over blocks of ``theta`` with an online
log-sum-exp and a custom VJP that recomputes each block on the way back, so
its extra memory is ``O(N * block_size)`` whatever ``M`` is.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from sigjax._mixture_lse import Terms, exact_log_likelihoods, mixture_lse

__all__ = ["KERNELS", "pairwise_log_likelihood", "sig_nll"]

KERNELS = ("gaussian", "bernoulli")

# Default blocks hold at most this many [N, B] entries (2**22 float32 = 16 MiB):
# measured on XLA:CPU, one 4096 x 4096 block ran 8x slower than 1024-column
# blocks (cache-bound epilogue), while 1024 x 1024 in one block was fastest.
_DEFAULT_MAX_BLOCK_ENTRIES = 2**22
# With the default block_size, the backward reuses the forward's pre-logits
# (one GEMM fewer) while all of them fit in this many entries (64 MiB).
_DEFAULT_MAX_SAVED_ENTRIES = 2**24


# ---------------------------------------------------------------------------
# Input checks. They run at trace time on shapes and dtypes; values are only
# inspected when they are concrete (a traced ``scale`` cannot be checked).
# ---------------------------------------------------------------------------


def _check_float(name: str, value: jax.Array) -> None:
  if not jnp.issubdtype(value.dtype, jnp.floating):
    raise TypeError(
        f"sig_nll: `{name}` must have a floating dtype, got {value.dtype}; "
        f"cast it first, e.g. `{name}.astype(jnp.float32)`."
    )


def _check_inputs(x, theta) -> tuple[jax.Array, jax.Array]:
  x = jnp.asarray(x)
  theta = jnp.asarray(theta)
  _check_float("x", x)
  _check_float("theta", theta)
  if x.ndim < 1 or theta.ndim < 1:
    raise ValueError(
        "sig_nll: `x` and `theta` need a leading batch axis, got shapes "
        f"x{tuple(x.shape)} and theta{tuple(theta.shape)}."
    )
  if x.shape[1:] != theta.shape[1:]:
    raise ValueError(
        "sig_nll: trailing shapes of `x` and `theta` must match: x has "
        f"{tuple(x.shape[1:])} per example, theta has {tuple(theta.shape[1:])}."
    )
  if x.size == 0:
    raise ValueError(f"sig_nll: `x` is empty (shape {tuple(x.shape)}).")
  if theta.size == 0:
    raise ValueError(f"sig_nll: `theta` is empty (shape {tuple(theta.shape)}).")
  return x, theta


def _is_concrete(value: Any) -> bool:
  return not isinstance(value, jax.core.Tracer)


def _gaussian_scale(scale, event_shape: tuple[int, ...], dtype) -> jax.Array:
  """Broadcasts ``scale`` to the flattened event shape [D] (or keeps [])."""
  scale = jnp.asarray(scale)
  if not jnp.issubdtype(scale.dtype, jnp.floating):
    scale = scale.astype(dtype)
  if _is_concrete(scale):
    if not bool(np.all(np.asarray(scale) > 0)):
      raise ValueError(
          "sig_nll: `scale` must be > 0 everywhere (it is the Gaussian std), "
          f"got min {float(np.min(np.asarray(scale)))}."
      )
  if scale.ndim == 0:
    return scale.astype(dtype)
  try:
    scale = jnp.broadcast_to(scale, event_shape)
  except ValueError:
    raise ValueError(
        f"sig_nll: `scale` of shape {tuple(scale.shape)} does not broadcast "
        f"to the per-example shape {event_shape}."
    ) from None
  return scale.reshape(-1).astype(dtype)


# ---------------------------------------------------------------------------
# Kernels as Terms: for every kernel
#   log p(x_n | theta_m) = row_n + lhs_n . rhs_m + col_m + const_n,
# and exact(x_rows, theta_rows) = row + lhs.rhs + col computed pair by pair
# in the difference form (O(D) per pair, no cancellation). See _mixture_lse.
# ---------------------------------------------------------------------------


def _gaussian_terms(x2d, theta2d, scale) -> Terms:
  d = x2d.shape[-1]
  # Translation invariance: centring both sides on the (fixed) mean of theta
  # keeps |lhs| |rhs|, which sets the GEMM's rounding error, small when theta
  # sits far from 0. The gradient through the centre is exactly zero.
  centre = jax.lax.stop_gradient(jnp.mean(theta2d, axis=0))
  a = (x2d - centre) / scale
  b = (theta2d - centre) / scale
  log_norm = jnp.sum(jnp.log(jnp.broadcast_to(scale, (d,))))
  const = -(log_norm + 0.5 * d * math.log(2 * math.pi))

  def exact(x_rows, theta_rows):
    return -0.5 * jnp.sum(jnp.square((x_rows - theta_rows) / scale), axis=-1)

  def exact_diff(x_rows, theta_rows, anchor_rows):
    # |x - a|^2 - |x - t|^2 = (t - a) . (2x - t - a): no huge squares.
    return -0.5 * jnp.sum((anchor_rows - theta_rows) / scale
                          * ((2 * x_rows - theta_rows - anchor_rows) / scale), axis=-1)

  return Terms(lhs=a, rhs=b, row=-0.5 * jnp.sum(a * a, axis=-1),
               col=-0.5 * jnp.sum(b * b, axis=-1),
               const=jnp.broadcast_to(const, x2d.shape[:1]), exact=exact,
               exact_diff=exact_diff,
               for_rows=lambda x_rows: _gaussian_terms(x_rows, theta2d, scale))


def _bernoulli_terms(x2d, logits2d) -> Terms:
  # log p(x | l) = sum_d x_d l_d - softplus(l_d), valid for x in [0, 1].
  zeros = jnp.zeros(x2d.shape[:1], x2d.dtype)

  def exact(x_rows, logit_rows):
    # The same value as a sum of non-positive terms: no cancellation.
    return -jnp.sum(
        x_rows * jax.nn.softplus(-logit_rows) + (1.0 - x_rows) * jax.nn.softplus(logit_rows),
        axis=-1,
    )

  def exact_diff(x_rows, logit_rows, anchor_rows):
    # Bernoulli log-likelihoods are bounded by D max|logit|, so the plain
    # difference loses little.
    return exact(x_rows, logit_rows) - exact(x_rows, anchor_rows)

  return Terms(lhs=x2d, rhs=logits2d, row=zeros,
               col=-jnp.sum(jax.nn.softplus(logits2d), axis=-1), const=zeros, exact=exact,
               exact_diff=exact_diff, for_rows=lambda x_rows: _bernoulli_terms(x_rows, logits2d))


def _validate(x, theta, kernel, scale):
  """Checks everything that can be checked before tracing; returns arrays."""
  if kernel not in KERNELS:
    raise ValueError(f"sig_nll: unknown `kernel` {kernel!r}; choose from {KERNELS}.")
  x, theta = _check_inputs(x, theta)
  if kernel == "gaussian":
    _gaussian_scale(scale, tuple(x.shape[1:]), jnp.float32)  # raises if bad
  elif not (isinstance(scale, (int, float)) and scale == 1.0):
    raise ValueError(
        "sig_nll: `scale` is the Gaussian std and has no meaning for the "
        "bernoulli kernel; leave it at its default."
    )
  return x, theta


def _kernel_terms(x, theta, kernel, scale):
  """Returns (x2d, theta2d) and the kernel's matmul-form terms."""
  dtype = jnp.promote_types(jnp.promote_types(x.dtype, theta.dtype), jnp.float32)
  x2d = x.reshape(x.shape[0], -1).astype(dtype)
  theta2d = theta.reshape(theta.shape[0], -1).astype(dtype)
  if kernel == "gaussian":
    scale = _gaussian_scale(scale, tuple(x.shape[1:]), dtype)
    return x2d, theta2d, _gaussian_terms(x2d, theta2d, scale)
  return x2d, theta2d, _bernoulli_terms(x2d, theta2d)


def _resolve_block_size(block_size: Optional[int], n: int, m: int) -> int:
  if block_size is None:
    if n * m <= _DEFAULT_MAX_BLOCK_ENTRIES:
      return m
    return max(128, _DEFAULT_MAX_BLOCK_ENTRIES // max(n, 1))
  if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)):
    raise TypeError(f"sig_nll: `block_size` must be an int or None, got {block_size!r}.")
  if block_size <= 0:
    raise ValueError(f"sig_nll: `block_size` must be positive, got {block_size}.")
  return int(min(block_size, m))


# ---------------------------------------------------------------------------
# Public API.
# ---------------------------------------------------------------------------


def pairwise_log_likelihood(
    x: jax.Array,
    theta: jax.Array,
    *,
    kernel: str = "gaussian",
    scale: Any = 1.0,
) -> jax.Array:
  r"""All pairwise log-likelihoods ``log p(x_n | theta_m)``.

  Gaussian kernel (mean ``theta``, std ``scale``, scalar or per-dimension):

  .. math::

    \log p(x \mid \theta) = -\tfrac12 \sum_d \Big(\frac{x_d - \theta_d}{s_d}\Big)^2
      - \sum_d \log s_d - \tfrac{D}{2} \log 2\pi .

  Bernoulli kernel (``theta`` are logits, ``x`` in [0, 1]):

  .. math::

    \log p(x \mid \theta) = \sum_d x_d \theta_d - \operatorname{softplus}(\theta_d).

  Computed pair by pair in the difference form (no cancellation, so float32
  results carry float32 rounding only, at any scale), over blocks of columns
  of at most 2**20 ``[N, B, D]`` entries. This materialises the ``[N, M]``
  matrix and costs O(N M D) elementwise work; :func:`sig_nll` streams with one
  GEMM per block instead.

  Args:
    x: data, ``[N, ...]``, floating.
    theta: kernel parameters, ``[M, ...]`` with the same trailing shape as ``x``.
    kernel: ``"gaussian"`` or ``"bernoulli"``.
    scale: Gaussian std ``> 0``; a scalar or an array broadcastable to the
      trailing shape of ``x``. Differentiable.

  Returns:
    ``[N, M]`` log-likelihoods in nats.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.loss import pairwise_log_likelihood
    >>> x = jnp.array([[0.0], [1.0]])
    >>> theta = jnp.array([[0.0], [2.0], [4.0]])
    >>> [[round(float(v), 3) for v in row] for row in pairwise_log_likelihood(x, theta)]
    [[-0.919, -2.919, -8.919], [-1.419, -1.419, -5.419]]
  """
  x, theta = _validate(x, theta, kernel, scale)
  return _pairwise_impl(x, theta, scale, kernel=kernel)


@functools.partial(jax.jit, static_argnames=("kernel",))
def _pairwise_impl(x, theta, scale, *, kernel):
  x2d, theta2d, terms = _kernel_terms(x, theta, kernel, scale)
  return exact_log_likelihoods(x2d, theta2d, terms.exact) + terms.const[:, None]


def sig_nll(
    x: jax.Array,
    theta: jax.Array,
    *,
    kernel: str = "gaussian",
    scale: Any = 1.0,
    axis_name: Optional[Any] = None,
    block_size: Optional[int] = None,
    precision: Any = jax.lax.Precision.HIGHEST,
) -> jax.Array:
  r"""Per-example semi-implicit mixture negative log-likelihood.

  .. math::

    \ell(x_n) = -\log \frac{1}{M} \sum_{j=1}^{M} p(x_n \mid \theta_j),

  so ``sig_nll(x, theta).mean()`` is the Monte-Carlo estimate of
  :math:`H_M` (eq. 1), with ``theta = g_phi(z)`` for ``M`` draws of ``z``.
  See :func:`pairwise_log_likelihood` for the kernels. Computed with a
  log-sum-exp (never ``exp`` then ``log``), so it is finite for any ``scale``.

  Memory: ``theta`` is processed in blocks of ``block_size`` rows with an
  online log-sum-exp. With an explicit ``block_size`` the backward pass
  recomputes each block, so extra memory is ``O(N * block_size)`` for both
  value and gradient. ``None`` picks blocks of ``max(128, 2**22 // N)`` rows
  (one block when ``N * M <= 2**22``) and, while ``N * M <= 2**24`` (64 MiB
  of float32), keeps the forward's logits for the backward instead of
  recomputing them (a GEMM fewer); beyond that it streams as above.

  Multi-device: inside ``jax.pmap`` or ``jax.shard_map``, pass ``axis_name``
  to all-gather ``theta`` over that axis, so every local ``x`` is scored
  against the mixture of all devices' ``theta`` (``M`` is then the global
  count). Gradients flow back to each device's own ``theta`` (the transpose
  of the gather is a reduce-scatter). Under plain ``jax.jit`` with sharded
  global arrays no ``axis_name`` is needed.

  Args:
    x: data, ``[N, ...]``, floating.
    theta: generator outputs (kernel parameters), ``[M, ...]``, same trailing
      shape as ``x``. Trailing dims are flattened to ``D``.
    kernel: ``"gaussian"`` (default) or ``"bernoulli"`` (``theta`` are logits).
    scale: Gaussian std ``> 0``, scalar or broadcastable to the trailing
      shape; differentiable, so it can be learned. Gaussian kernel only.
    axis_name: named mapped axis to gather ``theta`` over, or ``None``.
    block_size: rows of ``theta`` per streamed block (any positive int; it
      need not divide ``M``), or ``None`` for the automatic choice.
    precision: precision of the matrix products (default ``HIGHEST``).

  Returns:
    ``[N]`` negative log-likelihoods in nats, dtype of the inputs promoted to
    at least float32.

  Raises:
    ValueError: trailing shapes differ, an input is empty, ``scale <= 0``
      (when concrete), unknown ``kernel``, bad ``block_size``.
    TypeError: ``x`` or ``theta`` is not floating point.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.loss import sig_nll
    >>> x = jnp.array([[0.0, 0.0], [3.0, 4.0]])
    >>> theta = jnp.array([[0.0, 0.0], [3.0, 4.0]])
    >>> [round(float(v), 4) for v in sig_nll(x, theta, scale=1.0)]  # log 2 + log 2pi
    [2.531, 2.531]
  """
  x, theta = _validate(x, theta, kernel, scale)
  if block_size is not None:
    _resolve_block_size(block_size, 1, 1)  # type/range errors before tracing
  return _sig_nll_impl(
      x, theta, scale, kernel=kernel, axis_name=axis_name,
      block_size=block_size, precision=precision,
  )


# Jitted so eager calls compile once instead of dispatching op by op (the scan
# and custom VJP are ~10x slower eagerly); nested inside pmap / shard_map /
# jit it is inlined like any other function.
@functools.partial(
    jax.jit, static_argnames=("kernel", "axis_name", "block_size", "precision")
)
def _sig_nll_impl(x, theta, scale, *, kernel, axis_name, block_size, precision):
  if axis_name is not None:
    theta = jax.lax.all_gather(theta, axis_name, axis=0, tiled=True)
  x2d, theta2d, terms = _kernel_terms(x, theta, kernel, scale)
  n, m = x2d.shape[0], theta2d.shape[0]
  block = _resolve_block_size(block_size, n, m)
  keep_pre = block_size is None and n * m <= _DEFAULT_MAX_SAVED_ENTRIES
  lse = mixture_lse(x2d, theta2d, terms, block_size=block, precision=precision,
                    keep_pre=keep_pre)
  return -(lse - math.log(m) + terms.const)
