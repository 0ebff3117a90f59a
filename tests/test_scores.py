"""Score arithmetic against known answers."""

import numpy as np
import pytest

from sigjax.evaluation.grid import mode_metrics
from sigjax.evaluation.scores import (feature_statistics, frechet_distance, inception_score,
                                      stacked_mnist_metrics)
from sigjax.data.grid import grid_means


def test_inception_score_known_answers():
  one_hot_uniform = np.eye(10)[np.arange(1000) % 10]
  assert inception_score(one_hot_uniform)[0] == pytest.approx(10.0)
  assert inception_score(np.full((500, 10), 0.1))[0] == pytest.approx(1.0)  # no confidence
  assert inception_score(np.eye(10)[np.zeros(300, int)])[0] == pytest.approx(1.0)  # one class


def test_fid_known_answers():
  rng = np.random.default_rng(0)
  a = rng.standard_normal((4000, 5))
  mu, sigma = feature_statistics(a)
  assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)
  # Shifted mean, equal covariances: FID = |shift|^2.
  assert frechet_distance(mu, sigma, mu + 2.0, sigma) == pytest.approx(4.0 * 5, rel=1e-6)
  # Isotropic scales s1, s2: FID = d (s1 - s2)^2.
  assert frechet_distance(np.zeros(4), np.eye(4), np.zeros(4), 9 * np.eye(4)) == pytest.approx(16.0)


def test_stacked_mnist_metrics_known_answers():
  # All 1000 triples once each, with confident predictions.
  n = 1000
  digits = np.stack([np.arange(n) // 100, (np.arange(n) // 10) % 10, np.arange(n) % 10], 1)
  probs = np.eye(10)[digits] * 0.9 + 0.01  # max prob 0.91, rows sum to 1
  m = stacked_mnist_metrics(probs)
  assert m["modes"] == 1000 and m["kl"] == pytest.approx(0.0, abs=1e-12)
  assert m["high_quality"] == 1.0
  assert m["exp_h_y"] == pytest.approx(10.0)
  # A single triple: 1 mode, KL = log 1000, exp H(y) = 1 per channel.
  one = stacked_mnist_metrics(np.tile(np.eye(10)[digits[:1]], (50, 1, 1)))  # exact one-hot
  assert one["modes"] == 1 and one["kl"] == pytest.approx(np.log(1000))
  assert one["exp_h_y"] == pytest.approx(1.0, rel=1e-6)
  # Blur one channel of the triples 0..499: they still count as modes, but
  # only 500 samples (and their 500 triples) are high quality on all channels.
  blurred = probs.copy()
  blurred[:500, 2] = 0.1
  b = stacked_mnist_metrics(blurred, high_quality_threshold=0.5)
  assert b["modes"] == 1000 - 450  # the blurred channel's argmax is digit 0 (ties)
  assert b["high_quality_samples"] == 0.5 and b["modes_high_quality"] == 500
  assert m["high_quality_samples"] == 1.0 and m["modes_high_quality"] == 1000
  with pytest.raises(ValueError, match=r"\[N, 3, 10\]"):
    stacked_mnist_metrics(np.ones((4, 10)))


def test_grid_mode_metrics_known_answers():
  means = grid_means()
  exact = np.repeat(means, 4, axis=0)  # 4 points on every mean
  m = mode_metrics(exact, means, 0.05)
  assert m == {"modes": 25, "high_quality": 1.0, "reverse_kl": pytest.approx(0.0, abs=1e-12),
               "modes_with_mass": 25}
  far = mode_metrics(means[:1] + 1.0, means, 0.05)  # one point 1.0 from every mean
  assert far["modes"] == 0 and far["high_quality"] == 0.0 and np.isnan(far["reverse_kl"])


def test_grid_reverse_kl_counts_high_quality_samples_only():
  # PacGAN's MetricLogger: the histogram holds only samples within 3 std.
  means = grid_means()
  on_mode = np.repeat(means[:2], [30, 10], axis=0)
  between = np.tile((means[0] + means[1]) / 2, (60, 1))  # nearest mode 0, 20 std away
  m = mode_metrics(np.concatenate([on_mode, between]), means, 0.05)
  p = np.array([0.75, 0.25])
  assert m["modes"] == 2 and m["high_quality"] == pytest.approx(0.4)
  assert m["reverse_kl"] == pytest.approx(np.sum(p * np.log(p * 25)))


def test_grid_trails_do_not_pass_for_modes_with_mass():
  # 990 samples on one mode and one on each of 10 others: 11 modes captured,
  # but only one holds >= 1% of the high-quality mass.
  means = grid_means()
  samples = np.concatenate([np.repeat(means[:1], 990, axis=0), means[1:11]])
  m = mode_metrics(samples, means, 0.05)
  assert m["modes"] == 11 and m["modes_with_mass"] == 1
