r"""Theorem 1: how SIG spreads M generated points over K modes.

Setting (Definition 1 of the paper): data lie in K well-separated modes
``U_1..U_K``; N data points, ``n_k`` of them in ``U_k``; M generated points,
``m_k`` of them in ``U_k``. With an RBF kernel ``r``, ``u = E r(x, theta)`` for
``x, theta`` in the same mode and ``v`` for different modes (``u > v > 0``).
Objective (2), the expected SIG loss of the assignment, is

.. math::

  J(m) = -\frac{1}{N} \sum_{k=1}^{K} n_k
         \log \frac{m_k u + (M - m_k) v}{M},

which depends on ``m`` only through the fractions ``f_k = m_k / M`` and is
convex in them. Theorem 1's closed form

.. math::

  f_k^* = \frac{n_k}{N} + \Big(\frac{n_k}{N} - \frac{1}{K}\Big)\frac{K v}{u - v}

is the stationary point of ``J`` on the hyperplane ``sum_k f_k = 1``. It is
positive exactly when ``n_k > activation_threshold(N, K, u, v)``. For modes
below the threshold it is *negative*: the true optimum over assignments
(``f_k >= 0``) then puts zero mass on those modes and redistributes the rest;
``optimal_assignment(..., nonnegative=True)`` returns that KKT solution.

These are analysis tools, so they work in float64 NumPy (exact enough to
compare with a numerical optimiser) rather than in traced JAX.
"""

from __future__ import annotations

import numpy as np

__all__ = ["optimal_assignment", "activation_threshold", "assignment_objective"]


def _check_uv(u, v) -> None:
  if not (float(u) > float(v) > 0):
    raise ValueError(f"Theorem 1 needs u > v > 0, got u={u}, v={v}.")


def _check_counts(n) -> np.ndarray:
  n = np.asarray(n, dtype=np.float64)
  if n.ndim != 1 or n.shape[0] == 0:
    raise ValueError(f"`n` must be a non-empty vector of per-mode counts, got shape {n.shape}.")
  if np.any(n < 0) or np.sum(n) <= 0:
    raise ValueError("`n` must be non-negative counts with a positive total.")
  return n


def optimal_assignment(n, u, v, *, nonnegative: bool = False) -> np.ndarray:
  r"""Optimal fractions ``m_k^* / M`` of Theorem 1.

  Args:
    n: ``[K]`` data counts per mode (``N = sum(n)``).
    u: mean kernel value within a mode.
    v: mean kernel value across modes; ``u > v > 0``.
    nonnegative: ``False`` (default) returns Theorem 1's closed form, the
      minimiser of objective (2) on ``sum_k f_k = 1`` with no sign constraint;
      entries are negative for modes with ``n_k`` below
      :func:`activation_threshold`. ``True`` returns the minimiser over the
      probability simplex (``f_k >= 0``, KKT / water-filling): the closed form
      restricted to the active modes, zero elsewhere. The two agree whenever
      every ``n_k`` is above the threshold.

  Returns:
    ``[K]`` fractions summing to 1.

  Example:
    >>> from sigjax.theory import optimal_assignment
    >>> [round(float(f), 4) for f in optimal_assignment([60, 30, 10], 1.0, 0.1)]
    [0.6889, 0.2889, 0.0222]
    >>> [round(float(f), 4) for f in optimal_assignment([70, 25, 5], 1.0, 0.1)]
    [0.8222, 0.2222, -0.0444]
    >>> [round(float(f), 4) for f in optimal_assignment(
    ...     [70, 25, 5], 1.0, 0.1, nonnegative=True)]
    [0.7895, 0.2105, 0.0]
  """
  _check_uv(u, v)
  n = _check_counts(n)
  w = n / np.sum(n)
  k = n.shape[0]
  ratio = v / (u - v)
  if not nonnegative:
    return w + (w - 1.0 / k) * k * ratio
  # With active set S (|S| = s, W = sum_{k in S} w_k), stationarity gives
  # f_k = w_k (s v + u - v) / ((u - v) W) - v / (u - v) on S. The optimal S
  # holds the s largest w_k for the largest s whose smallest member stays > 0.
  w_sorted = np.sort(w)[::-1]
  sizes = np.arange(1, k + 1, dtype=w.dtype)
  prefix = np.cumsum(w_sorted)
  positive = w_sorted * (sizes * v + u - v) > v * prefix
  s = np.max(np.where(positive, np.arange(1, k + 1), 1))
  prefix_s = prefix[s - 1]
  f = w * (s * v + u - v) / ((u - v) * prefix_s) - ratio
  return np.maximum(f, 0.0)


def activation_threshold(N, K, u, v) -> float:
  r"""Count above which a mode receives generated points (Theorem 1).

  .. math::

    n_k > \frac{N}{K}\, \frac{1}{1 + \frac{u - v}{K v}}
    \iff f_k^* > 0.

  Example:
    >>> from sigjax.theory import activation_threshold
    >>> round(activation_threshold(100, 3, 1.0, 0.1), 4)
    8.3333
  """
  _check_uv(u, v)
  return (N / K) / (1.0 + (u - v) / (K * v))


def assignment_objective(m, n, u, v) -> float:
  r"""Objective (2) for an assignment ``m`` (counts or fractions), a scalar.

  .. math::

    J(m) = -\frac{1}{N} \sum_k n_k \log\Big(\frac{m_k}{M} u + \big(1 - \frac{m_k}{M}\big) v\Big).

  Example:
    >>> import math
    >>> from sigjax.theory import assignment_objective
    >>> round(float(assignment_objective([1, 1], [5, 5], 1.0, 0.5)), 4)  # -log 0.75
    0.2877
  """
  _check_uv(u, v)
  n = _check_counts(n)
  m = np.asarray(m, dtype=n.dtype)
  if m.shape != n.shape:
    raise ValueError(f"`m` {m.shape} and `n` {n.shape} must both be [K].")
  f = m / np.sum(m)
  return float(-np.sum(n * np.log(f * u + (1.0 - f) * v)) / np.sum(n))
