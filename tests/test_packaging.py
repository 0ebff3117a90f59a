"""The library installs and imports without the training framework."""

import os
import subprocess
import sys

from helpers import ROOT

FRAMEWORK = ("flax", "optax", "orbax", "tensorflow", "tensorflow_datasets",
             "ml_collections", "matplotlib", "tensorboardX", "scipy", "absl", "chex", "PIL")


def test_library_imports_only_jax_and_numpy():
  # A fresh interpreter, so nothing the test session imported counts.
  code = ("import sys, sigjax, sigjax.loss, sigjax.objectives, sigjax.theory\n"
          f"bad = sorted(m for m in {FRAMEWORK!r} if m in sys.modules)\n"
          "print(','.join(bad))")
  out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       check=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert out.stdout.strip() == "", f"the base library imported {out.stdout.strip()}"


def test_base_dependencies_are_jax_and_numpy():
  import tomllib

  with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
    project = tomllib.load(f)["project"]
  names = sorted(d.split(">")[0].split("=")[0].split("<")[0] for d in project["dependencies"])
  assert names == ["jax", "numpy"]
  assert "train" in project["optional-dependencies"]
