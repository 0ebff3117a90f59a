"""The FID Inception-v3: weight loading, shapes, and the scorer around it."""

import logging
import os
import pickle
import sys

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from helpers import ROOT, read_jsonl, tiny
from sigjax.evaluation.inception_scores import InceptionScorer
from sigjax.models import inception
from sigjax.evaluation.evaluators import EvalContext, make_evaluators
from sigjax.training import train_and_evaluate
from sigjax.training.metrics_writer import MetricWriter


@pytest.fixture(scope="module")
def random_params():
  rng = np.random.default_rng(0)

  def draw(path, s):
    # Small weights and positive variances keep activations finite through 94 layers.
    if path[-1].key == "var":
      return rng.uniform(0.5, 1.5, s.shape).astype(np.float32)
    return rng.normal(0.0, 0.05, s.shape).astype(np.float32)

  return jax.tree_util.tree_map_with_path(draw, inception.param_shapes())


def test_param_count_and_names_match_the_pytorch_fid_state_dict(random_params):
  state = inception.state_dict_from_params(random_params)
  assert len(state) == 94 * 5 + 2  # 94 conv+bn blocks (weight, bn x4) and the fc layer
  assert sum(v.size for v in state.values()) == 23_885_392
  assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)  # [out, in, kh, kw]
  assert state["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
  assert state["Mixed_5b.branch_pool.bn.running_var"].shape == (32,)
  assert state["fc.weight"].shape == (1008, 2048)


def test_npz_weights_load_back_exactly(random_params, tmp_path):
  path = tmp_path / "fid_inception.npz"
  state = inception.state_dict_from_params(random_params)
  state["Conv2d_1a_3x3.bn.num_batches_tracked"] = np.array(0)  # extra keys are ignored
  np.savez(path, **state)
  loaded = inception.load_fid_inception_weights(str(path))
  for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(random_params)):
    np.testing.assert_array_equal(a, b)


def test_bad_weights_are_named(random_params, tmp_path):
  with pytest.raises(inception.InceptionWeightsError, match="is not a file"):
    inception.load_fid_inception_weights(str(tmp_path / "missing.pkl"))
  state = inception.state_dict_from_params(random_params)
  del state["Mixed_6b.branch7x7_2.conv.weight"]
  state["fc.weight"] = state["fc.weight"][:1000]
  with pytest.raises(inception.InceptionWeightsError,
                     match=r"Mixed_6b\.branch7x7_2\.conv\.weight.*fc\.weight: expected \(2048, 1008\)"):
    inception.params_from_state_dict(state)
  # A pickle is refused before anything in it runs.
  path = tmp_path / "evil.pkl"
  marker = tmp_path / "ran"
  with open(path, "wb") as f:
    pickle.dump(_RunsCode(str(marker)), f)
  with pytest.raises(inception.InceptionWeightsError, match=r"(?s)not an \.npz.*numpy\.savez"):
    inception.load_fid_inception_weights(str(path))
  assert not marker.exists()
  path = tmp_path / "objects.npz"
  np.savez(path, a=np.array([{"x": 1}], dtype=object))
  with pytest.raises(inception.InceptionWeightsError, match="non-numeric"):
    inception.load_fid_inception_weights(str(path))


class _RunsCode:
  """Unpickling this creates a file: the proof that a load ran code."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))


def test_scorer_shapes_and_scores_on_the_smallest_input(random_params):
  # 75x75 is the smallest input the network accepts; 299 only costs time.
  scorer = InceptionScorer(random_params, batch_size=4, splits=2, resize_to=75)
  images = np.random.default_rng(1).uniform(-1, 1, (6, 32, 32, 3)).astype(np.float32)
  features, probs = scorer.features_and_probs(images)
  assert features.shape == (6, 2048) and probs.shape == (6, 1008)
  np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
  assert np.all(features >= 0)  # the pool of ReLU outputs
  reference = scorer.reference_statistics([images[:3], images[3:]])
  scores = scorer(images, reference)
  assert 1.0 <= scores["inception_score"] <= 1008
  assert abs(scores["fid"]) < 1e-3 * (1 + np.trace(reference[1]))  # same images: FID ~ 0
  with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
    scorer.features_and_probs(images[..., :1])


def test_cifar_runs_log_is_and_fid_with_weights_and_say_why_without(random_params, tmp_path,
                                                                  caplog):
  path = tmp_path / "fid_inception.npz"
  np.savez(path, **inception.state_dict_from_params(random_params))
  small = {"model.dim": 8, "evals.inception.num_samples": 8, "eval_batch_size": 8,
           "evals.inception.splits": 2, "evals.inception.fid_reference_samples": 8}
  with tfds.testing.mock_data(num_examples=16):
    train_and_evaluate(tiny("cifar10_dcgan", **small, **{"evals.inception.weights": str(path)}),
                       str(tmp_path / "with"))
    # Without weights (built alone: a whole run would add nothing but minutes).
    without = tiny("cifar10_dcgan", **small)
    with caplog.at_level(logging.WARNING):
      built = make_evaluators(without.evals, EvalContext(without.data, 8, MetricWriter(
          str(tmp_path / "without"), enabled=False)))
    with pytest.raises(inception.InceptionWeightsError, match="is not a file"):
      train_and_evaluate(tiny("cifar10_dcgan", **small, **{"evals.inception.weights": "nope.npz"}),
                         str(tmp_path / "bad"))
  final = read_jsonl(tmp_path / "with")[-1]
  assert {"eval/inception_score", "eval/inception_score_std", "eval/fid"} <= set(final)
  assert np.isfinite(final["eval/fid"]) and final["eval/inception_score"] >= 1
  assert len(list((tmp_path / "with").glob("fid_reference_cifar10_8_*.npz"))) == 1
  assert [e.name for e in built] == ["samples"]  # no IS/FID evaluator, so no eval/ scalars
  assert "Inception Score and FID skipped: config.evals.inception.weights is empty" in caplog.text
  assert not os.listdir(tmp_path / "bad" / "checkpoints")  # failed before any step


def test_pytorch_fid_converter_writes_weights_training_can_read(random_params, tmp_path,
                                                               monkeypatch):
  # torch is not a dependency: a stand-in module gives torch.load's result (tensors
  # with .detach().cpu().numpy()) and records that weights_only=True was asked for.
  import types

  class Tensor:
    def __init__(self, array):
      self.array = array

    def detach(self):
      return self

    def cpu(self):
      return self

    def numpy(self):
      return self.array

  state = {k: Tensor(v) for k, v in inception.state_dict_from_params(random_params).items()}
  calls = []

  def load(path, map_location=None, weights_only=False):
    calls.append(weights_only)
    return state

  monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(load=load))
  sys.path.insert(0, os.path.join(ROOT, "tools"))
  try:
    import convert_pytorch_fid_weights as convert
  finally:
    sys.path.pop(0)
  target = tmp_path / "fid_inception.npz"
  monkeypatch.setattr(sys, "argv", ["convert", "weights.pth", str(target)])
  convert.main()
  assert calls == [True]
  loaded = inception.load_fid_inception_weights(str(target))
  for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(random_params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  # A file with a wrong name is refused before anything is written.
  state.pop(next(iter(state)))
  monkeypatch.setattr(sys, "argv", ["convert", "weights.pth", str(tmp_path / "bad.npz")])
  with pytest.raises(Exception, match="state-dict"):
    convert.main()
  assert not (tmp_path / "bad.npz").exists()
