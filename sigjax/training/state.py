"""The train state: a pytree of arrays only, so orbax can save it as is."""

from __future__ import annotations

import math
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """Everything a run needs to continue exactly.

  g_params: {"net": generator params, "log_scale": log of the SIG kernel std}.
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


def make_optimizers(config) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
  o = config.optim
  g_tx = optax.adam(o.g_lr, b1=o.b1, b2=o.b2)
  d_tx = optax.adam(o.d_lr, b1=o.b1, b2=o.b2)
  return g_tx, d_tx


def init_state(config, generator, discriminator, example_shape, g_tx, d_tx) -> TrainState:
  key = jax.random.PRNGKey(config.seed)
  g_key, d_key, run_key = jax.random.split(key, 3)
  z = jnp.zeros((2, config.model.z_dim), jnp.float32)
  g_params = {
      "net": generator.init(g_key, z),
      "log_scale": jnp.asarray(math.log(config.objective.si_scale), jnp.float32),
  }
  if config.objective.name == "sig":
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
      g_ema=jax.tree.map(jnp.copy, g_params) if config.optim.ema_decay > 0 else {},
      key=run_key,
  )
