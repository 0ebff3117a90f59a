"""Periodic evaluation per data set: metrics for metrics.jsonl and pictures.

``make_evaluator(config, writer)`` is called once when a run starts. It loads
what the scores need (the MNIST classifier, the Inception weights and the
FID reference statistics) up front, so a wrong path fails before training
rather than at the first evaluation, and returns ``evaluate(samples, step)``.

  * grid / ring: PacGAN's modes, high_quality, reverse_kl (2,500 samples),
    modes_with_mass, the same on all samples as *_at_<n>, and a scatter plot.
  * stacked_mnist: a sample grid and the six Stacked-MNIST columns, when
    ``config.eval.classifier_workdir`` names a trained classifier.
  * 32x32 RGB (cifar10, or local arrays of that shape): a sample grid, and
    Inception Score and FID when ``config.eval.inception_weights`` is set.
A score whose network is not configured is skipped with a logged reason;
no number is ever made up.
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import Callable

import numpy as np
from absl import logging

from sigjax.evaluation import grid as grid_eval
from sigjax.evaluation.images import image_grid

Evaluator = Callable[[np.ndarray, int], dict]


def _grid_evaluator(config, writer) -> Evaluator:
  """PacGAN's protocol on the first eval.protocol_samples samples (2,500), the
  same metrics on all eval.num_samples as ``*_at_<n>``, and a scatter plot of
  the protocol samples (the picture shows what the numbers count)."""
  from sigjax.data.grid import means_for

  means, std = means_for(config.data), float(config.data.std)
  protocol = int(config.eval.get("protocol_samples", grid_eval.PROTOCOL_SAMPLES))
  obj = config.objective
  label = obj.name if obj.name == "sig" else f"{obj.name}, lambda={obj.si_weight:g}"

  def evaluate(samples, step):
    head = samples[:protocol]
    metrics = grid_eval.mode_metrics(head, means, std)
    if len(samples) > len(head):
      metrics.update({f"{k}_at_{len(samples)}": v
                      for k, v in grid_eval.mode_metrics(samples, means, std).items()})
    if writer.enabled:  # samples/scatter_<step>.png and TensorBoard's images
      writer.write_image(step, "scatter", grid_eval.scatter_image(
          head, means,
          title=(f"{label}, step {step}, {len(head)} samples: {metrics['modes']} modes, "
                 f"{metrics['modes_with_mass']} with >=1% mass, hq {metrics['high_quality']:.2f}")))
    return metrics

  return evaluate


def stacked_mnist_scorer(config):
  """The StackedMnistScorer ``config.eval`` describes, or None (logged) without a classifier."""
  workdir = config.eval.get("classifier_workdir", "")
  if not workdir:
    logging.warning("Stacked-MNIST scores skipped: config.eval.classifier_workdir is empty. "
                    "Train the scorer with configs/mnist_classifier.py and point it there.")
    return None
  from sigjax.evaluation.stacked_mnist import StackedMnistScorer
  from sigjax.training.classifier import load_classifier_params

  return StackedMnistScorer(load_classifier_params(workdir),
                            high_quality_threshold=config.eval.high_quality_threshold,
                            batch_size=config.eval.batch_size)


def _inception_scorer(config, writer):
  """(scorer, FID reference statistics) or None with a logged reason."""
  path = config.eval.get("inception_weights", "")
  if not path:
    logging.warning("Inception Score and FID skipped: config.eval.inception_weights is empty "
                    "(sigjax downloads no weights; see sigjax/models/inception.py for the file).")
    return None
  from sigjax.data import make_dataset
  from sigjax.evaluation.inception_scores import InceptionScorer
  from sigjax.models.inception import load_fid_inception_weights

  scorer = InceptionScorer(load_fid_inception_weights(path), batch_size=config.eval.batch_size,
                           splits=config.eval.is_splits)
  reference = make_dataset(config.data, global_batch_size=config.eval.batch_size, seed=0)
  count = min(config.eval.fid_reference_samples, reference.num_examples or 0)
  workdir = writer.workdir
  batches = (b["x"] for b in reference.take(count))
  # The cache name carries what the statistics depend on (weights file, data), so a
  # rerun with other weights or data recomputes them. Only the writing process
  # caches, so hosts sharing a file system do not race.
  source = f"{os.path.abspath(os.path.expanduser(path))}|{config.data.name}|{config.data.path}"
  digest = hashlib.sha1(source.encode()).hexdigest()[:10]
  cache = (os.path.join(workdir, f"fid_reference_{config.data.name}_{count}_{digest}.npz")
           if writer.enabled else None)
  return scorer, scorer.reference_statistics(batches, cache_path=cache)


def make_evaluator(config, writer) -> Evaluator:
  """Returns evaluate(samples, step) -> {"eval/...": value} for ``config``'s data."""
  scorers: list[Callable[[np.ndarray], dict]] = []
  if config.data.name in ("grid", "ring"):
    evaluate = _grid_evaluator(config, writer)
  else:
    if config.data.name == "stacked_mnist":
      stacked = stacked_mnist_scorer(config)
      if stacked is not None:
        scorers.append(stacked)
    if config.model.arch == "dcgan32":  # 32x32 RGB: CIFAR-10 or a local copy of it
      inception = _inception_scorer(config, writer)
      if inception is not None:
        scorer, reference = inception
        scorers.append(functools.partial(scorer, reference=reference))

    def evaluate(samples, step):
      writer.write_image(step, "samples", image_grid(samples[:64]))
      metrics = {}
      for i, score in enumerate(scorers):
        if len(samples) > 1000:  # scoring thousands of images takes a while: say so
          logging.info("evaluation at step %d: scorer %d of %d (%s) on %d samples", step, i + 1,
                       len(scorers), getattr(score, "func", score).__class__.__name__,
                       len(samples))
        metrics.update(score(samples))
      return metrics

  prefixed = lambda samples, step: {f"eval/{k}": v for k, v in evaluate(samples, step).items()}
  # What the caller must draw: every eval.num_samples for scores, else the 64 of a grid.
  needs_all = config.data.name in ("grid", "ring") or scorers
  prefixed.num_samples = config.eval.num_samples if needs_all else min(64, config.eval.num_samples)
  return prefixed
