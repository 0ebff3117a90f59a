"""Builds the ``Objective`` a run trains: models plugged into the pure losses.

Three files, three jobs: ``sigjax.loss`` is the SIG NLL (eq. 1),
``sigjax.objectives`` the pure GAN losses of logits (eqs. 3, 4, WGAN-GP);
this module binds them to a generator and discriminator, once, from
``config.objective``:

* ``gan``: eq. (3) for D; generator ``generator_loss`` (non-saturating by
  default) + ``si_weight`` * SIG NLL (eq. 4).
* ``wgan_gp``: WGAN critic loss + ``gp_weight`` * gradient penalty; generator
  ``-D(G(z))`` + ``si_weight`` * SIG NLL.
* ``sig``: pure maximum likelihood, the SIG NLL alone; no discriminator.

The train step only sees the resulting ``Objective``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from sigjax import objectives
from sigjax._fields import from_fields
from sigjax.loss import sig_nll

OBJECTIVES = ("gan", "wgan_gp", "sig")
GENERATOR_LOSSES = {
    "nonsaturating": objectives.nonsaturating_generator_loss,
    "minimax": objectives.minimax_generator_loss,
    "exp_logit": objectives.exp_logit_generator_loss,
}


@dataclasses.dataclass(frozen=True)
class ObjectiveSettings:
  """``config.objective``, checked: ``ObjectiveSettings(**config.objective)``."""

  name: str = "gan"  # gan | wgan_gp | sig
  generator_loss: str = "nonsaturating"  # gan only
  si_weight: float = 0.0  # lambda of eq. (4)
  si_scale: float = 0.05  # std of the Gaussian kernel p(x | theta) (its start when learned)
  # M of the SI mixture: 0 uses the step's generated batch as theta; > 0 draws
  # that many (the batch's samples are the first of them, so the adversarial
  # term and the mixture share one generator pass and one batch-norm batch).
  si_num_samples: int = 0
  # Schedules over the run (1 = constant): lambda and the fixed kernel std each
  # follow a cosine from their value at step 0 to that fraction of it at num_steps.
  si_weight_final_fraction: float = 1.0
  si_scale_final_fraction: float = 1.0
  learn_scale: bool = False
  # A learned std's floor: std = min_scale + exp(log_scale), so it can shrink
  # towards min_scale but never below it (0 = no floor).
  min_scale: float = 0.0
  gp_weight: float = 10.0  # wgan_gp only
  n_critic: int = 1  # critic updates per generator update (1 for sig)
  sample_kernel_noise: bool = False  # samples are x ~ p(x | theta), not theta

  def __post_init__(self):
    def need(cond, msg):
      if not cond:
        raise ValueError(f"config: objective.{msg}")

    need(self.name in OBJECTIVES, f"name={self.name!r}; choose from {OBJECTIVES}.")
    need(self.generator_loss in GENERATOR_LOSSES,
         f"generator_loss={self.generator_loss!r}; choose from {tuple(GENERATOR_LOSSES)}.")
    need(math.isfinite(self.si_weight) and self.si_weight >= 0,
         f"si_weight (lambda) must be finite and >= 0, got {self.si_weight}.")
    need(math.isfinite(self.si_scale) and self.si_scale > 0,
         f"si_scale (SIG kernel std) must be finite and > 0, got {self.si_scale}.")
    need(math.isfinite(self.gp_weight) and self.gp_weight >= 0,
         f"gp_weight must be finite and >= 0, got {self.gp_weight}.")
    need(self.n_critic >= 1, f"n_critic must be >= 1, got {self.n_critic}.")
    need(isinstance(self.si_num_samples, int) and self.si_num_samples >= 0,
         f"si_num_samples (M of the SI mixture; 0 = the batch) must be an int >= 0, "
         f"got {self.si_num_samples!r}.")
    need(0 <= self.si_weight_final_fraction <= 1,
         f"si_weight_final_fraction (lambda at num_steps over lambda at step 0; 1 = constant) "
         f"must be in [0, 1], got {self.si_weight_final_fraction}.")
    need(self.name != "sig" or self.si_weight_final_fraction == 1.0,
         "si_weight_final_fraction schedules lambda of eq. (4); the sig objective has no "
         "lambda (set it to 1.0).")
    need(0 < self.si_scale_final_fraction <= 1,
         f"si_scale_final_fraction (kernel std at num_steps over si_scale; 1 = constant) "
         f"must be in (0, 1], got {self.si_scale_final_fraction}.")
    need(not (self.learn_scale and self.si_scale_final_fraction != 1.0),
         "si_scale_final_fraction schedules a fixed std; a learned std (learn_scale=True) "
         "follows its gradient: set min_scale for a floor instead.")
    need(not (self.sample_kernel_noise and self.si_scale_final_fraction != 1.0),
         "si_scale_final_fraction with sample_kernel_noise: samples would need the step's std; "
         "use a constant std (1.0) to sample x ~ p(x | theta).")
    need(self.learn_scale or self.min_scale == 0,
         f"min_scale={self.min_scale} floors a learned std; it does nothing with "
         f"learn_scale=False (set learn_scale=True, or min_scale=0).")
    need(math.isfinite(self.min_scale) and 0 <= self.min_scale < self.si_scale,
         f"min_scale (a learned std's floor) must be in [0, si_scale={self.si_scale}), "
         f"got {self.min_scale}.")
    # Fields that only shape the SI term: away from their defaults they would do nothing.
    si_only = ("si_weight_final_fraction", "si_scale_final_fraction", "learn_scale", "min_scale")
    scheduled = {k: getattr(self, k) for k in si_only
                 if getattr(self, k) != self.__dataclass_fields__[k].default}
    need(self.name == "sig" or self.si_weight > 0 or not scheduled,
         f"{', '.join(f'{k}={v}' for k, v in scheduled.items())} shape(s) the SI term, which "
         f"is off (si_weight=0): set objective.si_weight > 0, or leave them at their defaults.")


def objective_settings(fields) -> ObjectiveSettings:
  """ObjectiveSettings(**fields); an unknown field raises ValueError naming the valid ones."""
  return from_fields(ObjectiveSettings, fields, where="objective", what="an objective setting")


def cosine_factor(step, final_fraction: float, num_steps: int):
  """1 at step 0, ``final_fraction`` at ``num_steps`` and after, a half cosine between.

  optax's cosine decay, the learning rates' schedule (``state.make_optimizers``);
  Python 1.0 (no op in the graph) for a constant schedule.
  """
  if final_fraction == 1.0:
    return 1.0
  return optax.cosine_decay_schedule(1.0, decay_steps=num_steps, alpha=final_fraction)(step)


@dataclasses.dataclass(frozen=True)
class Objective:
  """What the train step runs.

  critic_loss: (d_params, g_params, x [B, ...], key) -> (loss, metrics), or
    None when there is no discriminator (sig).
  generator_loss: (g_params, d_params, x [B, ...], key, step) -> (loss, metrics);
    ``step`` (the train step, an int array) drives the lambda / std schedules.
  sample: (g_params, key, n) -> n model samples.
  n_critic: critic updates per step, each on its own real batch.
  initial_log_scale: the generator params' starting ``log_scale``: log of the
    kernel std, or of (std - min_scale) for a learned std with a floor.
  """

  critic_loss: Callable | None
  generator_loss: Callable
  sample: Callable
  n_critic: int
  initial_log_scale: float


def make_objective(settings: ObjectiveSettings, generator, discriminator, *, z_dim: int,
                   num_generated: int, num_steps: int) -> Objective:
  """The Objective of ``settings`` for these flax modules.

  Args:
    settings: the checked ``config.objective``.
    generator: z [M, z_dim] -> theta [M, ...].
    discriminator: x [B, ...] -> logits [B] (unused for sig).
    z_dim: the generator's latent size.
    num_generated: the generated samples the adversarial term sees per generator
      step (the global batch); also the SI mixture's M unless
      ``settings.si_num_samples`` sets its own.
    num_steps: the run's length, the end of the lambda / std schedules.
  """
  s = settings

  def kernel_scale(g_params, step):
    """The kernel std at ``step``: learned (above its floor) or fixed (scheduled)."""
    if s.learn_scale:
      return s.min_scale + jnp.exp(g_params["log_scale"])
    fixed = jnp.exp(jax.lax.stop_gradient(g_params["log_scale"]))
    if s.si_scale_final_fraction == 1.0:
      return fixed
    return fixed * cosine_factor(step, s.si_scale_final_fraction, num_steps)

  def generate(g_params, key, n):
    """theta = g_phi(z) for n draws of z ~ N(0, I)."""
    z = jax.random.normal(key, (n, z_dim), jnp.float32)
    return generator.apply(g_params["net"], z)

  def sample(g_params, key, n):
    """Model samples: theta, plus kernel noise when settings.sample_kernel_noise."""
    k_theta, k_noise = jax.random.split(key)
    theta = generate(g_params, k_theta, n)
    if s.sample_kernel_noise:
      # The std has no schedule here (settings refuse one with sample_kernel_noise).
      theta = theta + kernel_scale(g_params, 0) * jax.random.normal(k_noise, theta.shape)
    return theta

  def critic_loss(d_params, g_params, x, key):
    k_z, k_gp = jax.random.split(key)
    fake = jax.lax.stop_gradient(generate(g_params, k_z, x.shape[0]))
    d = lambda v: discriminator.apply(d_params, v)
    real_out, fake_out = d(x), d(fake)
    if s.name == "gan":
      loss = objectives.discriminator_loss(real_out, fake_out)
      return loss, {"d_loss": loss}
    wdist = -objectives.wgan_critic_loss(real_out, fake_out)
    gp = jnp.mean(objectives.gradient_penalty(d, x, fake, k_gp))
    loss = -wdist + s.gp_weight * gp
    return loss, {"d_loss": loss, "wasserstein": wdist, "gradient_penalty": gp}

  uses_sig = s.name == "sig" or s.si_weight > 0
  num_si = s.si_num_samples or num_generated
  # One generator pass serves both terms; sig has no adversarial batch.
  if s.name == "sig":
    num_draws = num_si
  elif uses_sig:
    num_draws = max(num_generated, num_si)
  else:
    num_draws = num_generated

  def generator_loss(g_params, d_params, x, key, step):
    theta = generate(g_params, key, num_draws)
    metrics = {}
    scale = kernel_scale(g_params, step)
    sig = sig_nll(x, theta[:num_si], scale=scale) if uses_sig else jnp.zeros(())
    if s.name == "sig":
      loss = jnp.mean(sig)
    else:
      out = discriminator.apply(d_params, theta[:num_generated])
      if s.name == "gan":
        adversarial = GENERATOR_LOSSES[s.generator_loss](out)
      else:
        adversarial = objectives.wgan_generator_loss(out)
      metrics["adversarial"] = jnp.mean(adversarial)
      si_weight = s.si_weight * cosine_factor(step, s.si_weight_final_fraction, num_steps)
      loss = objectives.gan_si_generator_loss(adversarial, sig, si_weight=si_weight)
      if s.si_weight_final_fraction != 1.0:
        metrics["si_weight"] = si_weight
    if uses_sig:
      metrics["sig_nll"] = jnp.mean(sig)
      metrics["kernel_scale"] = scale
    metrics["g_loss"] = loss
    return loss, metrics

  has_critic = s.name != "sig"
  return Objective(
      critic_loss=critic_loss if has_critic else None,
      generator_loss=generator_loss,
      sample=sample,
      n_critic=s.n_critic if has_critic else 1,
      # With a floor, std = min_scale + exp(log_scale) starts at si_scale.
      initial_log_scale=math.log(s.si_scale - s.min_scale),
  )
