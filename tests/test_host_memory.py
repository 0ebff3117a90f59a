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
# of every call. Prints setup's log line, the temporaries' MiB, and the fewest MiB
# of minor page faults per call over windows of 4 calls: the one heap grows
# (fragments) over the first ~12 calls before it settles, at a pace that depends
# on the machine's load, so the best window is the settled state.
_SCRIPT = """
import resource, sys
from experiments import host_memory
from experiments.config_cli import load_config_file
print(host_memory.setup([load_config_file(sys.argv[1])]))
import jax, jax.numpy as jnp
f = jax.jit(lambda a, b: (a @ b) @ b.T)
a, b = jnp.ones((8192, 64)), jnp.ones((64, 2048))
print(f.lower(a, b).compile().memory_analysis().temp_size_in_bytes / 2**20)
f(a, b).block_until_ready()
windows = []
for _ in range(8):
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  for _ in range(4):
    f(a, b).block_until_ready()
  windows.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4 * 4096 / 2**20)
print(min(windows))
"""


def _run(config="configs/mnist_classifier.py", **env):
  # JAX_PLATFORMS=cpu: on an accelerator the product would not be a host temporary.
  out = subprocess.run([sys.executable, "-c", _SCRIPT, config], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "JAX_PLATFORMS": "cpu", **env}, timeout=300,
                       check=True)
  line, temp_mib, fault_mib = out.stdout.strip().splitlines()
  return line, float(temp_mib), float(fault_mib)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="a glibc setting")
def test_image_runs_reuse_temporaries_instead_of_faulting_them_in():
  from experiments import host_memory
  line, temp_mib, baseline_mib = _run(SIGJAX_SYSTEM_MALLOC="1")
  assert line != host_memory.IN_FORCE and "SIGJAX_SYSTEM_MALLOC" in line
  assert temp_mib >= 64
  if baseline_mib < 32:
    # e.g. transparent huge pages set to "always": 2 MiB faults, too few to tell apart.
    pytest.skip(f"the system's malloc faults only {baseline_mib:.1f} MiB per call here")
  line, _, fault_mib = _run(SIGJAX_SYSTEM_MALLOC="0")
  assert line == host_memory.IN_FORCE
  # 65 MiB per call with the system's malloc on glibc 2.36 (this machine); reused: 0.
  assert fault_mib < 8, f"{fault_mib:.1f} MiB of page faults per call (system: {baseline_mib:.1f})"


def test_small_step_runs_keep_the_system_malloc():
  from experiments import host_memory
  from experiments.config_cli import load_config_file
  # In this process: setup applies nothing for these (the grid's small MLP step ran
  # ~20% slower with one shared arena).
  configs = [load_config_file(os.path.join(ROOT, "configs", name))
             for name in ("gmm_gan.py", "gmm_gansi.py", "gmm_sig.py")]
  line = host_memory.setup(configs)
  assert line != host_memory.IN_FORCE and "small steps" in line
