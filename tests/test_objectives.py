"""sigjax.objectives against float64 NumPy formulas and the seed's identity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sigjax import objectives as obj


def test_discriminator_loss_matches_formula():
  real, fake = np.linspace(-3, 3, 7), np.linspace(-2, 5, 5)
  sig = lambda z: 1 / (1 + np.exp(-z))
  want = -np.mean(np.log(sig(real))) - np.mean(np.log(1 - sig(fake)))
  np.testing.assert_allclose(obj.discriminator_loss(real, fake), want, rtol=1e-5)


def test_generator_losses_match_formulas():
  logits = jnp.linspace(-4.0, 4.0, 9)
  d = 1 / (1 + np.exp(-np.asarray(logits, np.float64)))
  np.testing.assert_allclose(obj.nonsaturating_generator_loss(logits), -np.log(d), rtol=1e-5)
  np.testing.assert_allclose(obj.minimax_generator_loss(logits), np.log(1 - d), rtol=1e-5)
  np.testing.assert_allclose(obj.exp_logit_generator_loss(logits), -0.5 * d / (1 - d), rtol=1e-5)
  np.testing.assert_allclose(obj.wgan_generator_loss(logits), -logits)
  np.testing.assert_allclose(obj.wgan_critic_loss(jnp.array([1.0, 3.0]), jnp.array([0.5])), -1.5)


def test_gradient_penalty_per_example_against_jacobian():
  k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
  w1 = jax.random.normal(k1, (6, 16))
  w2 = jax.random.normal(k2, (16,))
  critic = lambda x: jnp.tanh(x @ w1) @ w2  # per-example, nonlinear
  real = jax.random.normal(k3, (5, 6))
  fake = jax.random.normal(k4, (5, 6))
  key = jax.random.key(7)
  got = obj.gradient_penalty(critic, real, fake, key)
  eps = jax.random.uniform(key, (5, 1))
  mixed = np.asarray(eps * real + (1 - eps) * fake)
  want = [
      (np.linalg.norm(jax.grad(lambda v: critic(v[None])[0])(jnp.asarray(row))) - 1) ** 2
      for row in mixed
  ]
  np.testing.assert_allclose(got, want, rtol=1e-4)
  with pytest.raises(ValueError, match="same shape"):
    obj.gradient_penalty(critic, real, fake[:3], key)


def test_gan_si_combination():
  adv, sig = jnp.array([1.0, 2.0, 3.0]), jnp.array([10.0, 30.0])
  assert float(obj.gan_si_generator_loss(adv, sig, si_weight=0.0)) == 2.0
  np.testing.assert_allclose(obj.gan_si_generator_loss(adv, sig, si_weight=0.5), 12.0)
  g = jax.grad(lambda s: obj.gan_si_generator_loss(adv, s, si_weight=0.5))(sig)
  np.testing.assert_allclose(g, [0.25, 0.25])
  with pytest.raises(ValueError, match="si_weight"):
    obj.gan_si_generator_loss(adv, sig, si_weight=-1.0)


def test_ideal_discriminator_minimises_eq3():
  # On a discrete space, the per-point minimiser of the expected eq. (3),
  # p_d(x) softplus(-l) + p_g(x) softplus(l), is l* = log p_d - log p_g.
  p_d = np.array([0.5, 0.3, 0.15, 0.05])
  p_g = np.array([0.1, 0.2, 0.3, 0.4])
  loss = lambda l: jnp.sum(p_d * jax.nn.softplus(-l)) + jnp.sum(p_g * jax.nn.softplus(l))
  # 3000 gradient steps in one compiled loop (eagerly they take ~40 s on CPU).
  l = jax.jit(lambda l0: jax.lax.fori_loop(0, 3000, lambda _, l: l - 2.0 * jax.grad(loss)(l),
                                           l0))(jnp.zeros(4))
  np.testing.assert_allclose(l, np.log(p_d / p_g), atol=1e-3)


def test_seed_identity_exp_logit_loss_is_the_sig_loss_under_the_ideal_discriminator():
  # Generator: p_phi = softmax(phi) over 6 points. Ideal discriminator for the
  # current generator, held fixed: l* = log p_d - log p_phi0.
  with jax.enable_x64(True):
    p_d = jnp.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    phi0 = jnp.array([0.4, -0.2, 0.1, 0.9, -1.0, 0.3])
    ideal_logits = jnp.log(p_d) - jax.nn.log_softmax(phi0)

    def generator_loss(phi):  # E_{x ~ p_phi} of the per-example loss at x
      return jnp.sum(jax.nn.softmax(phi) * obj.exp_logit_generator_loss(ideal_logits))

    def sig_loss(phi):  # H = -E_{p_d} log p_phi
      return -jnp.sum(p_d * jax.nn.log_softmax(phi))

    np.testing.assert_allclose(generator_loss(phi0), -0.5, rtol=1e-12)  # E p_d / p_g = 1
    np.testing.assert_allclose(
        jax.grad(generator_loss)(phi0), 0.5 * jax.grad(sig_loss)(phi0), rtol=1e-10, atol=1e-14
    )
    # A descent step on it lowers the SIG loss.
    step = phi0 - 0.1 * jax.grad(generator_loss)(phi0)
    assert sig_loss(step) < sig_loss(phi0)
