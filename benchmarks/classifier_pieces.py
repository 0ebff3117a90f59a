"""The MNIST classifier's pieces, timed in alternating rounds in one process:
flax max_pool vs max_pool_tiles (the whole model's forward and value_and_grad, and
the pools alone), and the 3x3 32->64 layer's forward / input / kernel gradients in
the forms tried (benchmarks/README.md, session 12).

  .venv/bin/python benchmarks/classifier_pieces.py [name filters...]
"""
import os, sys, time
import numpy as np, jax, jax.numpy as jnp, optax, flax.linen as nn
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sigjax.models.layers import max_pool_tiles
from sigjax.models import conv as sconv

B = 128
x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (B, 28, 28, 1)), jnp.float32)
y = jnp.asarray(np.random.default_rng(1).integers(0, 10, B))

pool_reshape = max_pool_tiles  # the classifier's form; 'flax' is nn.max_pool

class Variant(nn.Module):
  pool: str = "flax"
  @nn.compact
  def __call__(self, x):
    pool = (lambda h: nn.max_pool(h, (2, 2), (2, 2))) if self.pool == "flax" else pool_reshape
    h = nn.relu(sconv.Conv(32, (3, 3))(x))
    h = pool(nn.relu(sconv.Conv(64, (3, 3))(h)))
    h = nn.relu(sconv.Conv(64, (3, 3))(h))
    h = pool(h)
    h = nn.relu(nn.Dense(128)(h.reshape(h.shape[0], -1)))
    return nn.Dense(10)(h)

def timeit(f, *a, n=5):
  jax.block_until_ready(f(*a))
  ts = []
  for _ in range(n):
    t = time.perf_counter(); jax.block_until_ready(f(*a)); ts.append(time.perf_counter() - t)
  return min(ts) * 1e3

fns = {}
for pool in ("flax", "reshape"):
  m = Variant(pool)
  p = m.init(jax.random.PRNGKey(0), x)
  loss = lambda p, x, y, m=m: optax.softmax_cross_entropy_with_integer_labels(m.apply(p, x), y).mean()
  fns[f"{pool}: forward"] = (jax.jit(loss), (p, x, y))
  fns[f"{pool}: value_and_grad"] = (jax.jit(jax.value_and_grad(loss)), (p, x, y))

# conv2 pieces
h1 = jnp.asarray(np.random.default_rng(2).normal(size=(B, 28, 28, 32)), jnp.float32)
w2 = jnp.asarray(np.random.default_rng(3).normal(size=(3, 3, 32, 64)) * 0.05, jnp.float32)
dy = jnp.asarray(np.random.default_rng(4).normal(size=(B, 28, 28, 64)), jnp.float32)
xp = sconv._pad_hw(h1, ((1, 1), (1, 1)))
fns["conv2 native fwd"] = (jax.jit(lambda a, w: sconv._native(a, w)), (xp, w2))
fns["conv2 im2col fwd"] = (jax.jit(lambda a, w: jnp.einsum("bhwk,kf->bhwf", sconv._windows(a, 3, 3, 28, 28), w.reshape(-1, 64))), (xp, w2))
fns["conv2 dx (native on padded dy)"] = (jax.jit(lambda d, w: sconv._native(sconv._pad_hw(d, ((1, 1), (1, 1))), sconv._flip_io(w))), (dy, w2))
fns["conv2 dw window GEMM"] = (jax.jit(lambda a, d: sconv._sum_over_positions(sconv._windows(a, 3, 3, 28, 28), d, None)), (xp, dy))
def dw_taps(a, d):
  return jnp.stack([sconv._sum_over_positions(a[:, i:i + 28, j:j + 28], d, None) for i in range(3) for j in range(3)]).reshape(3, 3, 32, 64)
fns["conv2 dw 9 tap GEMMs"] = (jax.jit(dw_taps), (xp, dy))
def dw_rows(a, d):
  # 3 GEMMs: windows over the kernel's columns only (3x less copy), one per kernel row
  return jnp.stack([sconv._sum_over_positions(sconv._windows(a[:, i:i + 28], 1, 3, 28, 28), d, None) for i in range(3)]).reshape(3, 3, 32, 64)
fns["conv2 dw 3 row GEMMs"] = (jax.jit(dw_rows), (xp, dy))
fns["conv2 dw XLA"] = (jax.jit(lambda a, d: jax.grad(lambda w: jnp.vdot(sconv._native(a, w), d))(w2)), (xp, dy))
fns["pool flax fwd+bwd"] = (jax.jit(jax.grad(lambda h: jnp.vdot(nn.max_pool(h, (2, 2), (2, 2)), dy[:, :14, :14]))), (dy,))
fns["pool reshape fwd+bwd"] = (jax.jit(jax.grad(lambda h: jnp.vdot(pool_reshape(h), dy[:, :14, :14]))), (dy,))

only = sys.argv[1:] 
res = {k: [] for k in fns if not only or any(o in k for o in only)}
for r in range(3):
  for k in res:
    f, a = fns[k]
    res[k].append(timeit(f, *a, n=3))
for k, v in res.items():
  print(f"{k:40s} {min(v):8.1f} ms")
