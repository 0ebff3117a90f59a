"""Toy 2-D Gaussian mixtures, sampled on the fly: the 5x5 grid and the ring."""

from __future__ import annotations

import numpy as np

from sigjax.data.base import StepIndexedDataset


def grid_means(size: int = 5, spacing: float = 2.0) -> np.ndarray:
  """[size**2, 2] means on a centred grid: {-4, -2, 0, 2, 4}^2 by default."""
  axis = (np.arange(size) - (size - 1) / 2) * spacing
  return np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2).astype(np.float32)


def ring_means(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
  """[num_modes, 2] means on a circle."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return (radius * np.stack([np.cos(angles), np.sin(angles)], -1)).astype(np.float32)


def means_for(config) -> np.ndarray:
  if config.name == "grid":
    return grid_means(config.get("grid_size", 5), config.get("spacing", 2.0))
  return ring_means(config.get("num_modes", 8), config.get("radius", 2.0))


def sample(means: np.ndarray, std: float, n: int, rng: np.random.Generator) -> np.ndarray:
  """n points of the equal-weight mixture of N(mean_k, std^2 I)."""
  which = rng.integers(0, len(means), n)
  return (means[which] + std * rng.standard_normal((n, means.shape[1]))).astype(np.float32)


def make(config, *, local_batch_size, seed, process_index, process_count):
  means, std = means_for(config), float(config.std)
  start = process_index * local_batch_size

  def get_batch(step):
    # The global batch is one draw per (seed, step) and each process keeps its
    # slice, so any number of processes trains on exactly the same data
    # (drawing the whole 2-D batch costs microseconds).
    rng = np.random.default_rng([seed, 0, step])
    draw = sample(means, std, local_batch_size * process_count, rng)
    return {"x": draw[start:start + local_batch_size]}

  return StepIndexedDataset(config.name, (2,), local_batch_size, get_batch)
