"""Prints sig_nll's float32 errors against float64 in every regime of issue 9.

  .venv/bin/python tools/sig_nll_accuracy_sweep.py

One line per (D, std, theta regime): the worst value error relative to
max(1, |nll|), the relative norm errors of the gradients w.r.t. theta and the
std, and how many rows took each path (difference form throughout, candidates,
GEMM, recomputed). tests/test_loss.py asserts the same bounds; this prints the
measured values.
"""
from scipy.special import logsumexp, softmax
from sigjax import loss as L
import sigjax._mixture_lse as ml

def ref(x, th, s):
  s0 = s
  x = np.asarray(x, np.float64); th = np.asarray(th, np.float64); s = np.broadcast_to(np.asarray(s, np.float64), x.shape[1:])
  diff = (x[:, None] - th[None]) / s
  logp = -0.5 * (diff**2).sum(-1) - np.log(s).sum() - 0.5 * x.shape[1] * np.log(2 * np.pi)
  nll = -(logsumexp(logp, 1) - np.log(th.shape[0]))
  w = softmax(logp, 1)
  n = x.shape[0]
  g_th = -(w[:, :, None] * (x[:, None] - th[None]) / s**2).sum(0) / n   # d mean(nll)/d theta
  # d mean nll / d s (per dim): d logp/ds = diff^2/s - 1/s
  g_s = -(w[:, :, None] * (diff**2 / s - 1 / s)).sum((0, 1)) / n
  if np.ndim(s0) == 0: g_s = g_s.sum()
  return nll, g_th, g_s

def paths(x, th, s, bs):
  x2d, t2d, terms = L._kernel_terms(jnp.asarray(x), jnp.asarray(th), "gaussian", s)
  n, m = x2d.shape[0], t2d.shape[0]
  block = L._resolve_block_size(bs, n, m)
  return np.asarray(ml.mixture_lse_with_paths(x2d, t2d, terms, block_size=block, precision=jax.lax.Precision.HIGHEST, keep_pre=False)[1])

rng = np.random.default_rng(0)
N, M = 24, 37
worst = {}
for D in [784, 3072, 2]:
  for s in [1e-3, 3e-3, 1e-2, 0.05, 0.3, 1.0, 10.0]:
    for case in ["indep", "neardup_x", "clustered", "far", "offset100", "perdim"]:
      x = rng.normal(size=(N, D))
      if case == "indep": th = rng.normal(size=(M, D))
      elif case == "neardup_x": th = x[rng.integers(0, N, M)] + s * rng.normal(size=(M, D)) * rng.uniform(0.01, 2, (M, 1))
      elif case == "clustered": th = x[0] + s * 0.3 * rng.normal(size=(M, D))
      elif case == "far": th = rng.normal(size=(M, D)) + 30
      elif case == "offset100": x = x + 100; th = x[rng.integers(0, N, M)] + s * rng.normal(size=(M, D))
      elif case == "perdim": th = x[rng.integers(0, N, M)] + s * rng.normal(size=(M, D))
      sc = s * rng.uniform(0.5, 2, (D,)) if case == "perdim" else s
      x32 = x.astype(np.float32); th32 = th.astype(np.float32)
      x64 = x32.astype(np.float64); th64 = th32.astype(np.float64)
      sc32 = np.float32(sc) if np.ndim(sc) == 0 else sc.astype(np.float32)
      nll_r, gth_r, gs_r = ref(x64, th64, np.asarray(sc32, np.float64))
      bs = 16
      f = lambda t, ss: jnp.mean(L.sig_nll(jnp.asarray(x32), t, scale=ss, block_size=bs))
      nll = L.sig_nll(jnp.asarray(x32), jnp.asarray(th32), scale=sc32, block_size=bs)
      gth, gs = jax.grad(f, argnums=(0, 1))(jnp.asarray(th32), jnp.asarray(sc32))
      verr = np.max(np.abs(np.asarray(nll, np.float64) - nll_r) / np.maximum(1, np.abs(nll_r)))
      gerr = np.linalg.norm(np.asarray(gth, np.float64) - gth_r) / np.linalg.norm(gth_r)
      gserr = np.linalg.norm(np.asarray(gs, np.float64) - gs_r) / np.linalg.norm(gs_r)
      finite = np.all(np.isfinite(nll)) and np.all(np.isfinite(gth)) and np.all(np.isfinite(gs))
      p = np.bincount(paths(x32, th32, sc32, bs), minlength=4)
      flag = "" if (finite and verr <= 1e-4 and gerr <= 1e-3 and gserr <= 1e-3) else "  <-- FAIL"
      print(f"D={D:5d} s={s:7.3g} {case:10s} verr={verr:.1e} gerr={gerr:.1e} gserr={gserr:.1e} paths(all,cand,gemm,exact)={p.tolist()}{flag}", flush=True)
