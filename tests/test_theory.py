"""Theorem 1 against a numerical minimiser of objective (2) (scipy, float64)."""

import numpy as np
import pytest
from scipy.optimize import minimize

from sigjax.theory import activation_threshold, assignment_objective, optimal_assignment

CASES = [
    ([60, 30, 10], 1.0, 0.1),
    ([70, 25, 5], 1.0, 0.1),  # one mode below the threshold
    ([25] * 4, 1.0, 0.5),  # uniform data -> uniform assignment
    ([40, 30, 20, 5, 5], 2.0, 0.05),
    ([50, 49, 1], 1.0, 0.9),  # v close to u: strongly smoothed
    ([1, 2, 3, 4, 5, 6, 7, 8], 3.0, 0.2),
]


def _j(f, n, u, v):
  w = np.asarray(n, float) / np.sum(n)
  return -np.sum(w * np.log(f * u + (1 - f) * v))


def _numerical(n, u, v, nonnegative):
  k = len(n)
  lower = 0.0 if nonnegative else -v / (u - v) + 1e-9  # keep the log's argument > 0
  res = minimize(
      _j, np.full(k, 1.0 / k), args=(n, u, v), method="SLSQP",
      bounds=[(lower, None)] * k,
      constraints=[{"type": "eq", "fun": lambda f: np.sum(f) - 1.0}],
      options={"ftol": 1e-14, "maxiter": 1000},
  )
  assert res.success, res.message
  return res.x


@pytest.mark.parametrize("n, u, v", CASES)
def test_closed_form_is_the_stationary_point_on_the_hyperplane(n, u, v):
  f = np.asarray(optimal_assignment(n, u, v))
  np.testing.assert_allclose(f.sum(), 1.0, atol=1e-6)
  np.testing.assert_allclose(f, _numerical(n, u, v, nonnegative=False), atol=2e-4)


@pytest.mark.parametrize("n, u, v", CASES)
def test_nonnegative_solution_is_the_simplex_optimum(n, u, v):
  f = np.asarray(optimal_assignment(n, u, v, nonnegative=True))
  assert np.all(f >= 0) and abs(f.sum() - 1.0) < 1e-6
  ref = _numerical(n, u, v, nonnegative=True)
  np.testing.assert_allclose(f, ref, atol=2e-4)
  assert _j(f, n, u, v) <= _j(ref, n, u, v) + 1e-9


@pytest.mark.parametrize("n, u, v", CASES)
def test_threshold_agrees_with_sign_of_closed_form(n, u, v):
  f = np.asarray(optimal_assignment(n, u, v))
  t = activation_threshold(sum(n), len(n), u, v)
  np.testing.assert_array_equal(f > 0, np.asarray(n) > t)


def test_closed_form_equals_simplex_optimum_above_threshold():
  n, u, v = [60, 30, 10], 1.0, 0.1
  assert min(n) > activation_threshold(sum(n), 3, u, v)
  np.testing.assert_allclose(
      optimal_assignment(n, u, v), optimal_assignment(n, u, v, nonnegative=True), atol=1e-6
  )


def test_below_threshold_closed_form_is_negative_and_infeasible():
  f = np.asarray(optimal_assignment([70, 25, 5], 1.0, 0.1))
  assert f[2] < 0  # documented: the closed form leaves the simplex
  g = np.asarray(optimal_assignment([70, 25, 5], 1.0, 0.1, nonnegative=True))
  assert g[2] == 0 and g[0] < f[0]


def test_brute_force_over_integer_assignments():
  # M = 12 points over 3 modes: enumerate every assignment.
  n, u, v, m_total = [50, 35, 15], 1.0, 0.2, 12
  best = min(
      ((a, b, m_total - a - b) for a in range(m_total + 1) for b in range(m_total + 1 - a)),
      key=lambda m: float(assignment_objective(m, n, u, v)),
  )
  f = np.asarray(optimal_assignment(n, u, v, nonnegative=True))
  # The integer optimum is within one point of M * f* per mode.
  assert np.all(np.abs(np.asarray(best) - m_total * f) <= 1.0), (best, m_total * f)


def test_objective_matches_formula_and_is_scale_invariant():
  m, n, u, v = np.array([3.0, 1.0, 0.0]), [5, 3, 2], 1.5, 0.3
  f = m / m.sum()
  want = -np.sum(np.array(n) / 10 * np.log(f * u + (1 - f) * v))
  np.testing.assert_allclose(assignment_objective(m, n, u, v), want, rtol=1e-6)
  np.testing.assert_allclose(assignment_objective(10 * m, n, u, v), want, rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: optimal_assignment([1, 2], 0.1, 1.0),
        lambda: optimal_assignment([1, 2], 1.0, 0.0),
        lambda: activation_threshold(10, 2, 1.0, 1.0),
        lambda: optimal_assignment([[1, 2]], 1.0, 0.1),
        lambda: optimal_assignment([1, -2], 1.0, 0.1),
        lambda: assignment_objective([1, 2, 3], [1, 2], 1.0, 0.1),
    ],
)
def test_bad_input_raises(call):
  with pytest.raises(ValueError):
    call()
