"""sigjax's real jitted train step against a PyTorch eager twin, same process (prints a table).

  pip install -e '.[train,bench]'
  python benchmarks/vs_torch.py                        # every row
  python benchmarks/vs_torch.py --rows=cifar10_dcgan --repeats=3
  python benchmarks/vs_torch.py --torch_device=cuda --steps=50   # on a GPU machine

PyTorch runs on the device JAX computes on (--torch_device=auto): both on the
CPU here, both on the GPU where jax's default backend is one. Each side keeps
its own default precision (on NVIDIA GPUs PyTorch's convolutions and XLA's
float32 convolutions and matrix products may use TF32).

Each row builds sigjax's step exactly as training does (``build_trainer`` for
the GANs, ``make_classifier_step`` for the classifier) and its PyTorch twin
(benchmarks/torch_twins.py: same architecture, batch, Adam settings and step),
then times them in alternation, ``repeats`` rounds of ``steps`` steps each, and
keeps each side's best round: alternating rounds puts both under the same
machine noise. Before timing, each row checks that the twins do the same work:
equal parameter counts, and the forward FLOPs of the networks (generator on
one batch of z + discriminator on one batch; PyTorch's FlopCounterMode counts
matmuls and convolutions, XLA's cost analysis of the compiled CPU forward also
counts elementwise work, so sigjax's figure runs a few % higher).
The last line is the worst sigjax / PyTorch ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, NamedTuple

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402  (the bench extra)
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from benchmarks import torch_twins  # noqa: E402
from experiments import host_memory  # noqa: E402
from experiments.config_cli import load_config_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# row name -> (config spec, example shape NHWC, timed steps per round)
ROWS = {
    "cifar10_dcgan": ("cifar10_dcgan.py", (32, 32, 3), 5),
    "cifar10_wgangp": ("cifar10_wgangp.py", (32, 32, 3), 2),
    "stacked_mnist_dcgan:S": ("stacked_mnist_dcgan.py:S", (28, 28, 3), 50),
    "stacked_mnist_dcgan:M": ("stacked_mnist_dcgan.py:M", (28, 28, 3), 50),
    "stacked_mnist_dcgan:L": ("stacked_mnist_dcgan.py:L", (28, 28, 3), 50),
    "mnist_classifier": ("mnist_classifier.py", (28, 28, 1), 10),
    "gmm_gan": ("gmm_gan.py", (2,), 300),
}


def _torch(x):
  """A NumPy array as a tensor on the twins' device (torch.set_default_device)."""
  return torch.from_numpy(x).to(torch.get_default_device())


def _nchw(x):
  return _torch(np.ascontiguousarray(np.moveaxis(x, -1, -3)) if x.ndim >= 4 else x)


def _xla_flops(jitted, *args):
  cost = jitted.lower(*args).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost.get("flops", float("nan")))


class Row(NamedTuple):
  jax_step: Callable  # one sigjax step (returns its metrics)
  torch_step: Callable  # one PyTorch step (returns its loss)
  jax_params: int
  torch_params: int
  jax_flops: float  # the networks' forward, by XLA's cost analysis
  torch_forward: Callable  # the same forward in PyTorch, for FlopCounterMode


def _num_params(tree) -> int:
  return sum(a.size for a in jax.tree.leaves(tree))


def gan_row(config, shape) -> Row:
  from sigjax.models.factory import model_spec
  from sigjax.training.train import build_trainer, make_mesh
  trainer = build_trainer(config, shape, make_mesh(0))
  n_critic = trainer.objective.n_critic
  x = np.random.default_rng(0).uniform(-1, 1, (n_critic, config.batch_size) + shape)
  x = x.astype(np.float32)
  batch = jax.device_put(x, trainer.batch_sharding)
  holder = {"state": trainer.state}
  # The networks' parameters (g_params also holds the SIG kernel's log std).
  g_params, d_params = trainer.state.g_params["net"], trainer.state.d_params
  generator, discriminator = model_spec(config.model_name, config.model).build(shape)
  z = np.zeros((config.batch_size, config.model.z_dim), np.float32)
  jax_flops = (_xla_flops(jax.jit(generator.apply), g_params, z)
               + _xla_flops(jax.jit(discriminator.apply), d_params, x[0]))

  def jax_step():
    holder["state"], metrics = trainer.train_step(holder["state"], batch)
    return metrics

  torch_g, torch_d = torch_twins.gan_pair(config, shape)
  torch_step = torch_twins.make_gan_step(config, torch_g, torch_d)
  tx = _nchw(x)

  def torch_forward():
    with torch.no_grad():
      torch_g(_torch(z))
      torch_d(tx[0])

  return Row(jax_step, lambda: torch_step(tx), _num_params((g_params, d_params)),
             torch_twins.num_params(torch_g, torch_d), jax_flops, torch_forward)


def classifier_row(config, shape) -> Row:
  import jax.numpy as jnp
  import optax
  from sigjax.models.classifier import MnistClassifier
  from sigjax.training.classifier import ClassifierState, make_classifier_step
  model = MnistClassifier()
  tx = optax.adam(config.optim.lr, b1=config.optim.b1, b2=config.optim.b2)
  params = model.init(jax.random.PRNGKey(0), jnp.zeros((1,) + shape))
  step = jax.jit(make_classifier_step(model, tx), donate_argnums=0)
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, (config.batch_size,) + shape).astype(np.float32)
  y = rng.integers(0, 10, config.batch_size).astype(np.int32)
  holder = {"state": ClassifierState(jnp.asarray(0, jnp.int32), params, tx.init(params))}
  jax_flops = _xla_flops(jax.jit(model.apply), params, x)

  def jax_step():
    holder["state"], metrics = step(holder["state"], x, y)
    return metrics

  net = torch_twins.mnist_classifier()
  torch_step = torch_twins.make_classifier_step(config, net)
  tx_, ty = _nchw(x), _torch(y.astype(np.int64))

  def torch_forward():
    with torch.no_grad():
      net(tx_)

  return Row(jax_step, lambda: torch_step(tx_, ty), _num_params(params),
             torch_twins.num_params(net), jax_flops, torch_forward)


def _best_round(step, steps, sync):
  start = time.perf_counter()
  for _ in range(steps):
    out = step()
  sync(out)
  return (time.perf_counter() - start) / steps


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from {list(ROWS)}")
  parser.add_argument("--repeats", type=int, default=3, help="alternating timing rounds")
  parser.add_argument("--steps", type=int, default=0, help="steps per round (0: per-row default)")
  parser.add_argument("--torch_device", default="auto",
                      help="cpu, cuda, or auto (cuda where jax's default backend is a GPU)")
  args = parser.parse_args()
  device = args.torch_device
  if device == "auto":
    device = "cuda" if jax.default_backend() == "gpu" else "cpu"
  if device != "cpu" and not torch.cuda.is_available():
    raise SystemExit(f"--torch_device={device}: this PyTorch build sees no GPU")
  torch.set_default_device(device)  # the twins' modules and their torch.randn draws
  configs = [load_config_file(os.path.join(ROOT, "configs", ROWS[name][0]))
             for name in args.rows.split(",")]
  malloc = host_memory.setup(configs)
  print(f"jax {jax.__version__} on {jax.devices()[0].device_kind} x{jax.device_count()}; "
        f"torch {torch.__version__} on {device} with {torch.get_num_threads()} threads; {malloc}")
  if note := host_memory.mixed_runs_note(configs, malloc):
    print(note)
  print("| row | batch | n_critic | params (both) | forward GFLOP sigjax / torch "
        "| sigjax ms/step | torch ms/step | sigjax / torch |")
  print("|---|---|---|---|---|---|---|---|")
  worst = None
  for name in args.rows.split(","):
    spec, shape, default_steps = ROWS[name]
    config = load_config_file(os.path.join(ROOT, "configs", spec))
    torch.manual_seed(0)
    make = classifier_row if config.get("task") == "classifier" else gan_row
    row = make(config, shape)
    jax_step, torch_step, jax_params = row.jax_step, row.torch_step, row.jax_params
    if jax_params != row.torch_params:
      raise SystemExit(f"{name}: the twins differ: {jax_params} sigjax vs {row.torch_params} "
                       "PyTorch parameters")
    with FlopCounterMode(display=False) as counter:
      row.torch_forward()
    torch_flops, jax_flops = counter.get_total_flops(), row.jax_flops
    steps = args.steps or default_steps
    jax.block_until_ready(jax_step())  # compile + warm-up
    torch_step()
    t_jax = t_torch = float("inf")
    for _ in range(args.repeats):
      t_jax = min(t_jax, _best_round(jax_step, steps, jax.block_until_ready))
      t_torch = min(t_torch, _best_round(torch_step, steps, lambda out: out.item()))  # syncs
    ratio = t_jax / t_torch
    worst = max(worst or (0, ""), (ratio, name))
    n_critic = config.objective.n_critic if "objective" in config else 1
    print(f"| {name} | {config.batch_size} | {n_critic} | {jax_params:,} "
          f"| {jax_flops / 1e9:.2f} / {torch_flops / 1e9:.2f} | {t_jax * 1e3:.1f} "
          f"| {t_torch * 1e3:.1f} | {ratio:.2f} |", flush=True)
  print(f"worst sigjax / torch ratio: {worst[0]:.2f} ({worst[1]})")


if __name__ == "__main__":
  main()
