"""Converts pytorch-fid's FID Inception weights (.pth) to the .npz sigjax reads.

  pip install torch  # only for this conversion; sigjax never needs it
  python tools/convert_pytorch_fid_weights.py pt_inception-2015-12-05-6726825d.pth fid_inception.npz

The .pth is read with ``torch.load(weights_only=True)``, which loads tensors
only and refuses pickled code; the arrays are checked against the network's
names and shapes before the .npz is written, and the .npz is then read back
the way training reads it (``allow_pickle=False``).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sigjax.models.inception import load_fid_inception_weights, params_from_state_dict  # noqa: E402


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("source", help="pytorch-fid .pth (e.g. pt_inception-2015-12-05-6726825d.pth)")
  parser.add_argument("target", help="the .npz to write")
  args = parser.parse_args()
  import torch

  state = torch.load(args.source, map_location="cpu", weights_only=True)
  state = state.get("state_dict", state)
  arrays = {name: tensor.detach().cpu().numpy() for name, tensor in state.items()}
  params_from_state_dict(arrays)  # raises naming every missing / misshapen key
  np.savez(args.target, **arrays)
  load_fid_inception_weights(args.target)
  print(f"wrote {args.target}: {len(arrays)} arrays; use --config.evals.inception.weights="
        f"{args.target}")


if __name__ == "__main__":
  main()
