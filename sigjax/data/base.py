"""The step-indexed data set interface every input pipeline returns."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

import numpy as np

@dataclasses.dataclass(frozen=True)
class StepIndexedDataset:
  """A data set whose batches are a pure function of the step.

  Attributes:
    name: data set name.
    example_shape: shape of one example, e.g. (2,) or (28, 28, 3).
    local_batch_size: examples per batch on this host.
    get_batch: step -> dict with "x" ([local_batch_size, *example_shape]
      float32; images in [-1, 1]) and, where the data has them, "label".
    num_examples: examples in one epoch (None for generated data). Batches
      0 .. num_examples // global batch - 1 hold distinct examples.
  """

  name: str
  example_shape: tuple[int, ...]
  local_batch_size: int
  get_batch: Callable[[int], dict[str, np.ndarray]]
  num_examples: int | None = None

  def batch(self, step: int) -> dict[str, np.ndarray]:
    return self.get_batch(int(step))

  def take(self, count: int) -> Iterator[dict[str, np.ndarray]]:
    """Batches 0, 1, ... holding the first ``count`` examples; the last batch is cut."""
    for i in range(-(-count // self.local_batch_size)):
      yield {k: v[:count - i * self.local_batch_size] for k, v in self.batch(i).items()}
