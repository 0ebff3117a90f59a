"""A workdir belongs to one run: its config is checked before anything is
written, and a lock file keeps a second live run out.

``config.json`` in the workdir is the run's identity. A rerun resumes only
when its config equals the stored one except for RESUMABLE keys (how long
and how often: steps, cadences, evaluation options, device count, where the
data lives; not the steps when a schedule of them, ``SCHEDULES``, is set). Anything else (the objective, the model, the seed, the data,
the learning rate) would silently continue another experiment's weights, so
it stops with the differing keys listed, unless the caller passes
``allow_config_change=True`` (``--allow_config_change`` on the command line).
"""

from __future__ import annotations

import fcntl
import json
import os

from absl import logging

# Dotted keys (or prefixes ending in ".") a rerun may change and still resume.
RESUMABLE = ("num_steps", "log_every", "eval_every", "checkpoint_every", "keep_checkpoints",
             "eval_batch_size", "num_devices", "evals.", "test_examples", "data.data_dir")


class WorkdirConfigMismatch(ValueError):
  """The workdir holds another run: its config differs in keys that change the run."""


class WorkdirLocked(RuntimeError):
  """Another live process is running in this workdir."""


def flatten(tree, prefix: str = "") -> dict:
  """{"a.b": value} for a nested dict."""
  out = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      out.update(flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


# Fields added after runs were recorded, with the value that means "as before":
# a stored config without the key reads as that value, so adding a field does
# not lock every earlier workdir out.
ADDED_LATER = {"optim.lr_final_fraction": 1.0, "objective.si_num_samples": 0,
               "objective.si_weight_final_fraction": 1.0,
               "objective.si_scale_final_fraction": 1.0, "objective.min_scale": 0.0}
# Fields that, away from 1, make a schedule of num_steps.
SCHEDULES = ("optim.lr_final_fraction", "objective.si_weight_final_fraction",
             "objective.si_scale_final_fraction")


def _resumable(key: str) -> bool:
  return any(key == r or (r.endswith(".") and key.startswith(r)) for r in RESUMABLE)


def config_differences(stored: dict, current: dict) -> list[str]:
  """Keys (dotted, of flattened configs) whose values differ or exist on one side
  only, resumable ones left out."""
  # JSON turns tuples into lists: compare both through JSON.
  norm = lambda v: json.loads(json.dumps(v))
  stored = {**{k: v for k, v in ADDED_LATER.items() if k in current}, **stored}
  differs = lambda k: k not in stored or k not in current or norm(stored[k]) != norm(current[k])
  # A schedule (learning rate, lambda, kernel std) is a function of num_steps:
  # changing it would change the values of the steps already taken.
  decays = any(c.get(k, 1.0) != 1.0 for c in (stored, current) for k in SCHEDULES)
  return sorted(k for k in set(stored) | set(current)
                if differs(k) and (not _resumable(k) or (k == "num_steps" and decays)))


def check_config(workdir: str, config_json: str, *, allow_config_change: bool = False) -> None:
  """Raises WorkdirConfigMismatch when ``workdir`` holds a run of another config.

  Writes nothing: call it before anything touches the workdir.
  """
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    return
  with open(path) as f:
    stored = flatten(json.load(f))
  current = flatten(json.loads(config_json))
  differing = config_differences(stored, current)
  if not differing:
    return
  shown = ", ".join(f"{k} ({stored.get(k, 'absent')!r} -> {current.get(k, 'absent')!r})"
                    for k in differing[:8])
  more = f" and {len(differing) - 8} more" if len(differing) > 8 else ""
  if allow_config_change:
    logging.warning("Resuming %s with a changed config (allowed): %s%s", workdir, shown, more)
    return
  raise WorkdirConfigMismatch(
      f"{workdir} holds a run of another config: {shown}{more}. Use a new --workdir, or pass "
      f"--allow_config_change to continue this run's weights under the new config.")


def write_config(workdir: str, config_json: str) -> None:
  os.makedirs(workdir, exist_ok=True)
  tmp = os.path.join(workdir, "config.json.tmp")
  with open(tmp, "w") as f:
    f.write(config_json)
  os.replace(tmp, os.path.join(workdir, "config.json"))  # never a half-written identity


class WorkdirLock:
  """An exclusive lock on workdir/.lock for the life of a run.

  flock is released by the kernel when the process dies, so a kill -9 leaves
  no stale lock behind.
  """

  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, ".lock")
    self._file = None

  def __enter__(self):
    os.makedirs(os.path.dirname(self.path), exist_ok=True)
    self._file = open(self.path, "a+")
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      self._file.seek(0)
      owner = self._file.read().strip() or "unknown"
      self._file.close()
      raise WorkdirLocked(f"Another run (pid {owner}) is using {os.path.dirname(self.path)}; "
                          "wait for it to finish or use another --workdir.") from None
    self._file.seek(0)
    self._file.truncate()
    self._file.write(str(os.getpid()))
    self._file.flush()
    return self

  def __exit__(self, *exc):
    fcntl.flock(self._file, fcntl.LOCK_UN)
    self._file.close()
