"""Image data: tfds array_record sources (mnist, stacked_mnist, cifar10) and
local .npz arrays, read with random access, a whole batch at a time.

Images come out as float32 in [-1, 1] (the generators end in tanh), NHWC.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np
from absl import logging

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
  """A random-access source over in-memory arrays."""

  def __init__(self, images: np.ndarray, labels: np.ndarray | None, to_unit=None):
    self.images, self.labels = images, labels
    self.to_unit = to_unit  # raw pixels -> float32 in [-1, 1]; None: uint8 range

  def __len__(self):
    return len(self.images)

  def __getitem__(self, i):
    out = {"image": self.images[i]}
    if self.labels is not None:
      out["label"] = self.labels[i]
    return out

  def gather(self, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Items ``ids`` as one batch: image [B, ...] (and label [B]), one copy each."""
    return self[ids]


class BadLocalDataError(ValueError):
  """A local .npz that cannot be read as images; the message names the fix."""


LOCAL_FORMAT = """data.name=local reads an .npz (numpy.savez) with x_train (and optionally y_train,
x_test, y_test): images [N, H, W, C] (or [N, H, W] grayscale), either uint8 in
[0, 255] or float in [0, 1] or [-1, 1]; labels int [N]."""


def _pixel_range(images: np.ndarray, where: str):
  """(to_unit, description) for the images' dtype and range; raises BadLocalDataError."""
  if images.dtype == np.uint8:
    return _to_unit, "uint8 [0, 255]"
  if np.issubdtype(images.dtype, np.integer):
    low, high = int(images.min()), int(images.max())
    if low < 0 or high > 255:
      raise BadLocalDataError(f"{where}: integer pixels must lie in [0, 255], found "
                              f"[{low}, {high}].\n{LOCAL_FORMAT}")
    return _to_unit, f"{images.dtype} [0, 255]"
  if not np.issubdtype(images.dtype, np.floating):
    raise BadLocalDataError(f"{where}: pixels of dtype {images.dtype} are not images.\n"
                            f"{LOCAL_FORMAT}")
  finite = np.isfinite(images)
  if not finite.all():
    raise BadLocalDataError(f"{where}: {int(images.size - finite.sum())} pixels are NaN or "
                            f"Inf; clean the data first.")
  low, high = float(images.min()), float(images.max())
  if low >= 0 and high <= 1:
    return (lambda x: np.asarray(x, np.float32) * 2.0 - 1.0), "float [0, 1]"
  if low >= -1 and high <= 1:
    return (lambda x: np.asarray(x, np.float32)), "float [-1, 1]"
  hint = (" (float pixels in [0, 255]: save them as uint8, or divide by 255)"
          if low >= 0 and high <= 255 else "")
  raise BadLocalDataError(f"{where}: float pixels must lie in [0, 1] or [-1, 1], found "
                          f"[{low:g}, {high:g}]{hint}.\n{LOCAL_FORMAT}")


def local_source(path: str, split: str) -> _ArraySource:
  """The images of an .npz in LOCAL_FORMAT, checked: type, layout, range, NaN/Inf.

  Grayscale [N, H, W] gets a channel axis and NCHW (channels 1 or 3 first,
  not last) is transposed to NHWC, each said in the log; anything else
  that is not an image array is refused with the format.
  """
  path = os.path.expanduser(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f"local data file {path!r} does not exist (config.data.path).")
  if not zipfile.is_zipfile(path):
    raise BadLocalDataError(
        f"{path!r} is not an .npz archive (a .npy array or another file type?). Save it with "
        f"numpy.savez(path, x_train=images, y_train=labels).\n{LOCAL_FORMAT}")
  key = "train" if split.startswith("train") else "test"
  with np.load(path, allow_pickle=False) as f:
    if f"x_{key}" not in f:
      raise BadLocalDataError(f"{path!r} has no array x_{key}; it has {sorted(f.keys())}.\n"
                              f"{LOCAL_FORMAT}")
    images = f[f"x_{key}"]
    labels = f[f"y_{key}"] if f"y_{key}" in f else None
  where = f"{path!r} x_{key}"
  if images.ndim == 3:
    logging.info("%s: grayscale [N, H, W] images, given one channel.", where)
    images = images[..., None]
  if images.ndim != 4:
    raise BadLocalDataError(f"{where} has shape {images.shape}; images are [N, H, W, C].\n"
                            f"{LOCAL_FORMAT}")
  if len(images) == 0:
    raise BadLocalDataError(f"{where} is empty (shape {images.shape}).")
  if images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
    logging.info("%s: NCHW %s transposed to NHWC.", where, images.shape)
    images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))
  if labels is not None and len(labels) != len(images):
    raise BadLocalDataError(f"{path!r}: {len(images)} images but {len(labels)} labels.")
  to_unit, description = _pixel_range(images, where)
  logging.info("%s: %d images of %s, pixels %s, mapped to [-1, 1].", where, len(images),
               images.shape[1:], description)
  return _ArraySource(images, labels, to_unit)


class DecodedOnce:
  """A tfds source whose records are each decoded at most once, on first read.

  A tfds array_record source parses and PNG-decodes a record on every access
  (0.5-1 ms here): the 384 digits of one Stacked-MNIST batch of 128 took
  longer than its train step, on the same two cores. MNIST and CIFAR-10 fit in
  memory, so each record read is kept; nothing is decoded that is never read
  (e.g. the FID reference images once their statistics are cached). Images
  and labels are kept in one array each (a record's image is a view into it),
  so a batch is one fancy-indexing copy (``gather``).
  """

  def __init__(self, source):
    self.source = source
    self.records = [None] * len(source)
    self.decoded = np.zeros(len(source), bool)
    self.images = self.labels = None  # [n, H, W, C], [n]; allocated at the first read

  def __len__(self):
    return len(self.records)

  def __getitem__(self, i):
    record = self.records[i]
    if record is None:
      record = dict(self.source[i])
      if self.images is None:
        image = np.asarray(record["image"])
        self.images = np.zeros((len(self),) + image.shape, image.dtype)
        self.labels = np.zeros(len(self), np.int32)
      self.images[i] = record["image"]
      record["image"] = self.images[i]
      if "label" in record:
        self.labels[i] = int(record["label"])
      self.records[i], self.decoded[i] = record, True
    return record

  def gather(self, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Records ``ids`` as one batch: image [B, ...] (and label [B]), one copy each."""
    for i in np.unique(ids[~self.decoded[ids]]).tolist():
      self[i]
    out = {"image": self.images[ids]}
    if "label" in self.records[int(ids[0])]:
      out["label"] = self.labels[ids]
    return out


def _to_unit(image) -> np.ndarray:
  return np.asarray(image, np.float32) / 127.5 - 1.0


def _mix64(x: np.ndarray) -> np.ndarray:
  """splitmix64's finaliser, vectorised: a bijective hash of uint64 counters."""
  with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def stacked_digit_ids(items, *, seed: int, num_digits: int) -> np.ndarray:
  """The three source digits (R, G, B) of Stacked-MNIST items, [..., 3].

  A counter-based hash of (seed, item, channel): any item is drawn alone,
  for a whole batch in one vectorised call, identically on every host.
  (The modulo's bias is below num_digits / 2**64.)
  """
  items = np.asarray(items, np.uint64)[..., None]
  with np.errstate(over="ignore"):
    key = _mix64(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
    counters = items * np.uint64(3) + np.arange(3, dtype=np.uint64)
    return (_mix64(_mix64(counters ^ key)) % np.uint64(num_digits)).astype(np.int64)


class EpochBatches:
  """The item indices of batch k of an endless stream of epochs.

  Each epoch visits range(size) in a fresh permutation (seeded by seed and the
  epoch), and batches run on across epoch boundaries. Batch k is computed
  alone and vectorised, so any host starts at any step (resume, multi-host);
  the two latest epochs' permutations are kept. A per-example pipeline
  (grain's MapDataset shuffle / batch) cost ~0.25 ms per example here, longer
  than a GPU train step at batch 128.
  """

  def __init__(self, size: int, batch_size: int, seed: int):
    self.size, self.batch_size, self.seed = size, batch_size, seed
    self.permutations = {}

  def __getitem__(self, k: int) -> np.ndarray:
    position = k * self.batch_size + np.arange(self.batch_size)
    epochs, offsets = np.divmod(position, self.size)
    items = np.empty_like(position)
    for epoch in np.unique(epochs).tolist():
      if epoch not in self.permutations:
        self.permutations = {e: p for e, p in self.permutations.items() if e >= epoch - 1}
        self.permutations[epoch] = np.random.default_rng([self.seed, epoch]).permutation(self.size)
      mask = epochs == epoch
      items[mask] = self.permutations[epoch][offsets[mask]]
    return items


def stacked_batch(source, items: np.ndarray, *, seed: int) -> dict[str, np.ndarray]:
  """Stacked MNIST items: three digits as R, G, B; label = 100 a + 10 b + c."""
  ids = stacked_digit_ids(items, seed=seed, num_digits=len(source))  # [B, 3]
  digits = source.gather(ids.ravel())
  images = digits["image"][..., 0].reshape(ids.shape + digits["image"].shape[1:3])
  labels = digits["label"].reshape(ids.shape)
  return {"image": np.moveaxis(images, 1, -1),  # [B, H, W, 3]
          "label": labels @ np.array([100, 10, 1], np.int32)}


def make(config, *, split, local_batch_size, seed, process_index, process_count, decoded=None):
  name = config.name
  if name == "local":
    source = local_source(config.path, split)
  else:
    key = (_TFDS_NAMES[name], split, config.get("data_dir"))
    decoded = {} if decoded is None else decoded
    if key not in decoded:
      decoded[key] = DecodedOnce(tfds_source(*key))
    source = decoded[key]
  to_unit = getattr(source, "to_unit", None) or _to_unit  # tfds images are uint8

  # Stacked MNIST is a fixed-size virtual data set: item i stacks the digits
  # that stacked_digit_ids draws for it, so it is random-access and reproducible.
  stacked = name == "stacked_mnist"
  size = int(config.get("num_examples", len(source))) if stacked else len(source)
  order = EpochBatches(size, local_batch_size, seed)
  if stacked:
    read = lambda k: stacked_batch(source, order[k], seed=seed + 1)  # noqa: E731
  else:
    read = lambda k: source.gather(order[k])  # noqa: E731

  shape = tuple(read(0)["image"].shape[1:])

  def get_batch(step):
    # Host p takes batch s * P + p of the host-local batching: disjoint shares.
    b = read(step * process_count + process_index)
    out = {"x": to_unit(b["image"])}
    if "label" in b:
      out["label"] = np.asarray(b["label"], np.int32)
    return out

  return StepIndexedDataset(name, shape, local_batch_size, get_batch, num_examples=size)
