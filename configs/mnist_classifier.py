"""The MNIST CNN that labels Stacked-MNIST channels (target >= 99% test accuracy).

Its own task (config.task = "classifier"), sharing the run loop: no model,
objective or evaluator sections, an optimiser with one learning rate, and
the test-set accuracy every eval_every steps.
"""

import ml_collections

from configs import default


def get_config():
  c = default.get_run_config()
  c.task = "classifier"
  c.data.name = "mnist"
  c.data.data_dir = "~/tensorflow_datasets"
  c.batch_size = 128
  c.num_steps = 3_000
  c.log_every = 100
  c.eval_every = 1_000
  c.checkpoint_every = 1_000
  c.optim = ml_collections.ConfigDict(dict(lr=1e-3, b1=0.9, b2=0.999))
  c.test_examples = 10_000  # the MNIST test set
  c.eval_batch_size = 1_000
  return c
