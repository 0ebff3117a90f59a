"""make_dataset: the data set ``config.data.name`` names, as a StepIndexedDataset."""

from __future__ import annotations

import ml_collections

from sigjax.data.base import StepIndexedDataset

DATASETS = ("grid", "ring", "mnist", "stacked_mnist", "cifar10", "local")


def make_dataset(
    config: ml_collections.ConfigDict,
    *,
    global_batch_size: int,
    seed: int,
    process_index: int = 0,
    process_count: int = 1,
    split: str = "train",
    decoded: dict | None = None,
) -> StepIndexedDataset:
  """Builds the data set named by ``config.name`` (see DATASETS).

  ``decoded``: a dict that data sets built with the same dict share their
  decoded tfds records through (a run passes one to its training data and its
  evaluators, so e.g. the FID reference reuses the training images already
  decoded); None decodes privately.
  """
  if global_batch_size % process_count:
    raise ValueError(
        f"batch size {global_batch_size} is not divisible by the {process_count} processes."
    )
  local = global_batch_size // process_count
  kwargs = dict(local_batch_size=local, seed=seed, process_index=process_index,
                process_count=process_count)
  name = config.name
  if name in ("grid", "ring"):
    from sigjax.data import grid
    return grid.make(config, **kwargs)
  if name in ("mnist", "stacked_mnist", "cifar10", "local"):
    from sigjax.data import images
    return images.make(config, split=split, decoded=decoded, **kwargs)
  raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}.")
