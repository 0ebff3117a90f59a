"""Keeps freed host memory inside the process, so XLA:CPU stops page-faulting every step.

XLA:CPU mallocs each executable's temporaries on every call. glibc serves a block
over 32 MiB, and any block that outgrows a worker thread's own arena (64 MiB
heaps), with a fresh ``mmap`` and hands it back with ``munmap`` on free, so every
call faults its temporaries' pages in again: the MNIST classifier's train step
faulted 437 MiB per step (0.4 s of system time a step, ``strace``: a 458, a 265
and a 76 MB mmap/munmap pair per step), the CPU analogue of a GPU allocator
without a cache. Three glibc settings (``mallopt``) make freed blocks reusable:
one arena (worker threads allocate from the main heap, which grows with brk),
no mmap, and no trimming of the heap's top. The same step then faults 41 MiB.

The price: memory is never handed back, and the one heap fragments while it
grows over the first ~10 steps: the classifier's training process settled at
1.8 GB resident where its peak had been 0.96 GB. And every thread's malloc goes
through the one arena's lock.

It pays where a step's temporaries are large and loses where they are many and
small: measured with benchmarks/vs_torch.py, same machine, alternating processes,
the MNIST classifier step went 611 -> 372 ms and the CIFAR DCGAN step 721 -> 655,
the Stacked-MNIST steps moved within noise, and the 5x5-grid GAN step (a small
MLP) went 23-24 -> 27-30 ms: its many small allocations from XLA's threads then
queue on the one arena's lock. So ``setup`` applies it to image runs only.

A process-wide setting, so the library never calls it: the entry points do
(experiments.main, .sweep, .reproduce, the image benchmarks), first thing, before
XLA's thread pools exist. ``SIGJAX_SYSTEM_MALLOC=1`` turns it off; a non-glibc
libc (macOS, musl) is left alone.
"""

from __future__ import annotations

import ctypes
import os
import platform

from absl import logging

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_SETTINGS = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1))

OPT_OUT_ENV = "SIGJAX_SYSTEM_MALLOC"
# Data sets whose models take small steps (2-D toys): left on the system's malloc.
SMALL_STEP_DATA = ("grid", "ring")

IN_FORCE = "host malloc: freed memory reused (experiments/host_memory.py)"


def reuse_freed_host_memory() -> str:
  """Applies the settings above; returns a line for the log saying what holds."""
  if os.environ.get(OPT_OUT_ENV, "") not in ("", "0"):
    return f"host malloc: the system's default ({OPT_OUT_ENV} is set)"
  if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    return "host malloc: the system's default (not glibc)"
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError as e:
    return f"host malloc: the system's default (libc.so.6 not loadable: {e})"
  if _backend_running():
    # Threads that already have their own arenas keep them: the setting would
    # hold only in part. Entry points call this before any jax computation.
    logging.warning("host_memory: XLA's backend is already running; the malloc settings "
                    "reach only threads started from now on.")
  # mallopt returns 1 on success; apply all, then report.
  failed = [param for param, value in _SETTINGS if libc.mallopt(param, value) != 1]
  if failed:
    return f"host malloc: partly the system's default (mallopt refused {failed})"
  return IN_FORCE


def _backend_running() -> bool:
  try:
    from jax._src import xla_bridge  # private; only for the warning above
    return bool(xla_bridge.backends_are_initialized())
  except Exception:  # noqa: BLE001 (any jax version without it: no warning)
    return False


def _small_steps(config) -> bool:
  return config.data.name in SMALL_STEP_DATA


def setup(configs) -> str:
  """Reuses freed host memory when any of these run configs trains on images
  (see above); returns a line for the log."""
  if all(map(_small_steps, configs)):
    return "host malloc: the system's default (small steps: see experiments/host_memory.py)"
  return reuse_freed_host_memory()


def mixed_runs_note(configs, line: str) -> str | None:
  """For benchmarks timing image and small-step runs in one process: the small
  ones then run under the image runs' setting, which their own runs never use."""
  if line == IN_FORCE and any(map(_small_steps, configs)):
    return ("note: the 2-D rows here run under the image rows' malloc setting (~20% slower "
            "than the grid's own runs); time them in a process of their own for those")
  return None
