"""Test set-up: 8 simulated CPU devices for the multi-device tests.

XLA reads the flag when jax first initialises its backends, so it must be set
before anything imports jax; pytest imports conftest.py first.
"""

import os

_FLAG = "--xla_force_host_platform_device_count=8"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FLAG).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
