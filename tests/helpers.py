"""Shared test helpers: tiny configs and reading a run's metrics."""

import json
import os

from experiments.config_cli import load_config_file, set_by_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(spec, **overrides):
  """Loads configs/NAME.py[:ARG] and shrinks it to a 2-step run."""
  name, _, arg = spec.partition(":")
  config = load_config_file(os.path.join(ROOT, "configs", f"{name}.py") + (f":{arg}" if arg else ""))
  small = {"num_devices": 1, "batch_size": 16, "num_steps": 2, "log_every": 1, "eval_every": 2,
           "checkpoint_every": 2, "eval_batch_size": 32, "test_examples": 64,
           "model.hidden": (16, 16), "data.num_examples": 64,
           # Constant rates, lambda and std: a decaying schedule is a function of
           # num_steps, and the tests resume 2-step runs to 3 or 4 steps.
           "optim.lr_final_fraction": 1.0, "objective.si_weight_final_fraction": 1.0,
           "objective.si_scale_final_fraction": 1.0}
  for name in config.get("evals", {}):  # every evaluator on at most 64 samples
    for option in ("num_samples", "protocol_samples"):
      if option in config.evals[name]:
        small[f"evals.{name}.{option}"] = min(64, config.evals[name][option])
  small.update(overrides)
  for key, value in small.items():
    set_by_path(config, key, value, missing_ok=key not in overrides)
  return config


def read_jsonl(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f]


def saved_arrays(workdir, step):
  """The arrays of the checkpoint ``step`` in ``workdir``, read onto one local device
  whatever topology saved them (one process, or several)."""
  import jax
  import numpy as np
  import orbax.checkpoint as ocp

  path = os.path.join(workdir, "checkpoints", str(step), "default")
  checkpointer = ocp.StandardCheckpointer()
  metadata = checkpointer.metadata(path).item_metadata.tree
  one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=one), metadata)
  return [np.asarray(leaf) for leaf in jax.tree.leaves(checkpointer.restore(path, abstract))]
