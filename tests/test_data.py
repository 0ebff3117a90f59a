"""Image data: the in-memory decode of tfds sources keeps every record as tfds gives it."""

import numpy as np
import tensorflow_datasets as tfds

from sigjax.data.images import decoded_in_memory, tfds_source


def test_decoded_in_memory_equals_the_tfds_records():
  with tfds.testing.mock_data(num_examples=64):
    source = tfds_source("mnist", "train", None)
    decoded = decoded_in_memory(source, "mnist", "train")
    assert len(decoded) == len(source) == 64
    for i in (0, 17, 63):
      record = source[i]
      np.testing.assert_array_equal(decoded[i]["image"], record["image"])
      assert decoded[i]["image"].dtype == np.uint8 and decoded[i]["image"].shape == (28, 28, 1)
      assert int(decoded[i]["label"]) == int(record["label"])
