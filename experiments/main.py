"""Trains a sigjax model: python -m experiments.main --config=CONFIG --workdir=DIR.

Any config field can be overridden: --config.objective.si_weight=0.5.
--show_config prints the resolved config (every key, after overrides) and exits.
"""

import sys

from absl import app, flags, logging
import jax
from ml_collections import config_flags

from experiments import distributed, host_memory
from experiments.cli_logging import quiet_library_logs
from experiments.config_cli import parse_flags_or_explain
from sigjax.training import train_and_evaluate
from sigjax.data.images import BadLocalDataError, DataNotPreparedError
from sigjax.training.checkpoints import CheckpointSaveError, NoUsableCheckpointError
from sigjax.training.loop import NonFiniteLossError, Preempted
from sigjax.training.workdir import WorkdirConfigMismatch, WorkdirLocked

# The run's own failure reports (each names the cause and the way on).
EXPECTED_FAILURES = (CheckpointSaveError, NoUsableCheckpointError, NonFiniteLossError,
                     WorkdirConfigMismatch, WorkdirLocked, DataNotPreparedError,
                     BadLocalDataError)

# 128 + SIGTERM, as a shell reports a process the signal ended: schedulers
# (SLURM --requeue, Kubernetes restarts) treat it as "not finished".
EXIT_PREEMPTED = 143

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and samples.")
flags.DEFINE_bool("show_config", False, "Print the resolved config (every key that "
                  "--config.KEY=VALUE can override, with its value) and exit.")
flags.DEFINE_bool("allow_config_change", False, "Resume a workdir whose stored config differs "
                  "in keys that change the run (model, objective, seed, data, optimiser).")
flags.DEFINE_string("coordinator_address", None, "Multi-process runs outside a detected cluster: "
                    "HOST:PORT of process 0, the same for every process.")
flags.DEFINE_integer("num_processes", None, "Multi-process runs: how many processes join.")
flags.DEFINE_integer("process_id", None, "Multi-process runs: this process's index, 0 .. N-1.")
flags.DEFINE_integer("initialization_timeout", 300, "Seconds to wait for every process to join.")
config_flags.DEFINE_config_file("config", None, "Experiment config file.", lock_config=True)
flags.mark_flags_as_required(["config"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if FLAGS.show_config:
    print(FLAGS.config)
    return
  if not FLAGS.workdir:
    raise app.UsageError("--workdir is required (or --show_config to print the config).")
  quiet_library_logs()
  # Before XLA's thread pools exist (the first jax call below creates them).
  logging.info("%s", host_memory.setup([FLAGS.config]))
  # Multi-process: explicit flags, or a cluster JAX detects (TPU pods, SLURM);
  # a single process needs nothing.
  try:
    distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id,
                           timeout_s=FLAGS.initialization_timeout)
  except distributed.DistributedInitError as e:
    sys.exit(f"error: {e}")
  logging.info("JAX process %d/%d, %d local devices: %s", jax.process_index(),
               jax.process_count(), jax.local_device_count(), jax.devices())
  try:
    train_and_evaluate(FLAGS.config, FLAGS.workdir,
                       allow_config_change=FLAGS.allow_config_change)
  except Preempted as e:
    logging.warning("%s", e)
    raise SystemExit(EXIT_PREEMPTED)
  except EXPECTED_FAILURES as e:
    # Failures whose message says what happened and what to do: no traceback.
    sys.exit(f"error: {e}")
  except ValueError as e:
    if not str(e).startswith("config:"):
      raise
    sys.exit(f"error: {e}")


if __name__ == "__main__":
  app.run(main, flags_parser=lambda argv: parse_flags_or_explain(flags, argv))
