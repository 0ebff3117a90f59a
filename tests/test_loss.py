"""sigjax.loss against independent references.

References: a float64 NumPy implementation of the broadcast [N, M, D]
formula (values), central finite differences in float64 and jax.grad of a
naive jnp formula (gradients).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, PartitionSpec as P
from scipy.special import logsumexp

from sigjax.loss import pairwise_log_likelihood, sig_nll


# ----------------------------------------------------------------- references


def np_gaussian_nll(x, theta, scale):
  x = np.asarray(x, np.float64).reshape(len(x), -1)
  theta = np.asarray(theta, np.float64).reshape(len(theta), -1)
  d = x.shape[1]
  s = np.broadcast_to(np.asarray(scale, np.float64).reshape(-1), (d,))
  diff = (x[:, None, :] - theta[None, :, :]) / s
  logp = -0.5 * np.sum(diff**2, -1) - np.sum(np.log(s)) - 0.5 * d * np.log(2 * np.pi)
  return -(logsumexp(logp, axis=1) - np.log(theta.shape[0]))


def np_bernoulli_nll(x, logits):
  x = np.asarray(x, np.float64).reshape(len(x), -1)
  logits = np.asarray(logits, np.float64).reshape(len(logits), -1)
  logp = x @ logits.T - np.sum(np.logaddexp(0.0, logits), -1)[None, :]
  return -(logsumexp(logp, axis=1) - np.log(logits.shape[0]))


def jnp_naive_gaussian_nll(x, theta, scale):
  x = x.reshape(x.shape[0], -1)
  theta = theta.reshape(theta.shape[0], -1)
  d = x.shape[1]
  s = jnp.broadcast_to(jnp.reshape(scale, (-1,)), (d,))
  diff = (x[:, None, :] - theta[None, :, :]) / s
  logp = -0.5 * jnp.sum(diff**2, -1) - jnp.sum(jnp.log(s)) - 0.5 * d * jnp.log(2 * jnp.pi)
  return -(jax.nn.logsumexp(logp, axis=1) - jnp.log(theta.shape[0]))


def rand(key, shape, lo=-1.0, hi=1.0):
  # Non-zero random data, so no term can vanish by accident.
  return jax.random.uniform(jax.random.key(key), shape, jnp.float32, lo, hi)


def rel_err(a, b):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))


# --------------------------------------------------------------------- values


@pytest.mark.parametrize("d", [2, 784, 3072])
@pytest.mark.parametrize("sigma", [0.01, 0.1, 1.0, 10.0])
def test_gaussian_matches_float64_reference(d, sigma):
  x = rand(0, (17, d))
  # theta near a subset of x so several mixture components matter.
  theta = jnp.concatenate([x[:5] + sigma * rand(1, (5, d)), rand(2, (14, d))])
  got = sig_nll(x, theta, scale=sigma)
  assert got.shape == (17,) and got.dtype == jnp.float32
  assert rel_err(got, np_gaussian_nll(x, theta, sigma)) <= 1e-4


def test_float32_underflow_case_is_finite_and_right():
  # sigma = 0.01, D = 3072: every p(x | theta) is exp(-1e7) -> 0 in float32.
  x, theta = rand(3, (8, 3072)), rand(4, (11, 3072))
  logp = pairwise_log_likelihood(x, theta, scale=0.01)
  exp_then_log = -jnp.log(jnp.mean(jnp.exp(logp), axis=1))
  assert np.all(np.isinf(exp_then_log))  # the densities underflow to 0
  got = sig_nll(x, theta, scale=0.01)
  assert np.all(np.isfinite(got))
  assert rel_err(got, np_gaussian_nll(x, theta, 0.01)) <= 1e-4


def test_per_dimension_scale_and_image_shapes():
  x, theta = rand(5, (6, 4, 4, 3)), rand(6, (9, 4, 4, 3))
  scale = rand(7, (3,), 0.2, 2.0)  # per-channel, broadcast over H, W
  got = sig_nll(x, theta, scale=scale)
  full = np.broadcast_to(np.asarray(scale), (4, 4, 3))
  assert rel_err(got, np_gaussian_nll(x, theta, full)) <= 1e-5


def test_bernoulli_matches_float64_reference():
  x = rand(8, (10, 784), 0.0, 1.0)
  logits = rand(9, (13, 784), -4.0, 4.0)
  got = sig_nll(x, logits, kernel="bernoulli")
  assert rel_err(got, np_bernoulli_nll(x, logits)) <= 1e-5


def test_pairwise_log_likelihood_matches_reference():
  x, theta = rand(10, (5, 7)), rand(11, (4, 7))
  got = pairwise_log_likelihood(x, theta, scale=0.7)
  diff = (np.asarray(x, np.float64)[:, None] - np.asarray(theta, np.float64)[None]) / 0.7
  want = -0.5 * (diff**2).sum(-1) - 7 * np.log(0.7) - 3.5 * np.log(2 * np.pi)
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_m_equals_one_is_the_gaussian_log_density():
  x, theta = rand(12, (6, 5)), rand(13, (1, 5))
  got = sig_nll(x, theta, scale=0.5)
  want = -jax.scipy.stats.norm.logpdf(x, theta, 0.5).sum(-1)
  np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("block_size", [1, 7, 16, 29, 30, 1000])
def test_block_sizes_agree(block_size):
  x, theta = rand(14, (9, 33)), rand(15, (30, 33))
  loss = lambda t, s: jnp.sum(sig_nll(x, t, scale=s, block_size=block_size) * jnp.arange(9.0))
  val, (g_t, g_s) = jax.value_and_grad(loss, argnums=(0, 1))(theta, 0.4)
  ref_val, (ref_t, ref_s) = jax.value_and_grad(
      lambda t, s: jnp.sum(jnp_naive_gaussian_nll(x, t, s) * jnp.arange(9.0)), argnums=(0, 1)
  )(theta, 0.4)
  np.testing.assert_allclose(val, ref_val, rtol=1e-5)
  np.testing.assert_allclose(g_t, ref_t, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(g_s, ref_s, rtol=1e-4)


def test_jit_and_vmap():
  x, theta = rand(16, (3, 6, 4)), rand(17, (3, 5, 4))
  batched = jax.jit(jax.vmap(functools.partial(sig_nll, scale=0.3)))(x, theta)
  for i in range(3):
    np.testing.assert_allclose(batched[i], np_gaussian_nll(x[i], theta[i], 0.3), rtol=1e-5)


def test_never_builds_the_n_m_d_tensor():
  # The broadcast formulation needs N*M*D*4 bytes = 805 MB here.
  n, m, d = 256, 256, 3072
  x = jax.ShapeDtypeStruct((n, d), jnp.float32)
  fn = jax.jit(jax.value_and_grad(lambda x, t: sig_nll(x, t).sum(), argnums=1))
  temp = fn.lower(x, x).compile().memory_analysis().temp_size_in_bytes
  # 47 MiB measured: O(N D) buffers (candidates, anchors, the exact tiers'
  # gathered rows and blocks), two orders below the [N, M, D] tensor.
  assert temp < n * m * d * 4 / 10, temp


# ------------------------------------------- accuracy in every regime (issue 9)
#
# Independent float64 reference: logsumexp over the full [N, M] matrix, and the
# analytic gradients of mean(nll): d/d theta_j = -(1/N) sum_n w_nj (x_n - theta_j) / s^2,
# d/d s_d = -(1/N) sum_nj w_nj ((x - theta)^2 / s^3 - 1 / s) (summed over d for a
# scalar s), w the row softmax. Float32 inputs are rounded first, so the
# reference sees exactly the numbers sig_nll sees.


def _reference_value_and_grads(x, theta, scale):
  x, theta = np.asarray(x, np.float64), np.asarray(theta, np.float64)
  s = np.broadcast_to(np.asarray(scale, np.float64), x.shape[1:])
  diff = (x[:, None] - theta[None]) / s
  logp = -0.5 * (diff**2).sum(-1) - np.log(s).sum() - 0.5 * x.shape[1] * np.log(2 * np.pi)
  nll = -(logsumexp(logp, axis=1) - np.log(theta.shape[0]))
  w = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
  n = x.shape[0]
  g_theta = -(w[:, :, None] * (x[:, None] - theta[None]) / s**2).sum(0) / n
  g_scale = -(w[:, :, None] * (diff**2 / s - 1 / s)).sum((0, 1)) / n
  if np.ndim(scale) == 0:
    g_scale = g_scale.sum()
  return nll, g_theta, g_scale


@functools.partial(jax.jit, static_argnames="block_size")
def _paths_jit(x, theta, scale, block_size):
  from sigjax import _mixture_lse, loss
  x2d, theta2d, terms = loss._kernel_terms(x, theta, "gaussian", scale)
  block = loss._resolve_block_size(block_size, x2d.shape[0], theta2d.shape[0])
  return _mixture_lse.mixture_lse_with_paths(
      x2d, theta2d, terms, block_size=block, precision=jax.lax.Precision.HIGHEST,
      keep_pre=False)[1]


def _paths(x, theta, scale, block_size):
  """Which computation each row took (sigjax._mixture_lse.PATH_*)."""
  return np.asarray(_paths_jit(x, theta, scale, block_size))


def _regime(case, d, s, rng, n=24, m=37):
  x = rng.normal(size=(n, d))
  near = lambda spread: x[rng.integers(0, n, m)] + spread * rng.normal(size=(m, d))
  if case == "independent":
    theta = rng.normal(size=(m, d))
  elif case == "near duplicates of x":  # distances from 0.01 to 2 kernel stds
    theta = near(s * rng.uniform(0.01, 2.0, (m, 1)))
  elif case == "near duplicates of one another":
    theta = x[0] + 0.3 * s * rng.normal(size=(m, d))
  elif case == "far from all x":
    theta = rng.normal(size=(m, d)) + 30.0
  elif case == "data offset to mean 100":
    x = x + 100.0
    theta = x[rng.integers(0, n, m)] + s * rng.normal(size=(m, d))
  elif case == "per-dimension scale":
    theta = near(s)
  scale = np.float32(s) if case != "per-dimension scale" else (
      s * rng.uniform(0.5, 2.0, (d,))).astype(np.float32)
  return x.astype(np.float32), theta.astype(np.float32), scale


_CASES = ("independent", "near duplicates of x", "near duplicates of one another",
          "far from all x", "data offset to mean 100", "per-dimension scale")
_SCALES = (1e-3, 3e-3, 1e-2, 0.05, 0.3, 1.0, 10.0)


@pytest.mark.parametrize("d", [2, 784, 3072])
def test_float32_accuracy_in_every_regime(d):
  # M = 37 with blocks of 16: three blocks, the last one short.
  rng = np.random.default_rng(d)
  block = 16

  @jax.jit
  def run(x, theta, scale):
    loss = lambda t, s: (lambda v: (jnp.mean(v), v))(sig_nll(x, t, scale=s, block_size=block))
    (_, values), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(theta, scale)
    return values, grads, _paths_jit(x, theta, scale, block)

  failures, paths_seen = [], set()
  for s in _SCALES:
    for case in _CASES:
      x, theta, scale = _regime(case, d, s, rng)
      want, want_g_theta, want_g_scale = _reference_value_and_grads(x, theta, scale)
      got, (g_theta, g_scale), paths = run(x, theta, scale)
      got, g_theta, g_scale = (np.asarray(a, np.float64) for a in (got, g_theta, g_scale))
      finite = np.all(np.isfinite(got)) and np.all(np.isfinite(g_theta)) and np.all(
          np.isfinite(g_scale))
      value_err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
      theta_err = np.linalg.norm(g_theta - want_g_theta) / np.linalg.norm(want_g_theta)
      scale_err = np.linalg.norm(g_scale - want_g_scale) / np.linalg.norm(want_g_scale)
      if not (finite and value_err <= 1e-4 and theta_err <= 1e-3 and scale_err <= 1e-3):
        failures.append(f"scale {s}, {case}: finite={finite} value {value_err:.2g} "
                        f"d/dtheta {theta_err:.2g} d/dscale {scale_err:.2g}")
      paths_seen |= set(np.asarray(paths).tolist())
  assert not failures, "\n".join(failures)
  from sigjax import _mixture_lse as ml
  if d <= ml.EXACT_MAX_DIM:
    assert paths_seen == {ml.PATH_EXACT_ALL}
  else:  # the sweep reaches the candidate answer and the recomputed rows
    assert {ml.PATH_CANDIDATES, ml.PATH_RECOMPUTED} <= paths_seen, paths_seen


def test_gemm_path_and_tied_candidates():
  # A flat mixture (std 10 >> spread 0.1): every column matters and every
  # GEMM error is ~1e-6, so the candidates cannot certify the rest but the
  # plain GEMM answer can. Exact duplicates of theta tie the k-th candidate.
  from sigjax import _mixture_lse as ml
  rng = np.random.default_rng(0)
  x = (0.1 * rng.normal(size=(10, 784))).astype(np.float32)
  theta = (0.1 * rng.normal(size=(30, 784))).astype(np.float32)
  theta_tied = np.concatenate([theta[:10], np.repeat(theta[10:11], 20, axis=0)])
  for t in (theta, theta_tied):
    paths = _paths(x, t, np.float32(10.0), 16)
    assert np.all(paths == ml.PATH_GEMM), paths
    want, want_g, _ = _reference_value_and_grads(x, t, np.float32(10.0))
    got = sig_nll(x, t, scale=10.0, block_size=16)
    g = jax.grad(lambda t: jnp.mean(sig_nll(x, t, scale=10.0, block_size=16)))(jnp.asarray(t))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.linalg.norm(np.asarray(g) - want_g) / np.linalg.norm(want_g) <= 1e-3
  # The same ties at a small std, where the GEMM is not accurate: exact rows.
  paths = _paths(x, theta_tied, np.float32(1e-3), 16)
  assert set(paths.tolist()) <= {ml.PATH_CANDIDATES, ml.PATH_RECOMPUTED}


def test_rows_with_many_near_ties_are_recomputed_right():
  # 30 theta within a few nats of x[0] at std 0.05 in D = 784 (GEMM error
  # ~0.1 nat): more than the k = 8 candidates, so x[0]'s row is recomputed
  # (the wider second pass), the other rows are certified by the first.
  from sigjax import _mixture_lse as ml
  rng = np.random.default_rng(2)
  x = rng.normal(size=(6, 784)).astype(np.float32)
  near = x[0] + 0.05 * 0.05 * rng.normal(size=(30, 784))
  theta = np.concatenate([near, rng.normal(size=(70, 784))]).astype(np.float32)
  paths = _paths(x, theta, np.float32(0.05), 32)
  assert paths[0] == ml.PATH_RECOMPUTED and np.all(paths[1:] == ml.PATH_CANDIDATES), paths
  want, want_g, want_gs = _reference_value_and_grads(x, theta, np.float32(0.05))
  loss = lambda t, s: jnp.mean(sig_nll(x, t, scale=s, block_size=32))
  g, gs = jax.grad(loss, argnums=(0, 1))(jnp.asarray(theta), jnp.float32(0.05))
  got = sig_nll(x, theta, scale=0.05, block_size=32)
  assert np.max(np.abs(np.asarray(got, np.float64) - want) / np.maximum(1, np.abs(want))) < 1e-5
  assert np.linalg.norm(np.asarray(g) - want_g) / np.linalg.norm(want_g) < 1e-4
  assert abs(float(gs) - want_gs) / abs(want_gs) < 1e-4


def test_vmap_over_the_streamed_path():
  # Under vmap the exact fallback's lax.switch runs as a select: still right.
  rng = np.random.default_rng(1)
  x = rng.normal(size=(3, 9, 64)).astype(np.float32)
  theta = (x[:, :1] + 0.01 * rng.normal(size=(3, 20, 64))).astype(np.float32)
  got = jax.jit(jax.vmap(lambda x, t: sig_nll(x, t, scale=0.01, block_size=8)))(x, theta)
  for i in range(3):
    np.testing.assert_allclose(got[i], np_gaussian_nll(x[i], theta[i], 0.01), rtol=1e-5)


# ------------------------------------------------------------------ gradients


def _finite_diff(f, args, i, eps=1e-6, probes=6, seed=0):
  """Central differences of scalar f along random directions of args[i]."""
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(probes):
    direction = rng.standard_normal(np.shape(args[i]))
    plus = list(args)
    minus = list(args)
    plus[i] = args[i] + eps * direction
    minus[i] = args[i] - eps * direction
    out.append((direction, (f(*plus) - f(*minus)) / (2 * eps)))
  return out


@pytest.mark.parametrize("kernel", ["gaussian", "bernoulli"])
def test_gradients_match_finite_differences_float64(kernel):
  with jax.enable_x64(True):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.05, 0.95, (7, 5))
    theta = rng.uniform(-1.0, 1.0, (6, 5))
    scale = rng.uniform(0.3, 0.9, (5,))
    if kernel == "gaussian":
      f = lambda x, t, s: float(jnp.sum(sig_nll(x, t, scale=s, block_size=4) * np.arange(1, 8)))
      args = (x, theta, scale)
      grads = jax.grad(
          lambda x, t, s: jnp.sum(sig_nll(x, t, scale=s, block_size=4) * np.arange(1, 8)),
          argnums=(0, 1, 2),
      )(*args)
    else:
      f = lambda x, t: float(jnp.sum(sig_nll(x, t, kernel="bernoulli", block_size=4) * np.arange(1, 8)))
      args = (x, theta)
      grads = jax.grad(
          lambda x, t: jnp.sum(sig_nll(x, t, kernel="bernoulli", block_size=4) * np.arange(1, 8)),
          argnums=(0, 1),
      )(*args)
    assert grads[0].dtype == jnp.float64
    for i, g in enumerate(grads):
      for direction, fd in _finite_diff(f, args, i):
        np.testing.assert_allclose(np.sum(np.asarray(g) * direction), fd, rtol=1e-6, atol=1e-8)


def test_gradients_match_naive_autodiff_float32():
  x, theta = rand(18, (12, 64)), rand(19, (20, 64))
  weights = jnp.linspace(0.5, 2.0, 12)
  ours = jax.grad(lambda *a: jnp.sum(weights * sig_nll(a[0], a[1], scale=a[2], block_size=8)),
                  argnums=(0, 1, 2))(x, theta, 0.6)
  ref = jax.grad(lambda *a: jnp.sum(weights * jnp_naive_gaussian_nll(*a)),
                 argnums=(0, 1, 2))(x, theta, 0.6)
  for g, r in zip(ours, ref):
    np.testing.assert_allclose(g, r, rtol=2e-4, atol=1e-5)


# --------------------------------------------------------------- multi-device


def _global_reference(x, theta):
  """Value and theta-gradient of sum(sig_nll) on one device, global arrays."""
  return jax.value_and_grad(lambda t: jnp.sum(sig_nll(x, t, scale=0.5)))(theta)


def test_pmap_with_axis_name_equals_global():
  n_dev = jax.local_device_count()
  assert n_dev == 8, "conftest should simulate 8 CPU devices"
  x, theta = rand(20, (n_dev * 3, 10)), rand(21, (n_dev * 2, 10))

  def local(x_l, t_l):
    # The gradient of the *local* sum: the transpose of all_gather is a
    # reduce-scatter, so every device's theta collects the terms of all x.
    # (Differentiating a psum'd loss under pmap would scale it by n_dev.)
    local_sum = lambda t: jnp.sum(sig_nll(x_l, t, scale=0.5, axis_name="d"))
    return sig_nll(x_l, t_l, scale=0.5, axis_name="d"), jax.grad(local_sum)(t_l)

  per_ex, grad = jax.pmap(local, axis_name="d")(x.reshape(n_dev, 3, 10), theta.reshape(n_dev, 2, 10))
  want_total, want_grad = _global_reference(x, theta)
  np.testing.assert_allclose(per_ex.reshape(-1), sig_nll(x, theta, scale=0.5), rtol=1e-5)
  np.testing.assert_allclose(per_ex.sum(), want_total, rtol=1e-5)
  np.testing.assert_allclose(grad.reshape(theta.shape), want_grad, rtol=1e-4, atol=1e-6)


def test_shard_map_with_axis_name_equals_global():
  mesh = Mesh(np.array(jax.devices()), ("data",))
  x, theta = rand(22, (16, 10)), rand(23, (24, 10))

  @jax.jit
  def total_and_grad(x, theta):
    def local_sum(x_l, t_l):
      return jax.lax.psum(jnp.sum(sig_nll(x_l, t_l, scale=0.5, axis_name="data")), "data")

    f = jax.shard_map(local_sum, mesh=mesh, in_specs=(P("data"), P("data")), out_specs=P())
    return jax.value_and_grad(f, argnums=1)(x, theta)

  total, grad = total_and_grad(x, theta)
  want_total, want_grad = _global_reference(x, theta)
  np.testing.assert_allclose(total, want_total, rtol=1e-5)
  np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)


def test_jit_over_mesh_without_axis_name():
  mesh = Mesh(np.array(jax.devices()), ("data",))
  sharding = jax.sharding.NamedSharding(mesh, P("data"))
  x, theta = rand(24, (16, 10)), rand(25, (24, 10))
  got = jax.jit(lambda x, t: sig_nll(x, t, scale=0.5))(
      jax.device_put(x, sharding), jax.device_put(theta, sharding)
  )
  np.testing.assert_allclose(got, np_gaussian_nll(x, theta, 0.5), rtol=1e-5)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 5))), ValueError, "trailing shapes"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), scale=0.0), ValueError, "`scale`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), scale=-1.0), ValueError, "`scale`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), scale=jnp.array([1.0, 1, 0, 1])),
         ValueError, "`scale`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), scale=jnp.ones(3)), ValueError, "`scale`"),
        (lambda: sig_nll(jnp.ones((3, 4), jnp.int32), jnp.ones((2, 4))), TypeError, "`x`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4), jnp.uint8)), TypeError, "`theta`"),
        (lambda: sig_nll(jnp.ones((0, 4)), jnp.ones((2, 4))), ValueError, "`x` is empty"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((0, 4))), ValueError, "`theta` is empty"),
        (lambda: sig_nll(jnp.ones((3, 0)), jnp.ones((2, 0))), ValueError, "empty"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), kernel="laplace"), ValueError, "`kernel`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), kernel="bernoulli", scale=2.0),
         ValueError, "`scale`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), block_size=0), ValueError, "`block_size`"),
        (lambda: sig_nll(jnp.ones((3, 4)), jnp.ones((2, 4)), block_size=2.5), TypeError, "`block_size`"),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
  with pytest.raises(error, match=words.replace("`", "`?").replace("(", r"\(")):
    call()


def test_streaming_gradient_memory_is_o_n_times_block():
  # One block holds N x M float32 (256 MiB); blocks of 256 columns need
  # O(N x 256) for the logits plus O(M x D) for the assembled gradient (a few
  # [M, D] buffers: ~10 x 4 MiB). Compiled only, never run.
  n, m, d = 4096, 16384, 64
  x = jax.ShapeDtypeStruct((n, d), jnp.float32)
  t = jax.ShapeDtypeStruct((m, d), jnp.float32)

  def temp(block):
    fn = jax.jit(jax.value_and_grad(lambda x, t: sig_nll(x, t, block_size=block).sum(), argnums=1))
    return fn.lower(x, t).compile().memory_analysis().temp_size_in_bytes

  one_block, streamed = temp(m), temp(256)
  assert one_block >= n * m * 4, one_block
  assert streamed < n * m * 4 / 4, (streamed, one_block)


def test_default_blocks_with_saved_logits_and_a_tail():
  # N * M = 4096 * 2500 lies between 2**22 and 2**24: the default makes
  # blocks of 1024 columns (two plus a 452-column tail) and keeps their
  # logits for the backward.
  x, theta = rand(30, (4096, 3)), rand(31, (2500, 3))
  weights = jnp.linspace(0.5, 1.5, 4096)
  ours = jax.value_and_grad(lambda t: jnp.sum(weights * sig_nll(x, t, scale=0.3)))(theta)
  ref = jax.value_and_grad(lambda t: jnp.sum(weights * jnp_naive_gaussian_nll(x, t, 0.3)))(theta)
  np.testing.assert_allclose(ours[0], ref[0], rtol=1e-5)
  np.testing.assert_allclose(ours[1], ref[1], rtol=2e-3, atol=2e-5)
