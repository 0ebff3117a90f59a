"""Runs a paper table (configs x seeds) and writes it as Markdown, with pictures.

  python -m experiments.reproduce --table=grid --seeds=0,1,2 --outdir=results/grid

Each run is an ordinary train_and_evaluate in OUTDIR/CONFIG/seedS, so an
interrupted reproduction resumes where it stopped. Extra --set key=value pairs
override every config (e.g. --set num_steps=2000 for a smaller scale).
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
from absl import app, flags, logging

from experiments.cli_logging import quiet_library_logs
from experiments.config_cli import load_config_file, set_by_path, unknown_key_message
from sigjax.training import train_and_evaluate

TABLES = {
    "grid": [("GAN", "gmm_gan.py"), ("SIG", "gmm_sig.py"), ("GAN-SI", "gmm_gansi.py")],
    "stacked_mnist": [("DCGAN(S)", "stacked_mnist_dcgan.py:S"), ("DCGAN-SI(S)", "stacked_mnist_dcgan_si.py:S"),
                      ("DCGAN(M)", "stacked_mnist_dcgan.py:M"), ("DCGAN-SI(M)", "stacked_mnist_dcgan_si.py:M")],
    "cifar10": [("DCGAN", "cifar10_dcgan.py"), ("DCGAN-SI", "cifar10_dcgan_si.py"),
                ("WGAN-GP", "cifar10_wgangp.py"), ("WGAN-GP-SI", "cifar10_wgangp_si.py")],
}

flags.DEFINE_enum("table", "grid", list(TABLES), "Which table to reproduce.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
flags.DEFINE_string("outdir", None, "Output directory.", required=True)
flags.DEFINE_multi_string("set", [], "key=value overrides applied to every config.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def apply_overrides(config, pairs):
  """Applies 'key=value' strings; values parse as JSON unless the field is a string."""
  for pair in pairs:
    key, _, text = pair.partition("=")
    message = unknown_key_message(config, key)
    if message:
      raise ValueError(message)
    current = config
    for part in key.split("."):
      current = current[part]
    set_by_path(config, key, text if isinstance(current, str) else type(current)(json.loads(text)))
  return config


def markdown_table(results: dict[str, list[dict]]) -> str:
  keys = sorted({k for runs in results.values() for r in runs for k in r if k.startswith("eval/")})
  lines = ["| model | " + " | ".join(k[5:] for k in keys) + " | seeds |",
           "|---" * (len(keys) + 2) + "|"]
  for label, runs in results.items():
    cells = []
    for k in keys:
      vals = np.array([r[k] for r in runs if k in r], float)
      cells.append(f"{vals.mean():.3g} ± {vals.std():.2g}" if len(vals) else "n/a")
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


def main(argv):
  del argv
  quiet_library_logs()
  os.makedirs(FLAGS.outdir, exist_ok=True)
  results, pictures = {}, []
  for label, spec in TABLES[FLAGS.table]:
    results[label] = []
    for seed in map(int, FLAGS.seeds):
      config = apply_overrides(load_config_file(os.path.join(ROOT, "configs", spec)), FLAGS.set)
      config.seed = seed
      workdir = os.path.join(FLAGS.outdir, spec.replace(".py", "").replace(":", "_"), f"seed{seed}")
      logging.info("=== %s seed %d -> %s", label, seed, workdir)
      train_and_evaluate(config, workdir)
      with open(os.path.join(workdir, "final_metrics.json")) as f:
        results[label].append(json.load(f))
      last = sorted(glob.glob(os.path.join(workdir, "samples", "*.png")))
      if seed == int(FLAGS.seeds[0]) and last:
        pictures.append(last[-1])
  table = markdown_table(results)
  with open(os.path.join(FLAGS.outdir, "table.md"), "w") as f:
    f.write(table)
  if pictures:
    side_by_side(pictures, os.path.join(FLAGS.outdir, "samples.png"))
  print(table)


if __name__ == "__main__":
  app.run(main)
