"""The FID Inception-v3 in Flax, for CIFAR-10 Inception Score and FID.

This is the network of pytorch-fid's ``FIDInceptionA/C/E_1/E_2`` (the 2015
TensorFlow graph the FID paper used, ported to PyTorch): average pools that
exclude padding, a max pool in the last block and a 1008-way head. It is
inference only: batch norm uses the stored statistics, held as plain params.

sigjax downloads no weights. ``load_fid_inception_weights(path)`` reads an
``.npz`` of {name: numpy array} with pytorch-fid's state-dict names and layouts
(e.g. ``Mixed_5b.branch1x1.conv.weight`` as [out, in, kh, kw],
``fc.weight`` as [1008, 2048]), which is how the widely used
``pt_inception-2015-12-05`` file converts to NumPy
(``python tools/convert_pytorch_fid_weights.py pt_inception-2015-12-05-6726825d.pth
fid_inception.npz``, which needs torch for that one step), in essence:

    state = torch.load("pt_inception-2015-12-05-6726825d.pth", weights_only=True)
    numpy.savez("fid_inception.npz", **{k: v.numpy() for k, v in state.items()})

It is read with ``allow_pickle=False``: a weights file can hold arrays only,
never code (a pickle runs whatever it was made to run when loaded).
"""

from __future__ import annotations

import os
import zipfile
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

INPUT_SIZE = 299  # the graph's input resolution; images are resized to it
POOL_FEATURES = 2048  # FID features: the global average pool
NUM_LOGITS = 1008  # the 2015 graph's head (1000 ImageNet classes + 8 unused), for IS


class FrozenBatchNorm(nn.Module):
  """y = (x - mean) / sqrt(var + eps) * scale + bias, with stored statistics."""

  eps: float = 1e-3

  @nn.compact
  def __call__(self, x):
    c = x.shape[-1]
    scale = self.param("scale", nn.initializers.ones, (c,))
    bias = self.param("bias", nn.initializers.zeros, (c,))
    mean = self.param("mean", nn.initializers.zeros, (c,))
    var = self.param("var", nn.initializers.ones, (c,))
    return (x - mean) * (scale * jax.lax.rsqrt(var + self.eps)) + bias


class BasicConv(nn.Module):
  """Conv (no bias) -> frozen batch norm -> ReLU, named conv / bn like the weights."""

  features: int
  kernel: Sequence[int]
  strides: int = 1
  padding: Sequence[int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    ph, pw = self.padding
    x = nn.Conv(self.features, tuple(self.kernel), strides=self.strides,
                padding=((ph, ph), (pw, pw)), use_bias=False, name="conv")(x)
    return nn.relu(FrozenBatchNorm(name="bn")(x))


def _avg_pool_excluding_padding(x):
  # PyTorch's avg_pool2d(3, 1, 1, count_include_pad=False): border windows
  # average only the pixels that exist.
  summed = nn.pool(x, 0.0, jax.lax.add, (3, 3), (1, 1), ((1, 1), (1, 1)))
  counts = nn.pool(jnp.ones_like(x[:1, ..., :1]), 0.0, jax.lax.add, (3, 3), (1, 1), ((1, 1), (1, 1)))
  return summed / counts


def _max_pool(x, stride, pad=0):
  return nn.max_pool(x, (3, 3), (stride, stride), ((pad, pad), (pad, pad)))


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, (1, 1), name="branch1x1")(x)
    b5 = BasicConv(48, (1, 1), name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_excluding_padding(x))
    return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), strides=2, name="branch3x3")(x)
    bd = BasicConv(64, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), strides=2, name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool(x, 2)], -1)


class InceptionC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c = self.channels_7x7
    b1 = BasicConv(192, (1, 1), name="branch1x1")(x)
    b7 = BasicConv(c, (1, 1), name="branch7x7_1")(x)
    b7 = BasicConv(c, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
    bd = BasicConv(c, (1, 1), name="branch7x7dbl_1")(x)
    bd = BasicConv(c, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
    bd = BasicConv(c, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
    bd = BasicConv(c, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
    bd = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
    bp = BasicConv(192, (1, 1), name="branch_pool")(_avg_pool_excluding_padding(x))
    return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, (1, 1), name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), strides=2, name="branch3x3_2")(b3)
    b7 = BasicConv(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), strides=2, name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool(x, 2)], -1)


class InceptionE(nn.Module):
  """Mixed_7b pools by averaging (excluding padding), Mixed_7c by max: the 2015 graph."""

  max_pool_branch: bool

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(320, (1, 1), name="branch1x1")(x)
    b3 = BasicConv(384, (1, 1), name="branch3x3_1")(x)
    b3 = jnp.concatenate([BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
                          BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)], -1)
    bd = BasicConv(448, (1, 1), name="branch3x3dbl_1")(x)
    bd = BasicConv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate([BasicConv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
                          BasicConv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd)], -1)
    pooled = _max_pool(x, 1, pad=1) if self.max_pool_branch else _avg_pool_excluding_padding(x)
    bp = BasicConv(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], -1)


class FIDInceptionV3(nn.Module):
  """images [B, H, W, 3] in [-1, 1] -> (pool features [B, 2048], logits [B, 1008]).

  Images are resized bilinearly to ``resize_to`` (299 for real scores; tests
  use the smallest valid size, 75, to stay fast).
  """

  resize_to: int = INPUT_SIZE

  @nn.compact
  def __call__(self, images):
    b = images.shape[0]
    x = jax.image.resize(images.astype(jnp.float32), (b, self.resize_to, self.resize_to, 3),
                         "bilinear", antialias=False)
    x = BasicConv(32, (3, 3), strides=2, name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool(x, 2)
    x = BasicConv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool(x, 2)
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    x = InceptionC(128, name="Mixed_6b")(x)
    x = InceptionC(160, name="Mixed_6c")(x)
    x = InceptionC(160, name="Mixed_6d")(x)
    x = InceptionC(192, name="Mixed_6e")(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(False, name="Mixed_7b")(x)
    x = InceptionE(True, name="Mixed_7c")(x)
    features = jnp.mean(x, axis=(1, 2))
    return features, nn.Dense(NUM_LOGITS, name="fc")(features)


_LEAVES = {
    # Flax leaf -> (state-dict suffix, axes taking the state-dict layout to Flax's).
    ("conv", "kernel"): ("conv.weight", (2, 3, 1, 0)),  # [out, in, kh, kw] -> [kh, kw, in, out]
    ("bn", "scale"): ("bn.weight", None),
    ("bn", "bias"): ("bn.bias", None),
    ("bn", "mean"): ("bn.running_mean", None),
    ("bn", "var"): ("bn.running_var", None),
    ("fc", "kernel"): ("fc.weight", (1, 0)),  # [out, in] -> [in, out]
    ("fc", "bias"): ("fc.bias", None),
}


def state_dict_name(path: tuple[str, ...]) -> tuple[str, tuple[int, ...] | None]:
  """('Mixed_5b', 'branch1x1', 'conv', 'kernel') -> ('Mixed_5b.branch1x1.conv.weight', axes)."""
  suffix, axes = _LEAVES[tuple(path[-2:])]
  return ".".join(list(path[:-2]) + [suffix]), axes


def param_shapes() -> dict:
  """The Flax param tree of FIDInceptionV3 as ShapeDtypeStructs (nothing computed)."""
  return jax.eval_shape(FIDInceptionV3().init, jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 3)))


def state_dict_from_params(params) -> dict[str, np.ndarray]:
  """The inverse of ``params_from_state_dict``: Flax params -> {name: array} in that layout."""
  out = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    name, axes = state_dict_name(tuple(k.key for k in path)[1:])
    value = np.asarray(leaf)
    out[name] = value if axes is None else np.transpose(value, np.argsort(axes))
  return out


class InceptionWeightsError(ValueError):
  """The weights file is missing, unreadable, or does not fit the network."""


def params_from_state_dict(state: dict) -> dict:
  """Flax params from {pytorch-fid name: array}; errors name every key that is wrong."""
  shapes = param_shapes()
  flat = jax.tree_util.tree_flatten_with_path(shapes)[0]
  leaves, missing, wrong = [], [], []
  for path, leaf in flat:
    keys = tuple(k.key for k in path)[1:]  # drop the top-level "params"
    name, axes = state_dict_name(keys)
    if name not in state:
      missing.append(name)
      leaves.append(None)
      continue
    value = np.asarray(state[name], np.float32)
    value = value if axes is None else np.transpose(value, axes)
    if value.shape != leaf.shape:
      wrong.append(f"{name}: expected {tuple(leaf.shape)} after layout change, got {value.shape}")
    leaves.append(value)
  if missing or wrong:
    problems = ([f"missing {len(missing)} arrays, e.g. {missing[:5]}"] if missing else []) + wrong[:5]
    raise InceptionWeightsError(
        "These weights do not fit the FID Inception-v3: " + "; ".join(problems)
        + ". Expected pytorch-fid's state-dict names (see sigjax/models/inception.py).")
  return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shapes), leaves)


def load_fid_inception_weights(path: str) -> dict:
  """Reads the ``.npz`` of {name: numpy array} at ``path`` into Flax params.

  Pickles are refused unread (loading one runs code); the error says how to
  convert a pickle you trust.
  """
  path = os.path.expanduser(path)
  if not os.path.isfile(path):
    raise InceptionWeightsError(f"Inception weights {path!r} is not a file (config.evals.<name>.weights).")
  if not zipfile.is_zipfile(path):
    raise InceptionWeightsError(
        f"{path!r} is not an .npz archive. sigjax reads Inception weights from .npz only "
        "(numpy.savez), never from a pickle, which runs code when loaded. To convert a "
        "pickle of {name: array} that you trust: python -c \"import pickle, numpy; "
        f"numpy.savez('fid_inception.npz', **pickle.load(open('{os.path.basename(path)}', 'rb')))\"")
  try:
    with np.load(path, allow_pickle=False) as archive:
      state = {name: archive[name] for name in archive.files}
  except ValueError as e:  # an object array inside: it would need pickle
    raise InceptionWeightsError(f"{path!r} holds non-numeric arrays ({e}); expected numbers "
                                "only.") from e
  return params_from_state_dict(state)
