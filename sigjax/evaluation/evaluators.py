"""Evaluators declared in ``config.evals``, in the style of big_vision's
``evaluators/common.py``: each entry names its evaluator, its cadence and its
options, and nothing is guessed from the model or the data set's name.

  config.evals.modes = dict(type="grid_modes", every=10_000, num_samples=50_000,
                            protocol_samples=2_500)

``type`` is a key of EVALUATORS; ``every`` is the cadence in steps (0: only
at the end of the run; every run's last step evaluates all of them); the
other keys are the evaluator's options (the keyword arguments of its
builder below; an unknown one fails with the valid ones listed).

``make_evaluators`` builds them once when a run starts and loads what they
need (the MNIST classifier, the Inception weights, the FID reference
statistics) up front, so a wrong path fails before training. An evaluator
whose network is not configured is skipped with a logged reason: no number
is ever made up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import os
from typing import Any, Callable, Mapping

import numpy as np
from absl import logging

from sigjax.evaluation import grid as grid_eval
from sigjax.evaluation.images import image_grid


@dataclasses.dataclass(frozen=True)
class EvalContext:
  """What evaluators share: the run's data config (the mixture's modes, the
  FID reference images), the scorers' batch size, a label for plot titles
  and the run's writer (anything with ``enabled``, ``workdir`` and
  ``write_image(step, name, image)``)."""

  data: Any
  batch_size: int
  writer: Any
  label: str = ""
  # make_dataset's ``decoded`` of the run's training data: evaluators that read
  # the same data set share its decoded records.
  decoded: dict | None = None
  entry: str = ""  # the config.evals entry being built (for messages)


@dataclasses.dataclass(frozen=True)
class Evaluator:
  """score(samples [num_samples, ...], step) -> {metric: value}; may write pictures."""

  name: str
  every: int
  num_samples: int
  score: Callable[[np.ndarray, int], dict]

  def due(self, step: int, *, final: bool) -> bool:
    return final or (self.every > 0 and step % self.every == 0)


def grid_modes(ctx: EvalContext, *, num_samples: int, protocol_samples: int = 2_500):
  """PacGAN's protocol on the first ``protocol_samples`` samples (modes,
  high_quality, reverse_kl, modes_with_mass), the same on all ``num_samples``
  as ``*_at_<n>``, and a scatter plot of the protocol samples (the picture
  shows what the numbers count). The modes are the data mixture's."""
  from sigjax.data.grid import means_for

  if ctx.data.name not in ("grid", "ring"):
    raise ValueError(f"evaluator grid_modes needs 2-D mixture data (grid, ring), not "
                     f"data.name={ctx.data.name!r}.")
  means, std = means_for(ctx.data), float(ctx.data.std)
  protocol = min(int(protocol_samples), int(num_samples))

  def score(samples, step):
    head = samples[:protocol]
    metrics = grid_eval.mode_metrics(head, means, std)
    if len(samples) > len(head):
      metrics.update({f"{k}_at_{len(samples)}": v
                      for k, v in grid_eval.mode_metrics(samples, means, std).items()})
    if ctx.writer.enabled:  # samples/scatter_<step>.png and TensorBoard's images
      ctx.writer.write_image(step, "scatter", grid_eval.scatter_image(
          head, means,
          title=(f"{ctx.label}, step {step}, {len(head)} samples: {metrics['modes']} modes, "
                 f"{metrics['modes_with_mass']} with >=1% mass, hq {metrics['high_quality']:.2f}")))
    return metrics

  return score


def sample_grid(ctx: EvalContext, *, num_samples: int = 64):
  """A grid of the first ``num_samples`` images (samples/samples_<step>.png, TensorBoard)."""

  def score(samples, step):
    ctx.writer.write_image(step, "samples", image_grid(samples[:num_samples]))
    return {}

  return score


def load_stacked_mnist_scorer(classifier_workdir: str, *, high_quality_threshold: float,
                              batch_size: int):
  """The StackedMnistScorer of the classifier trained in ``classifier_workdir``."""
  from sigjax.evaluation.classifier_checkpoint import load_classifier_params
  from sigjax.evaluation.stacked_mnist import StackedMnistScorer

  return StackedMnistScorer(load_classifier_params(classifier_workdir),
                            high_quality_threshold=high_quality_threshold, batch_size=batch_size)


def stacked_mnist(ctx: EvalContext, *, num_samples: int, classifier_workdir: str = "",
                  high_quality_threshold: float = 0.9):
  """The six Stacked-MNIST columns (IS, high_quality, exp_h_y_given_x, exp_h_y,
  modes, kl), each channel labelled by the MNIST classifier trained in
  ``classifier_workdir`` (configs/mnist_classifier.py); "" skips them."""
  del num_samples  # the scorer uses every sample it is given
  if not classifier_workdir:
    logging.warning("Stacked-MNIST scores skipped: config.evals.%s.classifier_workdir is "
                    "empty. Train the scorer with configs/mnist_classifier.py and point it there.",
                    ctx.entry)
    return None
  scorer = load_stacked_mnist_scorer(classifier_workdir,
                                     high_quality_threshold=high_quality_threshold,
                                     batch_size=ctx.batch_size)
  return lambda samples, step: scorer(samples)


def inception(ctx: EvalContext, *, num_samples: int, weights: str = "", splits: int = 10,
              fid_reference_samples: int = 50_000):
  """Inception Score (``splits`` chunks) and FID against ``fid_reference_samples``
  training images, from the FID Inception-v3 in ``weights`` (an .npz; see
  sigjax/models/inception.py); "" skips them (sigjax downloads no weights)."""
  del num_samples
  if not weights:
    logging.warning("Inception Score and FID skipped: config.evals.%s.weights is empty "
                    "(sigjax downloads no weights; see sigjax/models/inception.py for the file).",
                    ctx.entry)
    return None
  from sigjax.data import make_dataset
  from sigjax.evaluation.inception_scores import InceptionScorer
  from sigjax.models.inception import load_fid_inception_weights

  scorer = InceptionScorer(load_fid_inception_weights(weights), batch_size=ctx.batch_size,
                           splits=splits)
  reference_data = make_dataset(ctx.data, global_batch_size=ctx.batch_size, seed=0,
                                decoded=ctx.decoded)
  count = min(fid_reference_samples, reference_data.num_examples or 0)
  batches = (b["x"] for b in reference_data.take(count))
  # The cache name carries what the statistics depend on (weights file, data), so a
  # rerun with other weights or data recomputes them. Only the writing process
  # caches, so hosts sharing a file system do not race.
  source = f"{os.path.abspath(os.path.expanduser(weights))}|{ctx.data.name}|{ctx.data.path}"
  digest = hashlib.sha1(source.encode()).hexdigest()[:10]
  cache = (os.path.join(ctx.writer.workdir, f"fid_reference_{ctx.data.name}_{count}_{digest}.npz")
           if ctx.writer.enabled else None)
  reference = scorer.reference_statistics(batches, cache_path=cache)
  return lambda samples, step: scorer(samples, reference=reference)


EVALUATORS = {
    "grid_modes": grid_modes,
    "sample_grid": sample_grid,
    "stacked_mnist": stacked_mnist,
    "inception": inception,
}


def _entry(name: str, entry: Mapping) -> tuple[Callable, int, dict]:
  """(builder, every, options) of one config.evals entry; raises ValueError naming the problem."""
  options = dict(entry)
  kind = options.pop("type", None)
  if kind not in EVALUATORS:
    raise ValueError(f"config.evals.{name}.type={kind!r}; choose from {tuple(EVALUATORS)}.")
  builder = EVALUATORS[kind]
  valid = [p for p in inspect.signature(builder).parameters if p != "ctx"]
  unknown = sorted(set(options) - set(valid) - {"every"})
  if unknown:
    raise ValueError(f"config.evals.{name}.{unknown[0]} is not an option of evaluator "
                     f"{kind!r}; its options are type, every, {', '.join(valid)}.")
  if "every" not in options or "num_samples" not in options:
    raise ValueError(f"config.evals.{name} needs 'every' (steps; 0: only at the end) and "
                     "'num_samples'.")
  every, num_samples = int(options.pop("every")), int(options["num_samples"])
  if every < 0 or num_samples < 1:
    raise ValueError(f"config.evals.{name}: every must be >= 0 and num_samples >= 1, got "
                     f"{every} and {num_samples}.")
  return builder, every, options


def check_evals(evals: Mapping[str, Mapping]) -> None:
  """Validates every entry of config.evals without building anything (cheap: run it first)."""
  for name, entry in evals.items():
    _entry(name, entry)


def make_evaluators(evals: Mapping[str, Mapping], ctx: EvalContext) -> list[Evaluator]:
  """The evaluators config.evals declares, built in order; skipped ones are left out.

  Every entry is checked before the first one loads anything.
  """
  entries = [(name, *_entry(name, entry)) for name, entry in evals.items()]
  built = []
  for name, builder, every, options in entries:
    score = builder(dataclasses.replace(ctx, entry=name), **options)
    if score is not None:
      built.append(Evaluator(name, every, int(options["num_samples"]), score))
  return built
