"""Native XLA convolutions vs sigjax.models.conv (stride-1 forms on CPU), per model layer.

  python benchmarks/conv.py

Times jitted forward + gradient (w.r.t. params and input) of each layer shape
used by the models, with flax's module and with sigjax's, and prints a table.
On an accelerator both columns run the native convolution (the rewritten forms
are only lowered for CPU), so they should agree there. "form" says what sigjax
runs on CPU for that shape (sigjax.models.conv._worth_rewriting).
"""

from __future__ import annotations

import os
import sys
import time

import flax.linen as nn
import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments import host_memory  # noqa: E402
from sigjax.models.conv import Conv, ConvTranspose, _worth_rewriting  # noqa: E402

# (model, layer, transposed?, features, kernel, strides, padding, input shape)
LAYERS = [
    ("MNIST classifier", "conv 1->32, 28x28", False, 32, (3, 3), (1, 1), "SAME", (128, 28, 28, 1)),
    ("MNIST classifier", "conv 32->64, 28x28", False, 64, (3, 3), (1, 1), "SAME", (128, 28, 28, 32)),
    ("MNIST classifier", "conv 64->64, 14x14", False, 64, (3, 3), (1, 1), "SAME", (128, 14, 14, 64)),
    ("Stacked-MNIST G", "deconv 64->32, 4->7", True, 32, (4, 4), (1, 1), "VALID", (64, 4, 4, 64)),
    ("Stacked-MNIST G", "deconv 32->16, 7->14", True, 16, (4, 4), (2, 2), "SAME", (64, 7, 7, 32)),
    ("Stacked-MNIST G", "deconv 16->8, 14->28", True, 8, (4, 4), (2, 2), "SAME", (64, 14, 14, 16)),
    ("Stacked-MNIST G", "conv 8->3, 28x28", False, 3, (3, 3), (1, 1), "SAME", (64, 28, 28, 8)),
    ("Stacked-MNIST D(L)", "conv 3->8, 28->14", False, 8, (3, 3), (2, 2), "SAME", (64, 28, 28, 3)),
    ("Stacked-MNIST D(L)", "conv 8->16, 14->7", False, 16, (3, 3), (2, 2), "SAME", (64, 14, 14, 8)),
    ("Stacked-MNIST D(L)", "conv 16->32, 7->4", False, 32, (3, 3), (2, 2), "SAME", (64, 7, 7, 16)),
    ("CIFAR DCGAN G", "deconv 256->128, 4->8", True, 128, (5, 5), (2, 2), "SAME", (64, 4, 4, 256)),
    ("CIFAR DCGAN G", "deconv 128->64, 8->16", True, 64, (5, 5), (2, 2), "SAME", (64, 8, 8, 128)),
    ("CIFAR DCGAN G", "deconv 64->3, 16->32", True, 3, (5, 5), (2, 2), "SAME", (64, 16, 16, 64)),
    ("CIFAR DCGAN D", "conv 3->64, 32->16", False, 64, (5, 5), (2, 2), "SAME", (64, 32, 32, 3)),
    ("CIFAR DCGAN D", "conv 64->128, 16->8", False, 128, (5, 5), (2, 2), "SAME", (64, 16, 16, 64)),
    ("CIFAR DCGAN D", "conv 128->256, 8->4", False, 256, (5, 5), (2, 2), "SAME", (64, 8, 8, 128)),
]


def seconds(module, x, repeats=5):
  params = module.init(jax.random.PRNGKey(0), x)
  step = jax.jit(jax.grad(lambda p, x: jnp.sum(module.apply(p, x) ** 2), argnums=(0, 1)))
  jax.block_until_ready(step(params, x))
  start = time.perf_counter()
  for _ in range(repeats):
    out = step(params, x)
  jax.block_until_ready(out)
  return (time.perf_counter() - start) / repeats


def main():
  malloc = host_memory.reuse_freed_host_memory()  # every layer here is an image layer
  print(f"backend: {jax.default_backend()} ({jax.devices()[0].device_kind}), jax {jax.__version__}; "
        f"{malloc}")
  print("| model | layer | batch | form on CPU | flax native (ms) | sigjax (ms) | speed-up |")
  print("|---|---|---|---|---|---|---|")
  for model, name, transposed, f, k, s, pad, shape in LAYERS:
    x = jnp.ones(shape)
    if transposed:
      ours, theirs = (ConvTranspose(f, k, strides=s, padding=pad),
                      nn.ConvTranspose(f, k, strides=s, padding=pad))
    else:
      ours, theirs = Conv(f, k, strides=s, padding=pad), nn.Conv(f, k, strides=s, padding=pad)
    native, sigjax = seconds(theirs, x), seconds(ours, x)
    kernel = k + (shape[-1], f)
    form = ("native" if not _worth_rewriting(kernel, (1, 1) if transposed else s,
                                             s if transposed else None)
            else "phase" if transposed and s != (1, 1) else "custom VJP")
    print(f"| {model} | {name} | {shape[0]} | {form} | {native * 1e3:.1f} | {sigjax * 1e3:.1f} | "
          f"{native / sigjax:.1f}x |")


if __name__ == "__main__":
  main()
