"""experiments.host_memory: XLA:CPU's per-call temporaries stop page-faulting.

Each case runs in a fresh process: the setting is process-wide and must come
before XLA's thread pools exist.
"""

import os
import platform
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A jitted function whose [8192, 2048] float32 product (64 MiB) is a temporary
# of every call; prints whether the setting is in force, the temporaries' MiB and
# the MiB of minor page faults per call after a warm-up.
_SCRIPT = """
import resource, sys
from experiments import host_memory
from experiments.config_cli import load_config_file
line = host_memory.setup([load_config_file(sys.argv[1])])
print(line == host_memory.describe(True))
import jax, jax.numpy as jnp
f = jax.jit(lambda a, b: (a @ b) @ b.T)
a, b = jnp.ones((8192, 64)), jnp.ones((64, 2048))
print(f.lower(a, b).compile().memory_analysis().temp_size_in_bytes / 2**20)
for _ in range(2):
  f(a, b).block_until_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
  f(a, b).block_until_ready()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4 * 4096 / 2**20)
"""


def _run(config="configs/mnist_classifier.py", **env):
  out = subprocess.run([sys.executable, "-c", _SCRIPT, config], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, **env}, timeout=120, check=True)
  in_force, temp_mib, fault_mib = out.stdout.split()
  return in_force == "True", float(temp_mib), float(fault_mib)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="a glibc setting")
def test_image_runs_reuse_temporaries_instead_of_faulting_them_in():
  in_force, temp_mib, fault_mib = _run(SIGJAX_SYSTEM_MALLOC="0")
  assert in_force and temp_mib >= 64
  # Without the setting every call faults its 64 MiB in again (65 MiB per call
  # measured with SIGJAX_SYSTEM_MALLOC=1 on glibc 2.36); with it the freed block
  # is reused.
  assert fault_mib < 8, f"{fault_mib:.1f} MiB of page faults per call"


def test_opt_out():
  in_force, _, _ = _run(SIGJAX_SYSTEM_MALLOC="1")
  assert not in_force


def test_small_step_runs_keep_the_system_malloc():
  # The grid's small MLP step ran ~20% slower with one shared arena.
  in_force, _, _ = _run("configs/gmm_gansi.py", SIGJAX_SYSTEM_MALLOC="0")
  assert not in_force
