"""Train-step throughput with and without the SI term (prints a table).

  python benchmarks/train_step.py           # CIFAR-10 DCGAN / WGAN-GP at batch 64, and the grid
  python benchmarks/train_step.py --quick   # fewer timed steps

Each row times the real jitted data-parallel train step built by
sigjax.training.train.build_trainer on synthetic batches of the right shape
(no data set needed). "SI cost" is the extra step time of the -SI config over
its plain twin, as a fraction of the SI step time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments import host_memory  # noqa: E402
from experiments.config_cli import load_config_file  # noqa: E402
from sigjax.training.train import build_trainer, make_mesh  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAIRS = [("cifar10_dcgan", "cifar10_dcgan_si", (32, 32, 3)),
         ("cifar10_wgangp", "cifar10_wgangp_si", (32, 32, 3)),
         ("stacked_mnist_dcgan.py:S", "stacked_mnist_dcgan_si.py:S", (28, 28, 3)),
         ("gmm_gan", "gmm_gansi", (2,))]


def _spec(name):
  return name if ".py" in name else f"{name}.py"  # "name" or "name.py:ARG"


def seconds_per_step(name, example_shape, batch_size, steps):
  config = load_config_file(os.path.join(ROOT, "configs", _spec(name)))
  if example_shape != (2,):
    config.batch_size = batch_size
  mesh = make_mesh(0)
  trainer = build_trainer(config, example_shape, mesh)
  n_critic = trainer.objective.n_critic
  rng = np.random.default_rng(0)
  x = rng.uniform(-1, 1, (n_critic, config.batch_size) + example_shape).astype(np.float32)
  batch = jax.device_put(x, trainer.batch_sharding)
  state = trainer.state
  for _ in range(1):  # compile (the first call) + warm up
    state, metrics = trainer.train_step(state, batch)
  jax.block_until_ready(metrics)
  start = time.perf_counter()
  for _ in range(steps):
    state, metrics = trainer.train_step(state, batch)
  jax.block_until_ready(metrics)
  return (time.perf_counter() - start) / steps, config


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--quick", action="store_true")
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--pairs", default="cifar10_dcgan,cifar10_wgangp,gmm_gan",
                      help="comma-separated plain configs to time (each with its -SI twin)")
  parser.add_argument("--steps", type=int, default=0, help="timed steps (0: a default per model)")
  args = parser.parse_args()
  wanted = args.pairs.split(",")
  pairs = [p for p in PAIRS if p[0] in wanted or p[0].split(".py")[0] in wanted]
  configs = [load_config_file(os.path.join(ROOT, "configs", _spec(name)))
             for pair in pairs for name in pair[:2]]
  malloc = host_memory.setup(configs)
  print(f"device: {jax.devices()[0].device_kind} x{jax.device_count()}, jax {jax.__version__}; {malloc}")
  if note := host_memory.mixed_runs_note(configs, malloc):
    print(note)
  print("| config | batch | n_critic | ms/step | steps/s | SI cost |\n|---|---|---|---|---|---|")
  for plain, si, shape in pairs:
    image = shape != (2,)
    steps = args.steps or ((5 if args.quick else 20) if image else (50 if args.quick else 500))
    t_plain, c = seconds_per_step(plain, shape, args.batch_size, steps)
    t_si, _ = seconds_per_step(si, shape, args.batch_size, steps)
    for name, t, cost in ((plain, t_plain, ""), (si, t_si, f"{(t_si - t_plain) / t_si:.1%}")):
      print(f"| {name} | {c.batch_size} | {c.objective.n_critic if c.objective.name != 'sig' else 1} | {t * 1e3:.2f} | {1 / t:.1f} | {cost} |",
            flush=True)


if __name__ == "__main__":
  main()
