"""Checks sigjax's Flax FID Inception-v3 against pytorch-fid's, layer for layer.

Not a unit test: it needs PyTorch, torchvision and pytorch-fid, which sigjax
does not depend on. No weights are downloaded: pytorch-fid's network is built
with random weights (random batch-norm statistics too), exported with
pytorch-fid's state-dict names, loaded by ``load_fid_inception_weights`` and
both networks are run on the same images.

  pip install torch torchvision pytorch-fid && pip install -e .
  python tools/check_inception_against_pytorch_fid.py
"""

from __future__ import annotations

import os
import sys
import tempfile

import jax
import numpy as np
import torch
from pytorch_fid import inception as pt

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sigjax.models.inception import FIDInceptionV3, load_fid_inception_weights  # noqa: E402


def pytorch_fid_network_with_random_weights(seed: int = 0) -> torch.nn.Module:
  """pytorch-fid's fid_inception_v3(), minus the weight download."""
  torch.manual_seed(seed)
  net = pt._inception_v3(num_classes=1008, aux_logits=False, weights=None)
  net.Mixed_5b = pt.FIDInceptionA(192, pool_features=32)
  net.Mixed_5c = pt.FIDInceptionA(256, pool_features=64)
  net.Mixed_5d = pt.FIDInceptionA(288, pool_features=64)
  net.Mixed_6b = pt.FIDInceptionC(768, channels_7x7=128)
  net.Mixed_6c = pt.FIDInceptionC(768, channels_7x7=160)
  net.Mixed_6d = pt.FIDInceptionC(768, channels_7x7=160)
  net.Mixed_6e = pt.FIDInceptionC(768, channels_7x7=192)
  net.Mixed_7b = pt.FIDInceptionE_1(1280)
  net.Mixed_7c = pt.FIDInceptionE_2(2048)
  generator = torch.Generator().manual_seed(seed)
  for module in net.modules():  # non-trivial batch-norm statistics, so they are checked too
    if isinstance(module, torch.nn.BatchNorm2d):
      n = module.num_features
      module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
      module.running_var.copy_(0.5 + torch.rand(n, generator=generator))
      module.weight.data.copy_(0.5 + torch.rand(n, generator=generator))
      module.bias.data.copy_(0.1 * torch.randn(n, generator=generator))
  return net.eval()


def pytorch_features_and_logits(net, images_nhwc: np.ndarray):
  """pytorch-fid's forward: bilinear resize to 299, the blocks, pool, then fc."""
  x = torch.from_numpy(np.transpose(images_nhwc, (0, 3, 1, 2)).copy())
  with torch.no_grad():
    x = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                 "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
                 "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
      x = getattr(net, name)(x)
    features = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
    logits = net.fc(features)
  return features.numpy(), logits.numpy()


def main():
  net = pytorch_fid_network_with_random_weights()
  images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 3)).astype(np.float32)
  ref_features, ref_logits = pytorch_features_and_logits(net, images)
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "weights.npz")
    np.savez(path, **{k: v.numpy() for k, v in net.state_dict().items()})
    params = load_fid_inception_weights(path)
  features, logits = map(np.asarray, jax.jit(FIDInceptionV3().apply)(params, images))
  rel = lambda a, b: float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
  print("| output | shape | max abs value | max |flax - pytorch| / max |pytorch| |")
  print("|---|---|---|---|")
  print(f"| pool features | {features.shape} | {np.abs(ref_features).max():.3g} | {rel(features, ref_features):.2e} |")
  print(f"| logits | {logits.shape} | {np.abs(ref_logits).max():.3g} | {rel(logits, ref_logits):.2e} |")
  assert rel(features, ref_features) < 1e-4 and rel(logits, ref_logits) < 1e-4, "networks differ"


if __name__ == "__main__":
  main()
