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

The price: the process keeps its peak heap (resident memory does not shrink after
a peak, as with GPU allocators), and threads share one arena lock (XLA allocates a
few large blocks per step; nothing here mallocs in a hot loop).

It pays where a step's temporaries are large and loses where they are many and
small: measured with benchmarks/vs_torch.py, same machine, alternating processes,
the MNIST classifier step went 611 -> 372 ms and the CIFAR DCGAN step 721 -> 655,
the Stacked-MNIST steps moved within noise, and the 5x5-grid GAN step (a small
MLP) went 23-24 -> 27-29 ms: its many small allocations from XLA's threads then
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

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_SETTINGS = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1))

OPT_OUT_ENV = "SIGJAX_SYSTEM_MALLOC"
# Data sets whose models take small steps (2-D toys): left on the system's malloc.
SMALL_STEP_DATA = ("grid", "ring")


def reuse_freed_host_memory() -> bool:
  """Applies the settings above; returns whether they are in force."""
  if os.environ.get(OPT_OUT_ENV, "") not in ("", "0"):
    return False
  if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    return False
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError:
    return False
  # mallopt returns 1 on success; apply all, then report.
  return all([libc.mallopt(param, value) == 1 for param, value in _SETTINGS])


def setup(configs) -> str:
  """Reuses freed host memory when any of these run configs trains on images
  (see above); returns a line for the log."""
  if all(c.data.name in SMALL_STEP_DATA for c in configs):
    return "host malloc: the system's default (small steps: see experiments/host_memory.py)"
  return describe(reuse_freed_host_memory())


def describe(in_force: bool) -> str:
  return ("host malloc: freed memory reused (experiments/host_memory.py)" if in_force
          else f"host malloc: the system's default ({OPT_OUT_ENV} set, or not glibc)")
