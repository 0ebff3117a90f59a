"""Supervised training of the MNIST classifier (config.task = "classifier").

It shares the mesh, data, checkpoint and metric plumbing of the GAN loop; the
saved params (workdir/checkpoints) are what the Stacked-MNIST evaluator loads
(sigjax.evaluation.classifier_checkpoint). Its config (configs/mnist_classifier.py)
has its own sections: optim.lr / b1 / b2, test_examples, eval_batch_size.
"""

from __future__ import annotations


import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec as P

from sigjax.data import make_dataset
from sigjax.models import MnistClassifier
from sigjax.training.checkpoints import Checkpointer
from sigjax.training.loop import run_loop
from sigjax.training.metrics_writer import MetricWriter


@flax.struct.dataclass
class ClassifierState:
  step: jax.Array
  params: dict
  opt_state: optax.OptState


@jax.jit
def _predict(params, images):
  # Module level, so repeated evaluations reuse one compilation.
  return jnp.argmax(MnistClassifier().apply(params, images), -1)


def accuracy(params, images, labels, *, batch_size=1000) -> float:
  correct = 0
  for i in range(0, len(images), batch_size):
    correct += int(np.sum(np.asarray(_predict(params, images[i:i + batch_size])) == labels[i:i + batch_size]))
  return correct / len(images)


def make_classifier_step(model, tx):
  """Returns step(state, x, y) -> (state, {"loss"}): one softmax cross-entropy update."""

  def step(state: ClassifierState, x, y):
    def loss_fn(p):
      return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, x), y).mean()

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    new = ClassifierState(state.step + 1, optax.apply_updates(state.params, updates), opt_state)
    return new, {"loss": loss}

  return step


def train_classifier(config, workdir: str, mesh) -> ClassifierState:
  model = MnistClassifier()
  tx = optax.adam(config.optim.lr, b1=config.optim.b1, b2=config.optim.b2)
  train = make_dataset(config.data, global_batch_size=config.batch_size, seed=config.seed,
                       process_index=jax.process_index(), process_count=jax.process_count())
  test = make_dataset(config.data, global_batch_size=config.eval_batch_size, seed=config.seed,
                      split="test")
  params = model.init(jax.random.PRNGKey(config.seed), jnp.zeros((1,) + train.example_shape))
  state = ClassifierState(jnp.asarray(0, jnp.int32), params, tx.init(params))
  replicated = NamedSharding(mesh, P())
  batch_sharding = NamedSharding(mesh, P("data"))
  checkpointer = Checkpointer(workdir, keep=config.keep_checkpoints)
  state = checkpointer.restore_latest_or(state, replicated)

  step_fn = jax.jit(make_classifier_step(model, tx))

  def step_inputs(step):
    b = train.batch(step)
    return (jax.make_array_from_process_local_data(batch_sharding, b["x"]),
            jax.make_array_from_process_local_data(batch_sharding, b["label"]))

  def evaluate_state(state, step):
    del step
    batches = list(test.take(config.test_examples))
    return {"eval/test_accuracy": accuracy(
        state.params, np.concatenate([b["x"] for b in batches]),
        np.concatenate([b["label"] for b in batches]))}

  writer = MetricWriter(workdir, enabled=jax.process_index() == 0, resume_step=int(state.step))
  return run_loop(state, workdir=workdir, num_steps=config.num_steps, log_every=config.log_every,
                  checkpoint_every=config.checkpoint_every,
                  eval_due=lambda step: step % config.eval_every == 0, train_step=step_fn,
                  step_inputs=step_inputs, evaluate_state=evaluate_state,
                  checkpointer=checkpointer, writer=writer)
