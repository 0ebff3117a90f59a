"""sig_nll speed and memory against the same-run GEMM rate (prints a table).

  python benchmarks/sig_nll.py            # the issue's shapes
  python benchmarks/sig_nll.py --quick    # small shapes, a smoke run
  python benchmarks/sig_nll.py --shapes=4096,4096,3072   # chosen N,M,D (';' between)

Flops: forward 2*N*M*D (the x . theta^T product); value_and_grad w.r.t.
theta 4*N*M*D (that product plus d theta = W^T x). "vs GEMM" divides the
achieved rate by a plain jnp.dot of the same [N, D] x [D, M] shapes, timed in
the same process. Memory is XLA's temp allocation of the compiled function
(memory_analysis), i.e. the extra memory beyond inputs and outputs.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

from sigjax.loss import sig_nll

SHAPES = [(256, 256, 3072), (1024, 1024, 3072), (4096, 4096, 3072), (4096, 4096, 2),
          (1024, 16384, 3072)]
QUICK = [(256, 256, 3072), (1024, 1024, 784), (1024, 4096, 2)]
NAIVE_AT = (1024, 1024, 3072)


def naive_nll(x, theta, scale=1.0):
  """The broadcast [N, M, D] formulation (reference for speed only)."""
  diff = (x[:, None, :] - theta[None, :, :]) / scale
  logp = -0.5 * jnp.sum(diff**2, -1) - x.shape[1] * (jnp.log(scale) + 0.5 * jnp.log(2 * jnp.pi))
  return -(jax.nn.logsumexp(logp, axis=1) - jnp.log(theta.shape[0]))


def timeit(fn, *args, reps=3):
  jax.block_until_ready(fn(*args))  # compile + warm up
  best = float("inf")
  for _ in range(reps):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    best = min(best, time.perf_counter() - start)
  return best


def temp_bytes(fn, *args) -> int:
  return fn.lower(*args).compile().memory_analysis().temp_size_in_bytes


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--quick", action="store_true")
  parser.add_argument("--shapes", default="", help="N,M,D;N,M,D;... instead of the defaults")
  parser.add_argument("--reps", type=int, default=3)
  args = parser.parse_args()
  shapes = QUICK if args.quick else SHAPES
  if args.shapes:
    shapes = [tuple(int(v) for v in shape.split(",")) for shape in args.shapes.split(";")]
  print(f"device: {jax.devices()[0].device_kind} x{jax.device_count()}, jax {jax.__version__}")
  header = ("| N | M | D | what | time (ms) | GFLOP/s | GEMM GFLOP/s | vs GEMM | extra memory (MiB) |\n"
            "|---|---|---|---|---|---|---|---|---|")
  print(header)
  for n, m, d in shapes:
    kx, kt = jax.random.split(jax.random.key(0))
    x = jax.random.uniform(kx, (n, d), jnp.float32, -1, 1)
    theta = jax.random.uniform(kt, (m, d), jnp.float32, -1, 1)
    gemm = jax.jit(lambda a, b: jnp.dot(a, b.T, precision=jax.lax.Precision.HIGHEST))
    t_gemm = timeit(gemm, x, theta, reps=args.reps)
    gemm_rate = 2 * n * m * d / t_gemm / 1e9
    fwd = jax.jit(lambda x, t: sig_nll(x, t, scale=0.5))
    vag = jax.jit(jax.value_and_grad(lambda t, x: jnp.sum(sig_nll(x, t, scale=0.5))))
    rows = [("forward", fwd, (x, theta), 2), ("value_and_grad(theta)", vag, (theta, x), 4)]
    if (n, m, d) == NAIVE_AT or (args.quick and (n, m, d) == QUICK[0]):
      rows.append(("naive [N,M,D] forward", jax.jit(lambda x, t: naive_nll(x, t, 0.5)), (x, theta), 2))
    for what, fn, fargs, mult in rows:
      t = timeit(fn, *fargs, reps=args.reps)
      rate = mult * n * m * d / t / 1e9
      mib = temp_bytes(fn, *fargs) / 2**20
      print(f"| {n} | {m} | {d} | {what} | {t * 1e3:.2f} | {rate:.1f} | {gemm_rate:.1f} | "
            f"{rate / gemm_rate:.0%} | {mib:.1f} |", flush=True)


if __name__ == "__main__":
  main()
