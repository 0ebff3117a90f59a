"""Evaluation wired into the train loop: Stacked-MNIST scores from a trained classifier."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from sigjax.evaluation.stacked_mnist import StackedMnistScorer, _digit_probs
from sigjax.models import MnistClassifier
from sigjax.training import train_and_evaluate
from helpers import read_jsonl, tiny

SIX_COLUMNS = {"eval/inception_score", "eval/high_quality", "eval/exp_h_y_given_x", "eval/exp_h_y",
               "eval/modes", "eval/kl"}


def test_stacked_mnist_scores_come_from_the_trained_classifier(tmp_path):
  # The classifier is trained the way `experiments.reproduce --table=stacked_mnist`
  # trains it when its workdir has none, and only once.
  from experiments.reproduce import ensure_mnist_classifier

  config = tiny("stacked_mnist_dcgan:S", **{"evals.stacked_mnist.classifier_workdir": str(tmp_path / "classifier")})
  with tfds.testing.mock_data(num_examples=64):
    assert ensure_mnist_classifier(config, tiny("mnist_classifier"))
    assert not ensure_mnist_classifier(config, tiny("mnist_classifier"))
    train_and_evaluate(config, str(tmp_path / "gan"))
  final = read_jsonl(tmp_path / "gan")[-1]
  assert SIX_COLUMNS <= set(final)
  assert 1 <= final["eval/modes"] <= 64  # 64 samples
  assert 0 <= final["eval/kl"] <= np.log(1000) + 1e-9
  assert 1 <= final["eval/inception_score"] <= 10 and 0 <= final["eval/high_quality"] <= 1
  with open(tmp_path / "gan" / "final_metrics.json") as f:
    assert SIX_COLUMNS <= set(json.load(f))


def test_table_without_a_classifier_workdir_is_one_clear_error():
  from experiments.reproduce import ensure_mnist_classifier

  config = tiny("stacked_mnist_dcgan:S", **{"evals.stacked_mnist.classifier_workdir": ""})
  with pytest.raises(ValueError, match="needs config.evals.stacked_mnist.classifier_workdir"):
    ensure_mnist_classifier(config, tiny("mnist_classifier"))


def test_missing_classifier_fails_before_training(tmp_path):
  config = tiny("stacked_mnist_dcgan:S", **{"evals.stacked_mnist.classifier_workdir": str(tmp_path / "nothing")})
  with tfds.testing.mock_data(num_examples=64):
    with pytest.raises(FileNotFoundError, match="(?s)No MNIST classifier.*configs/mnist_classifier.py"):
      train_and_evaluate(config, str(tmp_path / "gan"))
  assert not os.path.exists(tmp_path / "gan" / "checkpoints" / "2")


def test_each_colour_channel_is_classified_on_its_own():
  params = MnistClassifier().init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 1)))
  samples = np.random.default_rng(0).uniform(-1, 1, (5, 28, 28, 3)).astype(np.float32)
  probs = StackedMnistScorer(params, high_quality_threshold=0.9, batch_size=4).channel_probs(samples)
  assert probs.shape == (5, 3, 10)
  for c in range(3):
    np.testing.assert_allclose(probs[:, c], _digit_probs(params, samples[..., c:c + 1]), rtol=1e-5)
  with pytest.raises(ValueError, match="high_quality_threshold"):
    StackedMnistScorer(params, high_quality_threshold=0.0)


def test_take_yields_exactly_the_first_examples():
  from sigjax.data import make_dataset

  data = make_dataset(tiny("gmm_gan").data, global_batch_size=4, seed=0)
  parts = list(data.take(5))
  assert [len(p["x"]) for p in parts] == [4, 1]
  np.testing.assert_array_equal(parts[0]["x"], data.batch(0)["x"])
  np.testing.assert_array_equal(parts[1]["x"], data.batch(1)["x"][:1])
