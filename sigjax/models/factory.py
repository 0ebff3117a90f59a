"""The model table: ``config.model_name`` picks a generator/discriminator pair,
``config.model`` holds that pair's fields and nothing else.

  pair = model_spec("dcgan32", {"dim": 64, "z_dim": 128})   # validates fields
  generator, discriminator = pair.build(example_shape)

Each pair is a frozen dataclass, so its fields, defaults and types are
documented in one place, and a field another architecture owns (``hidden``
for ``dcgan32``) fails with the valid ones listed.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import flax.linen as nn

from sigjax._fields import from_fields
from sigjax.models import dcgan, mlp

NORMS = ("batch", "layer", "none")


def _check_norm(field: str, value: str, allowed=NORMS) -> None:
  if value not in allowed:
    raise ValueError(f"model.{field}={value!r}; choose from {allowed}.")


def _check_shape(name: str, example_shape, expected: str, ok: bool) -> None:
  if not ok:
    raise ValueError(f"model {name!r} makes {expected}, but the data's examples have shape "
                     f"{tuple(example_shape)}; use data of that shape or another model_name.")


@dataclasses.dataclass(frozen=True)
class MLPPair:
  """Toy MLPs for the 2-D mixtures (the literature's grid networks with
  hidden=(400,)*4, d_hidden=(200,)*3, maxout_pieces=5, init_std=0.02)."""

  z_dim: int = 64
  hidden: tuple[int, ...] = (128, 128, 128)  # generator widths
  d_hidden: tuple[int, ...] = ()  # discriminator widths; () = hidden
  maxout_pieces: int = 1  # discriminator units: 1 = ReLU, k = maxout of k pieces
  init_std: float = 0.0  # > 0: N(0, init_std^2) weights instead of flax's default
  g_norm: str = "batch"  # "batch" | "layer" | "none"

  def __post_init__(self):
    _check_norm("g_norm", self.g_norm)
    if self.maxout_pieces < 1 or self.init_std < 0:
      raise ValueError("model.maxout_pieces must be >= 1 and model.init_std >= 0.")

  def build(self, example_shape) -> tuple[nn.Module, nn.Module]:
    return (mlp.MLPGenerator(math.prod(example_shape), tuple(self.hidden), norm=self.g_norm,
                             init_std=self.init_std),
            mlp.MLPDiscriminator(tuple(self.d_hidden or self.hidden),
                                 maxout_pieces=self.maxout_pieces, init_std=self.init_std))


@dataclasses.dataclass(frozen=True)
class MnistDCGANPair:
  """Stacked MNIST's DCGAN (Unrolled GAN's): 28x28 images, discriminator size S/M/L.

  Defaults are the reference's (z 256, batch norm in both networks)."""

  z_dim: int = 256
  size: str = "M"
  g_norm: str = "batch"
  d_norm: str = "batch"

  def __post_init__(self):
    if self.size not in dcgan.DISCRIMINATOR_CHANNELS:
      raise ValueError(f"model.size must be one of S/M/L, got {self.size!r}.")
    _check_norm("g_norm", self.g_norm)
    _check_norm("d_norm", self.d_norm)

  def build(self, example_shape) -> tuple[nn.Module, nn.Module]:
    _check_shape("dcgan28", example_shape, "28x28 images with any channel count",
                 len(example_shape) == 3 and tuple(example_shape[:2]) == (28, 28))
    return (dcgan.MnistGenerator(channels=example_shape[-1], norm=self.g_norm),
            dcgan.MnistDiscriminator(dcgan.DISCRIMINATOR_CHANNELS[self.size], norm=self.d_norm))


@dataclasses.dataclass(frozen=True)
class CifarDCGANPair:
  """CIFAR-10's DCGAN-style pair of the WGAN-GP paper, width ``dim``: 32x32x3 images."""

  z_dim: int = 128
  dim: int = 64
  g_norm: str = "batch"
  d_norm: str = "none"

  def __post_init__(self):
    _check_norm("g_norm", self.g_norm)
    _check_norm("d_norm", self.d_norm)

  def build(self, example_shape) -> tuple[nn.Module, nn.Module]:
    _check_shape("dcgan32", example_shape, "32x32x3 images (RGB)",
                 tuple(example_shape) == (32, 32, 3))
    return (dcgan.CifarGenerator(self.dim, norm=self.g_norm),
            dcgan.CifarDiscriminator(self.dim, norm=self.d_norm))


MODELS = {"mlp": MLPPair, "dcgan28": MnistDCGANPair, "dcgan32": CifarDCGANPair}
ARCHITECTURES = tuple(MODELS)


def model_spec(name: str, fields: Mapping):
  """``MODELS[name](**fields)``; an unknown name or field raises ValueError naming the valid ones."""
  if name not in MODELS:
    raise ValueError(f"unknown model_name {name!r}; choose from {ARCHITECTURES}.")
  return from_fields(MODELS[name], fields, where="model", what=f"a field of model {name!r}")


def make_models(name: str, fields: Mapping, example_shape) -> tuple[nn.Module, nn.Module]:
  """(generator, discriminator) flax modules of model ``name`` with ``fields``."""
  return model_spec(name, fields).build(example_shape)
