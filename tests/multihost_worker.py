"""One process of a multi-process test run (tests/test_multihost.py starts two).

Joins the run through experiments.distributed (the path experiments.main
takes), trains a tiny config, on tfds mock data when --mock_examples is set,
and, with --sig_out, evaluates sig_nll under shard_map across all processes'
devices and saves its value and gradient (process 0).
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]


def sig_nll_across_processes(path):
  import jax
  import jax.numpy as jnp
  import numpy as np
  from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

  from sigjax.loss import sig_nll

  x, theta = sig_nll_inputs()
  mesh = Mesh(np.asarray(jax.devices()), ("data",))
  sharding = NamedSharding(mesh, P("data"))
  put = lambda a: jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])

  def total(t_local, x_local):
    return jax.lax.psum(jnp.sum(sig_nll(x_local, t_local, scale=0.7, axis_name="data")), "data")

  f = jax.jit(jax.value_and_grad(jax.shard_map(total, mesh=mesh, in_specs=(P("data"), P("data")),
                                               out_specs=P())))
  value, grad = f(put(theta), put(x))
  from jax.experimental import multihost_utils

  grad = multihost_utils.process_allgather(grad, tiled=True)
  if jax.process_index() == 0:
    np.savez(path, value=np.asarray(value), grad=np.asarray(grad))


def sig_nll_inputs():
  import numpy as np

  rng = np.random.default_rng(0)
  return (rng.normal(size=(16, 5)).astype(np.float32),
          rng.normal(size=(24, 5)).astype(np.float32))


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--coordinator", required=True)
  parser.add_argument("--process_id", type=int, required=True)
  parser.add_argument("--num_processes", type=int, default=2)
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--spec", required=True)
  parser.add_argument("--overrides", default="{}")
  parser.add_argument("--mock_examples", type=int, default=0)
  parser.add_argument("--sig_out", default="")
  args = parser.parse_args()

  from experiments import distributed

  distributed.initialize(args.coordinator, args.num_processes, args.process_id, timeout_s=60)
  from helpers import tiny
  from sigjax.training import train_and_evaluate

  if args.sig_out:
    sig_nll_across_processes(args.sig_out)
  config = tiny(args.spec, **json.loads(args.overrides))
  if args.mock_examples:
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=args.mock_examples):
      train_and_evaluate(config, args.workdir)
  else:
    train_and_evaluate(config, args.workdir)


if __name__ == "__main__":
  main()
