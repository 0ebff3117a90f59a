"""Command-line config overrides that fail with the list of valid keys."""

from __future__ import annotations

import importlib.util
import os
import sys

import ml_collections


def load_config_file(spec: str) -> ml_collections.ConfigDict:
  """Loads 'path/to/config.py[:arg]' the way ml_collections' config_flags does."""
  path, _, arg = spec.partition(":")
  module_spec = importlib.util.spec_from_file_location("_sigjax_config", path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg) if arg else module.get_config()


def unknown_key_message(config: ml_collections.ConfigDict, dotted: str) -> str | None:
  """Describes the first unknown component of ``dotted`` in ``config``, if any."""
  node, seen = config, []
  for part in dotted.split("."):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      where = ".".join(seen) or "the top level"
      valid = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
      return (f"unknown config key '{dotted}': '{part}' is not a field of {where}. "
              f"Valid keys there: {', '.join(valid)}.")
    node = node[part]
    seen.append(part)
  return None


def get_by_path(config: ml_collections.ConfigDict, dotted: str):
  """config[a][b][c] for dotted 'a.b.c'; an unknown key raises KeyError with the valid ones."""
  message = unknown_key_message(config, dotted)
  if message:
    raise KeyError(message)
  node = config
  for part in dotted.split("."):
    node = node[part]
  return node


def set_by_path(config: ml_collections.ConfigDict, dotted: str, value, *,
                missing_ok: bool = False) -> None:
  """config[a][b][c] = value for dotted 'a.b.c'; an unknown key raises with the valid ones.

  With ``missing_ok``, a key the config does not have is skipped instead
  (for shared overrides that only some configs know).
  """
  message = unknown_key_message(config, dotted)
  if message:
    if missing_ok:
      return
    raise KeyError(message)
  parent, _, leaf = dotted.rpartition(".")
  (get_by_path(config, parent) if parent else config)[leaf] = value


def parse_flags_or_explain(flags_module, argv):
  """A flags_parser for absl.app.run: a missing config file or a bad --config.x.y
  override exits with a one-line message."""
  spec = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  if spec is not None and not os.path.isfile(spec.partition(":")[0]):
    sys.exit(f"error: config file {spec.partition(':')[0]!r} does not exist "
             f"(--config=path/to/config.py[:arg]).")
  try:
    return flags_module.FLAGS(argv)
  except (AttributeError, KeyError, flags_module.Error) as error:
    spec = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    overrides = [a[len("--config."):].split("=", 1)[0] for a in argv if a.startswith("--config.")]
    if spec is not None:
      config = load_config_file(spec)
      for key in overrides:
        message = unknown_key_message(config, key)
        if message:
          sys.exit(f"error: {message}")
    sys.exit(f"error: {error}")
