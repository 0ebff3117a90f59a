"""Joins a multi-process JAX run: one process per host (TPU pod slices, GPU
clusters) or several on one machine.

* Clusters JAX detects (TPU pods, SLURM, Open MPI, ...) need no flags:
  ``jax.distributed.initialize()`` reads the environment.
* Anything else names the coordinator explicitly: every process gets the
  same ``--coordinator_address=HOST:PORT`` and ``--num_processes=N`` and its
  own ``--process_id`` (0 .. N-1; process 0 hosts the coordinator).

On CPU, cross-process collectives use gloo. Failures are one line: who could
not join whom within how many seconds.
"""

from __future__ import annotations

import os
import sys
import threading

import jax
from absl import logging

EXIT_NOT_JOINED = 1


class DistributedInitError(RuntimeError):
  """This process could not join the multi-process run."""


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, timeout_s: int = 300) -> None:
  """Starts jax.distributed explicitly (all three given) or by cluster detection (none)."""
  given = [coordinator_address is not None, num_processes is not None, process_id is not None]
  if any(given) and not all(given):
    raise DistributedInitError(
        "--coordinator_address, --num_processes and --process_id go together: give all three "
        "(or none, to let JAX detect a TPU pod or SLURM cluster).")
  if not any(given):
    try:
      jax.distributed.initialize()
    except (ValueError, RuntimeError) as error:
      logging.info("Single-process run (no cluster detected: %s).", error)
    return
  if num_processes < 1 or not 0 <= process_id < num_processes:
    raise DistributedInitError(f"--process_id={process_id} must be in [0, {num_processes}) "
                               f"for --num_processes={num_processes}.")
  # CPU backends need a cross-process collectives library; harmless elsewhere.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  message = (f"process {process_id} of {num_processes} could not join the coordinator at "
             f"{coordinator_address} within {timeout_s} s. Start all {num_processes} processes "
             "with the same --coordinator_address and --num_processes, each with its own "
             "--process_id.")
  # When peers never arrive, the runtime aborts the process from C++ with a
  # stack dump that Python cannot catch; this watchdog says what happened in
  # one line and exits first (the runtime's own deadline is set later).
  joined = threading.Event()

  def watchdog():
    if not joined.wait(timeout_s):
      sys.stderr.write(f"error: {message}\n")
      sys.stderr.flush()
      os._exit(EXIT_NOT_JOINED)

  threading.Thread(target=watchdog, daemon=True).start()
  try:
    jax.distributed.initialize(coordinator_address, num_processes, process_id,
                               initialization_timeout=timeout_s + 30)
  except Exception as error:  # the runtime raises several kinds; all mean "not joined"
    first = (str(error).strip().splitlines() or [""])[0][:200]
    raise DistributedInitError(f"{message} ({type(error).__name__}: {first})") from None
  finally:
    joined.set()
