"""The pure train step: n_critic critic updates, then one generator update."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from sigjax.training.state import TrainState


def make_train_step(objective, g_tx, d_tx, *, ema_decay: float = 0.0):
  """Returns train_step(state, x) -> (state, metrics) for ``objective``.

  ``x`` is [n_critic, B, ...]: critic iteration i uses x[i] (fresh real data
  each time, as in WGAN-GP), and the generator's SIG term uses x[-1].
  ``ema_decay`` > 0 keeps an exponential moving average of the generator.
  """
  critic_loss, generator_loss = objective.critic_loss, objective.generator_loss

  def train_step(state: TrainState, x):
    key = jax.random.fold_in(state.key, state.step)
    d_key, g_key = jax.random.split(key)
    metrics = {}
    d_params, d_opt_state = state.d_params, state.d_opt_state
    if critic_loss is not None:

      def critic_update(carry, inputs):
        params, opt_state = carry
        x_i, k_i = inputs
        grads, m = jax.grad(critic_loss, has_aux=True)(params, state.g_params, x_i, k_i)
        updates, opt_state = d_tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), m

      keys = jax.random.split(d_key, x.shape[0])
      (d_params, d_opt_state), m = jax.lax.scan(critic_update, (d_params, d_opt_state), (x, keys))
      metrics.update(jax.tree.map(jnp.mean, m))

    grads, m = jax.grad(generator_loss, has_aux=True)(state.g_params, d_params, x[-1], g_key,
                                                        state.step)
    updates, g_opt_state = g_tx.update(grads, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    metrics.update(m)
    g_ema = state.g_ema
    if ema_decay > 0:
      g_ema = optax.incremental_update(g_params, g_ema, 1.0 - ema_decay)
    new_state = state.replace(
        step=state.step + 1, g_params=g_params, d_params=d_params,
        g_opt_state=g_opt_state, d_opt_state=d_opt_state, g_ema=g_ema,
    )
    return new_state, metrics

  return train_step
