"""Plugs models into the pure objectives of sigjax.objectives and sigjax.loss.

``make_losses`` returns (critic_loss, generator_loss, sample); the train step
only knows these three functions, whatever the objective:

* ``gan``: eq. (3) for D; generator ``generator_loss`` (non-saturating by
  default) + ``si_weight`` * SIG NLL (eq. 4).
* ``wgan_gp``: WGAN critic loss + ``gp_weight`` * gradient penalty; generator
  ``-D(G(z))`` + ``si_weight`` * SIG NLL.
* ``sig``: pure maximum likelihood, the SIG NLL alone; no discriminator.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sigjax import objectives
from sigjax.loss import sig_nll

OBJECTIVES = ("gan", "wgan_gp", "sig")
GENERATOR_LOSSES = {
    "nonsaturating": objectives.nonsaturating_generator_loss,
    "minimax": objectives.minimax_generator_loss,
    "exp_logit": objectives.exp_logit_generator_loss,
}


def make_losses(config, generator, discriminator):
  obj = config.objective
  z_dim = config.model.z_dim

  def kernel_scale(g_params):
    log_scale = g_params["log_scale"]
    if not obj.learn_scale:
      log_scale = jax.lax.stop_gradient(log_scale)
    return jnp.exp(log_scale)

  def generate(g_params, key, n):
    """theta = g_phi(z) for n draws of z ~ N(0, I)."""
    z = jax.random.normal(key, (n, z_dim), jnp.float32)
    return generator.apply(g_params["net"], z)

  def sample(g_params, key, n):
    """Model samples: theta, plus kernel noise when config.eval says so."""
    k_theta, k_noise = jax.random.split(key)
    theta = generate(g_params, k_theta, n)
    if config.eval.sample_kernel_noise:
      theta = theta + kernel_scale(g_params) * jax.random.normal(k_noise, theta.shape)
    return theta

  def critic_loss(d_params, g_params, x, key):
    k_z, k_gp = jax.random.split(key)
    fake = jax.lax.stop_gradient(generate(g_params, k_z, x.shape[0]))
    d = lambda v: discriminator.apply(d_params, v)
    real_out, fake_out = d(x), d(fake)
    if obj.name == "gan":
      loss = objectives.discriminator_loss(real_out, fake_out)
      return loss, {"d_loss": loss}
    wdist = -objectives.wgan_critic_loss(real_out, fake_out)
    gp = jnp.mean(objectives.gradient_penalty(d, x, fake, k_gp))
    loss = -wdist + obj.gp_weight * gp
    return loss, {"d_loss": loss, "wasserstein": wdist, "gradient_penalty": gp}

  def generator_loss(g_params, d_params, x, key):
    theta = generate(g_params, key, config.batch_size)
    metrics = {}
    uses_sig = obj.name == "sig" or obj.si_weight > 0
    sig = sig_nll(x, theta, scale=kernel_scale(g_params)) if uses_sig else jnp.zeros(())
    if obj.name == "sig":
      loss = jnp.mean(sig)
    else:
      out = discriminator.apply(d_params, theta)
      if obj.name == "gan":
        adversarial = GENERATOR_LOSSES[obj.generator_loss](out)
      else:
        adversarial = objectives.wgan_generator_loss(out)
      metrics["adversarial"] = jnp.mean(adversarial)
      loss = objectives.gan_si_generator_loss(adversarial, sig, si_weight=obj.si_weight)
    if uses_sig:
      metrics["sig_nll"] = jnp.mean(sig)
      metrics["kernel_scale"] = kernel_scale(g_params)
    metrics["g_loss"] = loss
    return loss, metrics

  return (None if obj.name == "sig" else critic_loss), generator_loss, sample
