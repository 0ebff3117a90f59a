"""Builds (generator, discriminator) from ``config.model``."""

import ml_collections

from sigjax.models import dcgan, mlp

ARCHITECTURES = ("mlp", "dcgan28", "dcgan32")


def make_models(config: ml_collections.ConfigDict, example_shape):
  """Returns (generator, discriminator) flax modules for ``config.model``."""
  m = config.model
  if m.arch == "mlp":
    out_dim = 1
    for s in example_shape:
      out_dim *= s
    hidden = tuple(m.hidden)
    d_hidden = tuple(m.get("d_hidden") or hidden)
    init_std = float(m.get("init_std", 0.0))
    if m.d_norm != "none":
      raise ValueError("model.d_norm must be 'none' for arch 'mlp' (its discriminator has "
                       "no normalisation); use model.maxout_pieces to change its units.")
    return (mlp.MLPGenerator(out_dim, hidden, norm=m.g_norm, init_std=init_std),
            mlp.MLPDiscriminator(d_hidden, maxout_pieces=int(m.get("maxout_pieces", 1)),
                                 init_std=init_std))
  if m.arch == "dcgan28":
    if m.size not in dcgan.DISCRIMINATOR_CHANNELS:
      raise ValueError(f"model.size must be one of S/M/L, got {m.size!r}.")
    return (
        dcgan.MnistGenerator(channels=example_shape[-1], norm=m.g_norm),
        dcgan.MnistDiscriminator(dcgan.DISCRIMINATOR_CHANNELS[m.size], norm=m.d_norm),
    )
  if m.arch == "dcgan32":
    return (dcgan.CifarGenerator(m.dim, norm=m.g_norm), dcgan.CifarDiscriminator(m.dim, norm=m.d_norm))
  raise ValueError(f"unknown model.arch {m.arch!r}; choose from {ARCHITECTURES}.")
