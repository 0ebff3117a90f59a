"""Scalars to TensorBoard event files (tensorboardX, no TensorFlow needed) and
to workdir/metrics.jsonl; images as PNG files; console progress. Only
process 0 writes.
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
from absl import logging
from PIL import Image


def _drop_rows_after(path: str, step: int) -> None:
  """Keeps the rows of metrics.jsonl up to ``step`` (and any unparseable tail is dropped)."""
  kept = []
  with open(path) as f:
    for line in f:
      try:
        row = json.loads(line)
      except json.JSONDecodeError:  # a line cut by a kill -9
        break
      if row.get("step", 0) <= step:
        kept.append(line if line.endswith("\n") else line + "\n")
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.writelines(kept)
  os.replace(tmp, path)


class MetricWriter:

  """Writes a run's scalars and pictures.

  ``resume_step``: the step the run (re)starts from. Rows of an earlier
  attempt after it are dropped from metrics.jsonl (and purged from
  TensorBoard), since the resumed run writes those steps again.
  """

  def __init__(self, workdir: str, *, enabled: bool = True, resume_step: int | None = None):
    self.enabled = enabled
    self.workdir = workdir
    if not enabled:
      return
    from tensorboardX import SummaryWriter

    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    path = os.path.join(workdir, "metrics.jsonl")
    if resume_step is not None and os.path.exists(path):
      _drop_rows_after(path, resume_step)
    purge = resume_step + 1 if resume_step else None
    self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"), purge_step=purge)
    self._jsonl = open(path, "a")

  def write_scalars(self, step: int, scalars: dict) -> None:
    if not self.enabled:
      return
    clean = {k: float(v) for k, v in scalars.items()}
    for k, v in clean.items():
      self._tb.add_scalar(k, v, step)
    # JSON has no NaN/Inf; write them as strings so the line stays parseable.
    row = {k: (v if math.isfinite(v) else str(v)) for k, v in clean.items()}
    self._jsonl.write(json.dumps({"step": int(step), **row}) + "\n")
    self._jsonl.flush()
    self._tb.flush()

  def write_image(self, step: int, name: str, image: np.ndarray) -> str | None:
    """Writes an HxWxC uint8 image to samples/{name}_{step:08d}.png and TensorBoard."""
    if not self.enabled:
      return None
    path = os.path.join(self.workdir, "samples", f"{name}_{step:08d}.png")
    Image.fromarray(image.squeeze() if image.shape[-1] == 1 else image).save(path)
    self._tb.add_image(name, image, step, dataformats="HWC")
    return path

  def close(self) -> None:
    if self.enabled:
      self._tb.close()
      self._jsonl.close()


class Progress:
  """steps/s and ETA for the console."""

  def __init__(self, first_step: int, last_step: int):
    self._start, self._first, self._last = time.time(), first_step, last_step
    self._mark_time, self._mark_step = self._start, first_step

  def steps_per_sec(self, step: int) -> float:
    now = time.time()
    rate = (step - self._mark_step) / max(now - self._mark_time, 1e-9)
    self._mark_time, self._mark_step = now, step
    return rate

  def restart_clock(self, step: int) -> None:
    """Excludes time spent outside training steps (evaluation) from the rate."""
    self._mark_time, self._mark_step = time.time(), step

  def log(self, step: int, rate: float, scalars: dict) -> None:
    eta = (self._last - step) / rate if rate > 0 else float("inf")
    eta_txt = time.strftime("%H:%M:%S", time.gmtime(eta)) if math.isfinite(eta) else "?"
    shown = " ".join(f"{k}={float(v):.4g}" for k, v in sorted(scalars.items()))
    logging.info("step %d/%d | %.1f steps/s | ETA %s | %s", step, self._last, rate, eta_txt, shown)
