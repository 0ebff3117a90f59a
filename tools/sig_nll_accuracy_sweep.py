"""Prints sig_nll's float32 errors against float64 in every regime of issue 9.

  .venv/bin/python tools/sig_nll_accuracy_sweep.py

One line per (D, std, theta regime): the worst value error relative to
max(1, |nll|), the relative norm errors of the gradients w.r.t. theta and the
std, and how many rows took each path (difference form throughout, candidates,
GEMM, recomputed). The regimes, the float64 reference and the tolerances are
tests/test_loss.py's, which asserts them; this prints the measured values.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from test_loss import (_CASES, _SCALES, _paths, _reference_value_and_grads,  # noqa: E402
                       _regime, sig_nll)

BLOCK = 16


def main():
  worst = np.zeros(3)
  for d in (784, 3072, 2):
    rng = np.random.default_rng(d)
    for s in _SCALES:
      for case in _CASES:
        x, theta, scale = _regime(case, d, s, rng)
        want, want_g, want_gs = _reference_value_and_grads(x, theta, scale)
        got = np.asarray(sig_nll(x, theta, scale=scale, block_size=BLOCK), np.float64)
        g, gs = jax.grad(lambda t, sc: jnp.mean(sig_nll(x, t, scale=sc, block_size=BLOCK)),
                         argnums=(0, 1))(jnp.asarray(theta), jnp.asarray(scale))
        errs = np.array([
            np.max(np.abs(got - want) / np.maximum(1, np.abs(want))),
            np.linalg.norm(np.asarray(g, np.float64) - want_g) / np.linalg.norm(want_g),
            np.linalg.norm(np.asarray(gs, np.float64) - want_gs) / np.linalg.norm(want_gs)])
        worst = np.maximum(worst, errs)
        paths = np.bincount(_paths(x, theta, scale, BLOCK), minlength=4).tolist()
        print(f"D={d:5d} std={s:<6g} {case:32s} value {errs[0]:.1e} d/dtheta {errs[1]:.1e} "
              f"d/dstd {errs[2]:.1e} rows per path (all-exact, candidates, gemm, recomputed) "
              f"{paths}", flush=True)
  print(f"worst: value {worst[0]:.1e}, d/dtheta {worst[1]:.1e}, d/dstd {worst[2]:.1e}")


if __name__ == "__main__":
  main()
