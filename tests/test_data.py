"""Image data: tfds records, decoded once on first read, are the records tfds gives."""

import numpy as np
import tensorflow_datasets as tfds

from sigjax.data.images import DecodedOnce, tfds_source


def test_decoded_once_equals_the_tfds_records_and_keeps_them():
  with tfds.testing.mock_data(num_examples=64):
    source = tfds_source("mnist", "train", None)
    decoded = DecodedOnce(source)
    assert len(decoded) == len(source) == 64
    for i in (0, 17, 63):
      record = source[i]
      np.testing.assert_array_equal(decoded[i]["image"], record["image"])
      assert decoded[i]["image"].dtype == np.uint8 and decoded[i]["image"].shape == (28, 28, 1)
      assert int(decoded[i]["label"]) == int(record["label"])
      assert decoded[i] is decoded[i]  # kept: the second read decodes nothing
    assert sum(r is not None for r in decoded.records) == 3  # only what was read


def test_data_sets_built_with_one_decoded_dict_share_the_decoded_records():
  # A run passes one dict to its training data and its evaluators (the FID
  # reference reads the same training split): each record is decoded once.
  import ml_collections

  from sigjax.data import make_dataset

  config = ml_collections.ConfigDict(dict(name="mnist", data_dir=None))
  shared = {}
  with tfds.testing.mock_data(num_examples=32):
    train = make_dataset(config, global_batch_size=8, seed=1, decoded=shared)
    first = train.batch(0)["x"]
    (source,) = shared.values()
    read = sum(r is not None for r in source.records)
    reference = make_dataset(config, global_batch_size=8, seed=1, decoded=shared)
    assert list(shared.values()) == [source]
    np.testing.assert_array_equal(reference.batch(0)["x"], first)
    assert sum(r is not None for r in source.records) == read  # nothing decoded twice
    private = {}
    make_dataset(config, global_batch_size=8, seed=1, decoded=private).batch(0)
    assert private[next(iter(private))] is not source


def test_stacked_mnist_batches_stack_three_source_digits():
  from sigjax.data.images import stacked_batch, stacked_digit_ids

  with tfds.testing.mock_data(num_examples=64):
    source = DecodedOnce(tfds_source("mnist", "train", None))
    items = np.array([5, 0, 39, 5])
    batch = stacked_batch(source, items, seed=4)
    assert batch["image"].shape == (4, 28, 28, 3) and batch["image"].dtype == np.uint8
    ids = stacked_digit_ids(items, seed=4, num_digits=64)
    for b in range(4):
      for c in range(3):
        np.testing.assert_array_equal(batch["image"][b, :, :, c], source[ids[b, c]]["image"][..., 0])
      labels = [int(source[ids[b, c]]["label"]) for c in range(3)]
      assert batch["label"][b] == 100 * labels[0] + 10 * labels[1] + labels[2]
    np.testing.assert_array_equal(batch["image"][0], batch["image"][3])  # an item is a function of i
  # The digits drawn are spread over the source, and another seed draws others.
  many = stacked_digit_ids(np.arange(2000), seed=0, num_digits=64)
  assert set(np.unique(many)) == set(range(64))
  assert not np.array_equal(many, stacked_digit_ids(np.arange(2000), seed=1, num_digits=64))


def test_epoch_batches_visit_each_item_once_per_epoch_and_are_random_access():
  from sigjax.data.images import EpochBatches

  order = EpochBatches(40, 16, seed=3)
  stream = np.concatenate([order[k] for k in range(5)])  # 80 positions: 2 epochs, batch 2 straddles
  assert sorted(stream[:40]) == list(range(40)) == sorted(stream[40:])
  assert not np.array_equal(stream[:40], stream[40:])  # a fresh permutation per epoch
  fresh = EpochBatches(40, 16, seed=3)
  np.testing.assert_array_equal(fresh[4], order[4])  # batch 4 alone, without 0-3
  np.testing.assert_array_equal(fresh[0], order[0])  # and back again
  assert not np.array_equal(EpochBatches(40, 16, seed=4)[0], order[0])
