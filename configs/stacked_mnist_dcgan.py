"""Stacked MNIST (1000 modes) with the Unrolled-GAN DCGAN; size S, M or L.

  --config=configs/stacked_mnist_dcgan.py:S
"""

from configs import default


def get_config(size: str = "M"):
  c = default.get_base_config()
  c.data.name = "stacked_mnist"
  c.data.data_dir = "~/tensorflow_datasets"
  c.model.arch = "dcgan28"
  c.model.size = size.upper()
  c.model.z_dim = 100
  c.batch_size = 64
  c.num_steps = 20_000
  c.log_every = 200
  c.eval_every = 5_000
  c.checkpoint_every = 2_000
  c.optim.g_lr = c.optim.d_lr = 2e-4
  c.eval.num_samples = 26_000
  c.eval.batch_size = 1_000
  c.eval.classifier_workdir = "workdirs/mnist_classifier"  # see configs/mnist_classifier.py
  return c
