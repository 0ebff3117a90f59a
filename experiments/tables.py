"""Shared by reproduce.py and sweep.py: overrides from strings, Markdown tables, pictures."""

from __future__ import annotations

import itertools
import json

import numpy as np

from experiments.config_cli import get_by_path, set_by_path


def apply_overrides(config, pairs):
  """Applies 'key=value' strings; values parse as JSON unless the field is a string."""
  for pair in pairs:
    key, _, text = pair.partition("=")
    try:
      current = get_by_path(config, key)
    except KeyError as e:
      raise ValueError(e.args[0]) from None
    set_by_path(config, key, text if isinstance(current, str) else type(current)(json.loads(text)))
  return config


def _number(x: float, digits: int) -> str:
  # Whole numbers above 100 (mode counts) in full, not as 1e+03.
  return f"{x:.0f}" if abs(x) >= 100 else f"{x:.{digits}g}"


def markdown_table(results: dict[str, list[dict]], columns: list[str] | None = None) -> str:
  """One row per label: mean ± std over its runs of each "eval/..." metric.

  ``columns`` orders the metrics (names without "eval/"); by default all
  metrics found, sorted.
  """
  found = sorted({k[5:] for runs in results.values() for r in runs for k in r
                  if k.startswith("eval/")})
  keys = list(columns) if columns else found
  lines = ["| model | " + " | ".join(keys) + " | seeds |", "|---" * (len(keys) + 2) + "|"]
  for label, runs in results.items():
    cells = []
    for k in keys:
      vals = np.array([r[f"eval/{k}"] for r in runs if f"eval/{k}" in r], float)
      cells.append(f"{_number(vals.mean(), 3)} ± {_number(vals.std(), 2)}" if len(vals) else "n/a")
    lines.append(f"| {label} | " + " | ".join(cells) + f" | {len(runs)} |")
  return "\n".join(lines) + "\n"


def side_by_side(paths: list[str], out: str) -> None:
  from PIL import Image

  images = [Image.open(p).convert("RGB") for p in paths]
  canvas = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)), "white")
  x = 0
  for image in images:
    canvas.paste(image, (x, 0))
    x += image.width
  canvas.save(out)


def combinations(grid: list[str]) -> list[list[str]]:
  """['a=1,2', 'b=x'] -> [['a=1', 'b=x'], ['a=2', 'b=x']]."""
  axes = []
  for item in grid:
    key, sep, values = item.partition("=")
    if not sep or not values:
      raise ValueError(f"--grid expects key=v1,v2,..., got {item!r}.")
    axes.append([f"{key}={v}" for v in values.split(",")])
  return [list(c) for c in itertools.product(*axes)]
