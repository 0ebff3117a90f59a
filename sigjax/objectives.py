"""Adversarial objectives and their GAN-SI combination.

Pure functions of discriminator logits / critic scores (and, for the gradient
penalty, of a critic function), so any model and train loop can use them.
Per-example values are returned wherever one batch is involved; losses that
combine two batches (real and fake) return the scalar sum of their means.

Conventions: ``logits`` are pre-sigmoid outputs of a discriminator ``D`` that
models ``P(real | x) = sigmoid(logit)``. WGAN critics output unbounded scores.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

__all__ = [
    "discriminator_loss",
    "nonsaturating_generator_loss",
    "minimax_generator_loss",
    "exp_logit_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
    "gradient_penalty",
    "gan_si_generator_loss",
]


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  r"""Discriminator loss of eq. (3), a scalar.

  .. math::

    -\mathbb{E}_{x \sim P_d} \log D(x) - \mathbb{E}_z \log(1 - D(G(z)))
    = \operatorname{mean}\,\mathrm{softplus}(-l_{real})
      + \operatorname{mean}\,\mathrm{softplus}(l_{fake}).

  Args:
    real_logits: ``[N]`` logits on data.
    fake_logits: ``[M]`` logits on generated samples.

  Returns:
    Scalar loss.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import discriminator_loss
    >>> discriminator_loss(jnp.zeros(4), jnp.zeros(3)).round(4)  # 2 log 2
    Array(1.3863, dtype=float32)
  """
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def nonsaturating_generator_loss(fake_logits: jax.Array) -> jax.Array:
  r"""Non-saturating generator loss ``-log D(G(z)) = softplus(-l)``, per example.

  This is the adversarial term of eq. (4).

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import nonsaturating_generator_loss
    >>> nonsaturating_generator_loss(jnp.array([0.0])).round(4)
    Array([0.6931], dtype=float32)
  """
  return jax.nn.softplus(-fake_logits)


def minimax_generator_loss(fake_logits: jax.Array) -> jax.Array:
  r"""Original minimax generator loss ``log(1 - D(G(z))) = -softplus(l)``, per example.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import minimax_generator_loss
    >>> minimax_generator_loss(jnp.array([0.0])).round(4)
    Array([-0.6931], dtype=float32)
  """
  return -jax.nn.softplus(fake_logits)


def exp_logit_generator_loss(fake_logits: jax.Array) -> jax.Array:
  r"""The seed's exponential-logit generator loss, per example: ``-exp(l) / 2``.

  The seed replaces ``log(1 - D(G(z)))`` by ``\tfrac12 \exp(\sigma^{-1}(D(G(z))))``
  and notes that with the ideal discriminator this is the SIG loss. Precisely:
  the ideal discriminator has logit ``l^*(x) = log p_d(x) - log p_g(x)``;
  holding it fixed, for a generator density ``p_phi`` at ``phi = phi_0``,

  .. math::

    \nabla_\phi\, \mathbb{E}_{x \sim p_\phi}\big[e^{l^*(x)}\big]
      = \int \nabla_\phi p_\phi(x) \frac{p_d(x)}{p_{\phi_0}(x)} dx
      = \mathbb{E}_{p_d} \nabla_\phi \log p_\phi(x) = -\nabla_\phi H,

  with ``H = -E_{p_d} log p_phi`` the SIG loss. *Minimising* ``+exp(l)/2``
  would therefore ascend ``H`` (push mass away from the data), so this
  function returns the descent form ``-exp(l)/2``, whose gradient under the
  ideal discriminator is exactly ``+½ ∇H``. (Its value there is ``-1/2``
  for every generator, since ``E_{p_g} p_d / p_g = 1``.)

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import exp_logit_generator_loss
    >>> exp_logit_generator_loss(jnp.array([0.0, jnp.log(2.0)]))
    Array([-0.5, -1. ], dtype=float32)
  """
  return -0.5 * jnp.exp(fake_logits)


def wgan_critic_loss(real_scores: jax.Array, fake_scores: jax.Array) -> jax.Array:
  r"""WGAN critic loss ``E D(G(z)) - E D(x)`` (scalar; add the gradient penalty).

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import wgan_critic_loss
    >>> wgan_critic_loss(jnp.array([2.0, 4.0]), jnp.array([1.0]))
    Array(-2., dtype=float32)
  """
  return jnp.mean(fake_scores) - jnp.mean(real_scores)


def wgan_generator_loss(fake_scores: jax.Array) -> jax.Array:
  r"""WGAN generator loss ``-D(G(z))``, per example.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import wgan_generator_loss
    >>> wgan_generator_loss(jnp.array([1.5]))
    Array([-1.5], dtype=float32)
  """
  return -fake_scores


def gradient_penalty(
    critic_fn: Callable[[jax.Array], jax.Array],
    real: jax.Array,
    fake: jax.Array,
    key: jax.Array,
) -> jax.Array:
  r"""WGAN-GP penalty ``(||∇_x D(x̂)||_2 - 1)^2`` per example (Gulrajani et al.).

  ``x̂ = eps x + (1 - eps) x̃`` with ``eps ~ U[0, 1]`` per example. The
  per-example gradients come from one ``grad`` of the summed scores, which is
  exact when the critic treats examples independently (no batch norm, as
  WGAN-GP prescribes). Multiply the mean by ``lambda_gp`` (10 in the paper).

  Args:
    critic_fn: maps ``[N, ...]`` inputs to ``[N]`` (or ``[N, 1]``) scores.
    real: ``[N, ...]`` data.
    fake: ``[N, ...]`` generated samples (same shape as ``real``).
    key: PRNG key for ``eps``.

  Returns:
    ``[N]`` penalties.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from sigjax.objectives import gradient_penalty
    >>> critic = lambda x: 3.0 * x.sum(axis=-1)  # |grad| = 3 * sqrt(D)
    >>> x = jnp.ones((2, 4))
    >>> gradient_penalty(critic, x, -x, jax.random.key(0))  # (6 - 1)^2
    Array([25., 25.], dtype=float32)
  """
  if real.shape != fake.shape:
    raise ValueError(
        f"gradient_penalty: `real` {real.shape} and `fake` {fake.shape} must have the same shape."
    )
  eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  eps = jax.random.uniform(key, eps_shape, real.dtype)
  mixed = eps * real + (1.0 - eps) * fake
  grads = jax.grad(lambda v: jnp.sum(critic_fn(v)))(mixed)
  norms = jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=-1) + 1e-12)
  return (norms - 1.0) ** 2


def gan_si_generator_loss(
    adversarial: jax.Array, sig: jax.Array, *, si_weight: float
) -> jax.Array:
  r"""GAN-SI generator loss of eq. (4), a scalar.

  .. math::

    \operatorname{mean}(\text{adversarial}) + \lambda\, \operatorname{mean}(\text{sig}),

  where ``adversarial`` is a per-example generator loss (e.g.
  :func:`nonsaturating_generator_loss` or :func:`wgan_generator_loss`) and
  ``sig`` the per-example :func:`sigjax.loss.sig_nll` on a data batch.
  ``si_weight = 0`` is the plain GAN; large ``si_weight`` approaches MLE.

  Example:
    >>> import jax.numpy as jnp
    >>> from sigjax.objectives import gan_si_generator_loss
    >>> gan_si_generator_loss(jnp.array([1.0, 3.0]), jnp.array([10.0]), si_weight=0.1)
    Array(3., dtype=float32)
  """
  if not isinstance(si_weight, jax.core.Tracer) and si_weight < 0:
    raise ValueError(f"gan_si_generator_loss: `si_weight` must be >= 0, got {si_weight}.")
  return jnp.mean(adversarial) + si_weight * jnp.mean(sig)
