"""The MNIST CNN that labels Stacked-MNIST channels (target >= 99% test accuracy)."""

from configs import default


def get_config():
  c = default.get_base_config()
  c.task = "classifier"
  c.data.name = "mnist"
  c.data.data_dir = "~/tensorflow_datasets"
  c.batch_size = 128
  c.num_steps = 3_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.optim.g_lr = 1e-3  # the classifier's learning rate
  c.optim.b1, c.optim.b2 = 0.9, 0.999
  c.eval.num_samples = 10_000  # the MNIST test set
  c.eval.batch_size = 1_000
  return c
