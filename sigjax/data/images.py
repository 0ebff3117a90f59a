"""Image data: tfds array_record sources (mnist, stacked_mnist, cifar10) and
local .npz arrays, read with random access through grain.MapDataset.

Images come out as float32 in [-1, 1] (the generators end in tanh), NHWC.
"""

from __future__ import annotations

import os

import grain
import numpy as np

from sigjax.data.base import StepIndexedDataset

_TFDS_NAMES = {"mnist": "mnist", "stacked_mnist": "mnist", "cifar10": "cifar10"}

PREPARE_HELP = """\
The tfds data set {name!r} is not prepared in data_dir={data_dir!r}, and this
run will not download it (offline runs would otherwise retry for minutes).
Prepare it once (needs `pip install -e '.[prepare]'` for TensorFlow):
  * with a network:
      python -c "import tensorflow_datasets as tfds; tfds.builder('{name}', data_dir='{data_dir}', file_format='array_record').download_and_prepare()"
  * offline, from the raw files (e.g. ../shared/data/mnist for mnist):
      python -m experiments.prepare_data --name={name} --data_dir={data_dir} --manual_dir=DIR
or point --config.data.data_dir at a directory where it is prepared."""


class DataNotPreparedError(FileNotFoundError):
  """Raised when a tfds data set has not been prepared offline."""


def tfds_source(name: str, split: str, data_dir: str | None):
  """Random-access tfds source; fails fast with instructions when not prepared."""
  import tensorflow_datasets as tfds

  data_dir = os.path.expanduser(data_dir) if data_dir else None
  try:
    return tfds.data_source(
        name, split=split, data_dir=data_dir, download=False,
        builder_kwargs={"file_format": "array_record"},
    )
  except (KeyError, FileNotFoundError, AssertionError) as e:
    shown = data_dir or os.path.expanduser("~/tensorflow_datasets")
    raise DataNotPreparedError(PREPARE_HELP.format(name=name, data_dir=shown)) from e


class _ArraySource:
  """A grain-compatible random-access source over in-memory arrays."""

  def __init__(self, images: np.ndarray, labels: np.ndarray | None):
    self.images, self.labels = images, labels

  def __len__(self):
    return len(self.images)

  def __getitem__(self, i):
    out = {"image": self.images[i]}
    if self.labels is not None:
      out["label"] = self.labels[i]
    return out


def local_source(path: str, split: str) -> _ArraySource:
  """An .npz with x_train / y_train (and optionally x_test / y_test), uint8 NHWC."""
  path = os.path.expanduser(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f"local data file {path!r} does not exist (config.data.path).")
  key = "train" if split.startswith("train") else "test"
  with np.load(path) as f:
    if f"x_{key}" not in f:
      raise KeyError(f"{path!r} has no array x_{key}; it has {sorted(f.keys())}.")
    images = f[f"x_{key}"]
    labels = f[f"y_{key}"] if f"y_{key}" in f else None
  if images.ndim == 3:
    images = images[..., None]
  return _ArraySource(images, labels)


def _to_unit(image) -> np.ndarray:
  return np.asarray(image, np.float32) / 127.5 - 1.0


def _stack_three(source, index_rng: np.random.Generator):
  """Stacked MNIST: three random digits as R, G, B; label = 100 a + 10 b + c."""
  ids = index_rng.integers(0, len(source), 3)
  digits = [source[int(i)] for i in ids]
  image = np.concatenate([d["image"] for d in digits], axis=-1)
  label = sum(int(d["label"]) * 10 ** (2 - k) for k, d in enumerate(digits))
  return {"image": image, "label": np.int32(label)}


def make(config, *, split, local_batch_size, seed, process_index, process_count):
  name = config.name
  if name == "local":
    source = local_source(config.path, split)
  else:
    source = tfds_source(_TFDS_NAMES[name], split, config.get("data_dir"))

  ds = grain.MapDataset.source(source)
  size = len(source)
  if name == "stacked_mnist":
    # A fixed-size virtual data set whose item i stacks three digits drawn by
    # a per-item RNG, so it is random-access and reproducible.
    size = int(config.get("num_examples", len(source)))
    ds = grain.MapDataset.range(size).random_map(
        lambda _, rng: _stack_three(source, rng), seed=seed + 1
    )
  ds = ds.shuffle(seed=seed).repeat().batch(local_batch_size, drop_remainder=True)

  example = ds[0]["image"][0]
  shape = tuple(example.shape)

  def get_batch(step):
    # Host p takes batch s * P + p of the host-local batching: disjoint shares.
    b = ds[step * process_count + process_index]
    out = {"x": _to_unit(b["image"])}
    if "label" in b:
      out["label"] = np.asarray(b["label"], np.int32)
    return out

  return StepIndexedDataset(name, shape, local_batch_size, get_batch, num_examples=size)
