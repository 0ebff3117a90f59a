"""The objectives a run trains, bound to models: which theta each term sees."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from helpers import tiny
from sigjax.loss import sig_nll
from sigjax.objectives import nonsaturating_generator_loss
from sigjax.training import train_and_evaluate
from sigjax.training.objective_builder import make_objective, objective_settings

Z_DIM = 3


class _Generator(nn.Module):
  @nn.compact
  def __call__(self, z):
    return nn.Dense(2)(jnp.tanh(nn.Dense(8)(z)))


class _Discriminator(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(1)(x)[:, 0]


def _setup(num_generated, num_steps=1, **fields):
  objective = make_objective(objective_settings(fields), _Generator(), _Discriminator(),
                             z_dim=Z_DIM, num_generated=num_generated, num_steps=num_steps)
  g_params = {"net": _Generator().init(jax.random.key(1), jnp.zeros((1, Z_DIM))),
              "log_scale": jnp.float32(objective.initial_log_scale)}
  d_params = _Discriminator().init(jax.random.key(2), jnp.zeros((1, 2)))
  return objective, g_params, d_params


@pytest.mark.parametrize("si_num_samples", [0, 3, 11])
def test_si_mixture_size_is_its_own_and_the_adversarial_batch_unchanged(si_num_samples):
  num_generated, si_weight, scale = 5, 0.5, 0.3
  objective, g_params, d_params = _setup(num_generated, si_weight=si_weight, si_scale=scale,
                                         si_num_samples=si_num_samples)
  x = jax.random.normal(jax.random.key(3), (4, 2))
  key = jax.random.key(4)
  loss, metrics = objective.generator_loss(g_params, d_params, x, key, 0)

  # By hand: one pass of max(batch, M) draws; the adversarial term sees the
  # first `num_generated`, the mixture the first M.
  m = si_num_samples or num_generated
  z = jax.random.normal(key, (max(num_generated, m), Z_DIM), jnp.float32)
  theta = _Generator().apply(g_params["net"], z)
  adversarial = nonsaturating_generator_loss(_Discriminator().apply(d_params, theta[:num_generated]))
  sig = sig_nll(x, theta[:m], scale=scale)
  np.testing.assert_allclose(metrics["adversarial"], jnp.mean(adversarial), rtol=1e-6)
  np.testing.assert_allclose(metrics["sig_nll"], jnp.mean(sig), rtol=1e-6)
  np.testing.assert_allclose(loss, jnp.mean(adversarial) + si_weight * jnp.mean(sig), rtol=1e-6)


def test_sig_objective_draws_only_the_mixture():
  objective, g_params, d_params = _setup(5, name="sig", si_scale=0.3, si_num_samples=9)
  x = jax.random.normal(jax.random.key(3), (4, 2))
  key = jax.random.key(4)
  loss, _ = objective.generator_loss(g_params, d_params, x, key, 0)
  theta = _Generator().apply(g_params["net"], jax.random.normal(key, (9, Z_DIM), jnp.float32))
  np.testing.assert_allclose(loss, jnp.mean(sig_nll(x, theta, scale=0.3)), rtol=1e-6)


def test_bad_si_num_samples_is_named():
  with pytest.raises(ValueError, match="objective.si_num_samples.*int >= 0"):
    objective_settings({"si_num_samples": -1})
  with pytest.raises(ValueError, match="objective.si_num_samples.*int >= 0"):
    objective_settings({"si_num_samples": 2.5})


def test_a_run_trains_with_its_own_mixture_size(tmp_path):
  config = tiny("gmm_gansi", **{"objective.si_num_samples": 40})
  train_and_evaluate(config, str(tmp_path))
  with open(tmp_path / "final_metrics.json") as f:
    assert "eval/modes" in f.read()


def _cosine(step, num_steps, start, end):
  return end + (start - end) * 0.5 * (1 + np.cos(np.pi * min(step / num_steps, 1.0)))


@pytest.mark.parametrize("step", [0, 3, 10, 25])
def test_lambda_and_std_follow_their_cosines(step):
  num_steps, lam, scale = 10, 0.5, 0.3
  objective, g_params, d_params = _setup(5, num_steps=num_steps, si_weight=lam, si_scale=scale,
                                         si_weight_final_fraction=0.1,
                                         si_scale_final_fraction=0.25)
  x = jax.random.normal(jax.random.key(3), (4, 2))
  key = jax.random.key(4)
  loss, metrics = jax.jit(objective.generator_loss)(g_params, d_params, x, key, jnp.int32(step))

  lam_t = _cosine(step, num_steps, lam, 0.1 * lam)
  scale_t = _cosine(step, num_steps, scale, 0.25 * scale)
  theta = _Generator().apply(g_params["net"], jax.random.normal(key, (5, Z_DIM), jnp.float32))
  adversarial = jnp.mean(nonsaturating_generator_loss(_Discriminator().apply(d_params, theta)))
  sig = jnp.mean(sig_nll(x, theta, scale=scale_t))
  np.testing.assert_allclose(metrics["si_weight"], lam_t, rtol=1e-6)
  np.testing.assert_allclose(metrics["kernel_scale"], scale_t, rtol=1e-6)
  np.testing.assert_allclose(loss, adversarial + lam_t * sig, rtol=1e-5)


def test_learned_std_never_goes_below_its_floor():
  objective, g_params, d_params = _setup(5, si_weight=1.0, si_scale=0.3, learn_scale=True,
                                         min_scale=0.1)
  x = jax.random.normal(jax.random.key(3), (4, 2))
  _, metrics = objective.generator_loss(g_params, d_params, x, jax.random.key(4), 0)
  np.testing.assert_allclose(metrics["kernel_scale"], 0.3, rtol=1e-6)  # starts at si_scale
  g_params["log_scale"] = jnp.float32(-30.0)  # a std driven far down
  grads, metrics = jax.grad(objective.generator_loss, has_aux=True)(
      g_params, d_params, x, jax.random.key(4), 0)
  np.testing.assert_allclose(metrics["kernel_scale"], 0.1, rtol=1e-6)
  assert np.isfinite(grads["log_scale"])


@pytest.mark.parametrize("fields, match", [
    ({"si_weight_final_fraction": -0.5}, "si_weight_final_fraction.*in \\[0, 1\\]"),
    ({"si_weight_final_fraction": 2.0}, "si_weight_final_fraction.*in \\[0, 1\\]"),
    ({"si_weight_final_fraction": 0.5}, "si_weight_final_fraction=0.5.*SI term.*si_weight=0"),
    ({"learn_scale": True}, "learn_scale=True.*SI term.*si_weight=0"),
    ({"name": "sig", "si_weight_final_fraction": 0.5}, "sig objective has no lambda"),
    ({"si_scale_final_fraction": 0.0}, "si_scale_final_fraction.*in \\(0, 1\\]"),
    ({"si_scale_final_fraction": 0.5, "learn_scale": True}, "learned std.*min_scale"),
    ({"si_scale_final_fraction": 0.5, "sample_kernel_noise": True}, "sample_kernel_noise"),
    ({"min_scale": 0.05, "si_scale": 0.05, "learn_scale": True}, "min_scale.*\\[0, si_scale"),
    ({"min_scale": 0.01}, "min_scale.*learn_scale=False"),
])
def test_bad_schedules_are_named(fields, match):
  with pytest.raises(ValueError, match=match):
    objective_settings(fields)
