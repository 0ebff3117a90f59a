"""Theorem 1, numerically: closed form vs the optimum of objective (2).

  python -m experiments.theorem1 --outdir=results/theorem1

Sweeps the share of a minority mode (K = 3 modes, the other two split the
rest evenly) for several u/v, and compares Theorem 1's closed form, the
simplex (KKT) solution and scipy's minimiser of objective (2). Writes
table.md and a plot of the minority mode's assigned fraction.
"""

from __future__ import annotations

import os

import numpy as np
from absl import app, flags
from scipy.optimize import minimize

from sigjax.theory import activation_threshold, assignment_objective, optimal_assignment

flags.DEFINE_string("outdir", None, "Output directory.", required=True)
FLAGS = flags.FLAGS


def scipy_optimum(n, u, v):
  k = len(n)
  res = minimize(lambda f: assignment_objective(f, n, u, v) if np.all(f > 0) else
                 -np.sum(np.asarray(n) / np.sum(n) * np.log(f * u + (1 - f) * v)),
                 np.full(k, 1 / k), method="SLSQP", bounds=[(0, 1)] * k,
                 constraints=[{"type": "eq", "fun": lambda f: f.sum() - 1}],
                 options={"ftol": 1e-14, "maxiter": 500})
  return res.x


def main(argv):
  del argv
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  os.makedirs(FLAGS.outdir, exist_ok=True)
  N, shares = 1000, np.linspace(0.01, 0.5, 50)
  rows = ["| u/v | minority share | threshold share | closed form | simplex (KKT) | scipy |",
          "|---|---|---|---|---|---|"]
  fig, ax = plt.subplots(figsize=(5, 4), dpi=110)
  max_gap, worst_objective_gap = 0.0, -np.inf
  for ratio in (1.5, 3.0, 10.0, 100.0):
    u, v = 1.0, 1.0 / ratio
    closed, kkt, num = [], [], []
    for s in shares:
      n = np.array([N * s, N * (1 - s) / 2, N * (1 - s) / 2])
      closed.append(optimal_assignment(n, u, v)[0])
      kkt.append(optimal_assignment(n, u, v, nonnegative=True)[0])
      f_num = scipy_optimum(n, u, v)
      num.append(f_num[0])
      worst_objective_gap = max(worst_objective_gap, assignment_objective(
          optimal_assignment(n, u, v, nonnegative=True), n, u, v) - assignment_objective(
              np.maximum(f_num, 1e-300), n, u, v))
    max_gap = max(max_gap, float(np.max(np.abs(np.array(kkt) - np.array(num)))))
    t = activation_threshold(N, 3, u, v) / N
    line = ax.plot(shares, kkt, label=f"u/v={ratio:g}")[0]
    ax.plot(shares, closed, ls=":", c=line.get_color())
    ax.axvline(t, ls="--", lw=0.6, c=line.get_color())
    for i in (0, 9, 24, 49):
      rows.append(f"| {ratio:g} | {shares[i]:.2f} | {t:.3f} | {closed[i]:.4f} | {kkt[i]:.4f} | {num[i]:.4f} |")
  ax.plot(shares, shares, c="k", lw=0.5, label="data share")
  ax.set(xlabel="minority mode's data share n_k/N", ylabel="its generated share m_k*/M",
         title="Theorem 1: solid = simplex optimum, dotted = closed form")
  ax.title.set_fontsize(9)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(FLAGS.outdir, "theorem1.png"))
  rows.append(f"\nMax |simplex - scipy| minority fraction over the sweep: {max_gap:.2e}; "
              f"max J(simplex) - J(scipy): {worst_objective_gap:.2e} (<= 0: the closed-form "
              "KKT solution is never worse than scipy's)")
  with open(os.path.join(FLAGS.outdir, "table.md"), "w") as f:
    f.write("\n".join(rows) + "\n")
  print("\n".join(rows))


if __name__ == "__main__":
  app.run(main)
