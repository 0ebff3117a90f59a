"""Evaluation: scores that are pure functions of samples (grid.py, scores.py), the
networks around them (stacked_mnist.py, inception_scores.py), and the evaluators a
run declares in config.evals (evaluators.py), which load those networks once."""

from sigjax.evaluation.grid import mode_metrics
from sigjax.evaluation.images import image_grid

__all__ = ["mode_metrics", "image_grid"]
