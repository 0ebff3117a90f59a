"""Evaluations: pure functions of samples (plus plotting helpers)."""

from sigjax.evaluation.grid import mode_metrics
from sigjax.evaluation.images import image_grid

__all__ = ["mode_metrics", "image_grid"]
