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
