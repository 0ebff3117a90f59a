"""The train state: a pytree of arrays only, so orbax can save it as is."""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """Everything a run needs to continue exactly.

  g_params: {"net": generator params, "log_scale": log of the SIG kernel std
    (of std - objective.min_scale when a learned std has a floor)}.
  d_params: discriminator / critic params ({} for the pure SIG objective).
  g_ema: exponential moving average of g_params ({} when disabled).
  key: raw uint32 PRNG key; the step's randomness is fold_in(key, step).
  """

  step: jax.Array
  g_params: Any
  d_params: Any
  g_opt_state: Any
  d_opt_state: Any
  g_ema: Any
  key: jax.Array


def make_optimizers(*, g_lr: float, d_lr: float, b1: float, b2: float, num_steps: int = 1,
                    n_critic: int = 1, lr_final_fraction: float = 1.0
                    ) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
  """Adam for the generator and for the discriminator.

  With ``lr_final_fraction`` < 1 both learning rates follow a cosine from
  their value at step 0 to that fraction of it at ``num_steps`` (the critic's
  over its ``num_steps * n_critic`` updates, so both decay in step). At 1.0
  they are constant floats, so the optimiser state has no schedule counter.
  """
  def rate(lr, updates):
    if lr_final_fraction == 1.0:
      return lr
    return optax.cosine_decay_schedule(lr, decay_steps=updates, alpha=lr_final_fraction)

  return (optax.adam(rate(g_lr, num_steps), b1=b1, b2=b2),
          optax.adam(rate(d_lr, num_steps * n_critic), b1=b1, b2=b2))


def init_state(objective, generator, discriminator, example_shape, g_tx, d_tx, *, seed: int,
               z_dim: int, use_ema: bool) -> TrainState:
  """The step-0 state of ``objective``'s run (no discriminator params without a critic)."""
  key = jax.random.PRNGKey(seed)
  g_key, d_key, run_key = jax.random.split(key, 3)
  z = jnp.zeros((2, z_dim), jnp.float32)
  g_params = {
      "net": generator.init(g_key, z),
      "log_scale": jnp.asarray(objective.initial_log_scale, jnp.float32),
  }
  if objective.critic_loss is None:
    d_params = {}
  else:
    d_params = discriminator.init(d_key, jnp.zeros((2,) + tuple(example_shape), jnp.float32))
  return TrainState(
      step=jnp.asarray(0, jnp.int32),
      g_params=g_params,
      d_params=d_params,
      g_opt_state=g_tx.init(g_params),
      d_opt_state=d_tx.init(d_params),
      # A copy: the step donates the state, and aliased buffers cannot be donated.
      g_ema=jax.tree.map(jnp.copy, g_params) if use_ema else {},
      key=run_key,
  )
