"""Prepares a tfds data set as array_record, from the network or a manual download.

  pip install -e '.[prepare]'   # TensorFlow is needed to prepare, not to read
  python -m experiments.prepare_data --name=mnist --data_dir=~/tensorflow_datasets \
      --manual_dir=../shared/data/mnist
"""

import os

from absl import app, flags

flags.DEFINE_string("name", "mnist", "tfds data set name (mnist, cifar10).")
flags.DEFINE_string("data_dir", "~/tensorflow_datasets", "Where to write the prepared data.")
flags.DEFINE_string("manual_dir", None, "Directory with the raw files (offline preparation).")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  import tensorflow_datasets as tfds

  data_dir = os.path.expanduser(FLAGS.data_dir)
  builder = tfds.builder(FLAGS.name, data_dir=data_dir, file_format="array_record")
  config = None
  if FLAGS.manual_dir:
    manual = os.path.abspath(os.path.expanduser(FLAGS.manual_dir))
    if not os.path.isdir(manual):
      raise FileNotFoundError(f"--manual_dir {manual} does not exist.")
    # tfds looks for the raw files under their published names; with a
    # manual_dir and no network it reads them from there instead.
    config = tfds.download.DownloadConfig(manual_dir=manual)
  builder.download_and_prepare(download_config=config)
  print(f"prepared {FLAGS.name} in {data_dir}: {builder.info.splits}")


if __name__ == "__main__":
  app.run(main)
