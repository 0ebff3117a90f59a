"""Kernel-gradient and forward forms of the classifier's 3x3, 32->64 layer at
28x28, batch 128: the windows GEMM sigjax uses against the forms tried
(benchmarks/README.md, session 12), each checked against it, then timed.

  .venv/bin/python benchmarks/conv_forms.py
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np, jax, jax.numpy as jnp
from jax import lax
from sigjax.models import conv as sconv
B, H, W, C, F, K = 128, 28, 28, 32, 64, 3
xp = jnp.asarray(np.random.default_rng(2).normal(size=(B, H + 2, W + 2, C)), jnp.float32)
dy = jnp.asarray(np.random.default_rng(4).normal(size=(B, H, W, F)), jnp.float32)

def dw_windows(a, d):
  return sconv._sum_over_positions(sconv._windows(a, K, K, H, W), d, None).reshape(K, K, C, F)

def dw_flat(a, d):
  # Rows of the padded input, flattened: tap (i, j) is a shift by i*Wp + j of one
  # contiguous [rows, C] matrix; dy padded to Wp columns (zeros) pairs each output
  # position with its window, garbage columns contributing nothing.
  b, hp, wp, c = a.shape
  ho, wo, f = d.shape[1:]
  xa = a.reshape(b * hp * wp, c)
  dpad = jnp.pad(d, ((0, 0), (0, hp - ho), (0, wp - wo), (0, 0))).reshape(b * hp * wp, f)
  n = b * hp * wp - ((K - 1) * wp + K - 1)
  dT = dpad[:n].T  # [F, n]
  taps = [lax.dot(dT, lax.dynamic_slice_in_dim(xa, i * wp + j, n)) for i in range(K) for j in range(K)]
  return jnp.stack(taps).reshape(K, K, f, c).swapaxes(2, 3)

def dw_flat_T(a, d):
  b, hp, wp, c = a.shape
  ho, wo, f = d.shape[1:]
  xa = a.reshape(b * hp * wp, c)
  dpad = jnp.pad(d, ((0, 0), (0, hp - ho), (0, wp - wo), (0, 0))).reshape(b * hp * wp, f)
  n = b * hp * wp - ((K - 1) * wp + K - 1)
  taps = [lax.dot_general(lax.dynamic_slice_in_dim(xa, i * wp + j, n), dpad[:n], (((0,), (0,)), ((), ())))
          for i in range(K) for j in range(K)]
  return jnp.stack(taps).reshape(K, K, c, f)

def dw_stack(a, d):
  win = jnp.stack([a[:, i:i + H, j:j + W] for i in range(K) for j in range(K)])
  return jnp.einsum("kbhwc,bhwf->kcf", win, d).reshape(K, K, C, F)

def fwd_native(a, w): return sconv._native(a, w)
def fwd_flat(a, w):
  b, hp, wp, c = a.shape
  xa = a.reshape(b * hp * wp, c)
  n = b * hp * wp - ((K - 1) * wp + K - 1)
  out = sum(lax.dot(lax.dynamic_slice_in_dim(xa, i * wp + j, n), w[i, j]) for i in range(K) for j in range(K))
  out = jnp.pad(out, ((0, b * hp * wp - n), (0, 0))).reshape(b, hp, wp, -1)
  return out[:, :hp - K + 1, :wp - K + 1]

w = jnp.asarray(np.random.default_rng(3).normal(size=(K, K, C, F)) * 0.05, jnp.float32)
ref = dw_windows(xp, dy)
fns = {"dw windows (now)": (dw_windows, (xp, dy)), "dw flat-shift dyT@x": (dw_flat, (xp, dy)),
       "dw flat-shift x^T dy": (dw_flat_T, (xp, dy)), "dw stacked einsum": (dw_stack, (xp, dy)),
       "fwd native": (fwd_native, (xp, w)), "fwd flat-shift": (fwd_flat, (xp, w))}
for k, (f, a) in fns.items():
  out = jax.jit(f)(*a)
  r = ref if k.startswith("dw") else fwd_native(xp, w)
  print(k, "max rel err", float(jnp.abs(out - r).max() / jnp.abs(r).max()))
res = {k: [] for k in fns}
for _ in range(3):
  for k, (f, a) in fns.items():
    g = jax.jit(f); jax.block_until_ready(g(*a))
    ts = []
    for _ in range(3):
      t = time.perf_counter(); jax.block_until_ready(g(*a)); ts.append(time.perf_counter() - t)
    res[k].append(min(ts) * 1e3)
for k, v in res.items(): print(f"{k:28s} {min(v):8.1f} ms")
