"""Runs a paper table (configs x seeds) and writes it as Markdown, with pictures.

  python -m experiments.reproduce --table=grid --seeds=0,1,2 --outdir=results/grid
  python -m experiments.reproduce --table=stacked_mnist --rows='DCGAN(M),DCGAN-SI(M)' --outdir=DIR

Each run is an ordinary train_and_evaluate in OUTDIR/CONFIG/seedS, so an
interrupted reproduction resumes where it stopped. Extra --set key=value pairs
override every config (e.g. --set num_steps=2000 for a smaller scale).
--table=stacked_mnist first trains the MNIST classifier that scores it when
its workdir (evals.stacked_mnist.classifier_workdir) holds no finished one.
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
from absl import app, flags, logging

from experiments import host_memory
from experiments.cli_logging import quiet_library_logs
from experiments.config_cli import load_config_file
from experiments.tables import apply_overrides, markdown_table, side_by_side
from sigjax.training import train_and_evaluate

TABLES = {
    "grid": [("GAN", "gmm_gan.py"), ("SIG", "gmm_sig.py"), ("GAN-SI", "gmm_gansi.py")],
    "stacked_mnist": [(f"DCGAN{si}({size})", f"stacked_mnist_dcgan{si.lower().replace('-', '_')}.py:{size}")
                      for size in "SML" for si in ("", "-SI")],
    "cifar10": [("DCGAN", "cifar10_dcgan.py"), ("DCGAN-SI", "cifar10_dcgan_si.py"),
                ("WGAN-GP", "cifar10_wgangp.py"), ("WGAN-GP-SI", "cifar10_wgangp_si.py")],
}

# The seed's column order per table (metric names without "eval/").
COLUMNS = {
    "grid": ["modes", "high_quality", "reverse_kl", "modes_with_mass"],
    "stacked_mnist": ["inception_score", "high_quality", "exp_h_y_given_x", "exp_h_y", "modes", "kl",
                      "high_quality_samples", "modes_high_quality"],
    "cifar10": ["inception_score", "inception_score_std", "fid"],
}

flags.DEFINE_enum("table", "grid", list(TABLES), "Which table to reproduce.")
flags.DEFINE_list("rows", [], "Labels of the rows to run (default: all of the table's).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
flags.DEFINE_string("outdir", None, "Output directory.", required=True)
flags.DEFINE_multi_string("set", [], "key=value overrides applied to every config.")
flags.DEFINE_multi_string("classifier_set", [], "key=value overrides for the MNIST classifier that "
                          "--table=stacked_mnist trains first when its workdir has none.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _classifier_workdir(config) -> str:
  workdir = config.evals.stacked_mnist.classifier_workdir
  if not workdir:
    raise ValueError("The Stacked-MNIST table needs config.evals.stacked_mnist.classifier_workdir "
                     "(--set evals.stacked_mnist.classifier_workdir=DIR).")
  return os.path.expanduser(workdir)


def real_stacked_mnist_row(config) -> dict:
  """The Stacked-MNIST columns of real data, scored like generated samples.

  It calibrates the table: the classifier's high-quality fraction and
  exp H(y|x) on real digits, and modes / KL of as many real triples as the
  stacked_mnist evaluator scores.
  """
  from sigjax.data import make_dataset
  from sigjax.evaluation.evaluators import load_stacked_mnist_scorer

  options = config.evals.stacked_mnist
  scorer = load_stacked_mnist_scorer(_classifier_workdir(config),
                                     high_quality_threshold=options.high_quality_threshold,
                                     batch_size=config.eval_batch_size)
  data = make_dataset(config.data, global_batch_size=config.eval_batch_size, seed=config.seed)
  images = np.concatenate([b["x"] for b in data.take(options.num_samples)])
  return {f"eval/{k}": v for k, v in scorer(images).items()}


def ensure_mnist_classifier(config, classifier) -> bool:
  """Trains the Stacked-MNIST scorer (the ``classifier`` config, e.g.
  configs/mnist_classifier.py) into config.evals.stacked_mnist.classifier_workdir
  unless a finished one is there, reading MNIST from the same data_dir as the
  Stacked-MNIST runs. Returns whether it trained."""
  workdir = _classifier_workdir(config)
  if os.path.exists(os.path.join(workdir, "final_metrics.json")):
    return False
  classifier.data.data_dir = config.data.data_dir
  logging.info("=== MNIST classifier (the Stacked-MNIST scorer) -> %s", workdir)
  train_and_evaluate(classifier, workdir)
  return True


def main(argv):
  del argv
  quiet_library_logs()
  os.makedirs(FLAGS.outdir, exist_ok=True)
  rows = [(label, spec) for label, spec in TABLES[FLAGS.table] if not FLAGS.rows or label in FLAGS.rows]
  unknown = set(FLAGS.rows) - {label for label, _ in TABLES[FLAGS.table]}
  if unknown:
    raise ValueError(f"--rows {sorted(unknown)} are not rows of table {FLAGS.table!r}: "
                     f"{[label for label, _ in TABLES[FLAGS.table]]}.")
  logging.info("%s", host_memory.setup(
      [apply_overrides(load_config_file(os.path.join(ROOT, "configs", spec)), FLAGS.set)
       for _, spec in rows]))
  results, pictures = {}, []
  if FLAGS.table == "stacked_mnist":
    # Computed once per OUTDIR (minutes of decoding and classifying), like the runs.
    cached = os.path.join(FLAGS.outdir, "real_data_metrics.json")
    config = apply_overrides(load_config_file(os.path.join(ROOT, "configs", rows[0][1])), FLAGS.set)
    ensure_mnist_classifier(config, apply_overrides(
        load_config_file(os.path.join(ROOT, "configs", "mnist_classifier.py")), FLAGS.classifier_set))
    if not os.path.exists(cached):
      with open(cached, "w") as f:
        json.dump(real_stacked_mnist_row(config), f, indent=2)
    with open(cached) as f:
      results["real data"] = [json.load(f)]
  for label, spec in rows:
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
  table = markdown_table(results, COLUMNS[FLAGS.table])
  with open(os.path.join(FLAGS.outdir, "table.md"), "w") as f:
    f.write(table)
  if pictures:
    side_by_side(pictures, os.path.join(FLAGS.outdir, "samples.png"))
  print(table)


if __name__ == "__main__":
  app.run(main)
