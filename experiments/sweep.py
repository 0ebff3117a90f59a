"""A grid search over config values for one experiment, written as a Markdown table.

  python -m experiments.sweep --config=configs/gmm_gansi.py --outdir=results/grid_sweep \
      --grid=objective.si_weight=0.01,0.1,1 --grid=objective.si_scale=0.02,0.05,0.1 --seeds=0

Every combination x seed is an ordinary train_and_evaluate in its own workdir
under OUTDIR, so an interrupted sweep resumes where it stopped. The table has
one row per combination with mean ± std of the final eval metrics over seeds.
"""

from __future__ import annotations

import json
import os

from absl import app, flags, logging

from experiments import host_memory
from experiments.cli_logging import quiet_library_logs
from experiments.config_cli import load_config_file
from experiments.tables import apply_overrides, combinations, markdown_table
from sigjax.training import train_and_evaluate

flags.DEFINE_string("config", None, "Config file, path[:arg].", required=True)
flags.DEFINE_multi_string("grid", [], "key=v1,v2,... : values to sweep for one config key.")
flags.DEFINE_multi_string("set", [], "key=value overrides applied to every run.")
flags.DEFINE_list("seeds", ["0"], "Seeds.")
flags.DEFINE_string("outdir", None, "Output directory.", required=True)
FLAGS = flags.FLAGS


def main(argv):
  del argv
  quiet_library_logs()
  logging.info("%s", host_memory.setup(
      [apply_overrides(load_config_file(FLAGS.config), FLAGS.set + combo)
       for combo in combinations(FLAGS.grid)]))
  os.makedirs(FLAGS.outdir, exist_ok=True)
  results = {}
  for combo in combinations(FLAGS.grid):
    label = ", ".join(combo) or "base"
    results[label] = []
    for seed in map(int, FLAGS.seeds):
      config = apply_overrides(load_config_file(FLAGS.config), FLAGS.set + combo)
      config.seed = seed
      workdir = os.path.join(FLAGS.outdir, "_".join(combo).replace("=", "") or "base", f"seed{seed}")
      logging.info("=== %s seed %d -> %s", label, seed, workdir)
      train_and_evaluate(config, workdir)
      with open(os.path.join(workdir, "final_metrics.json")) as f:
        results[label].append(json.load(f))
  table = markdown_table(results)
  with open(os.path.join(FLAGS.outdir, "table.md"), "w") as f:
    f.write(table)
  print(table)


if __name__ == "__main__":
  app.run(main)
