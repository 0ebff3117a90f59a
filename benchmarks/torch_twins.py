"""PyTorch twins of sigjax's models and train steps, for benchmarks/vs_torch.py only.

Each twin is the same architecture (layer sizes, kernel sizes, strides, bias
and batch-norm placement), optimiser (Adam with the config's lr, betas and
eps 1e-8), batch and step as the sigjax config it is built from:

* GAN rows: n_critic critic updates (each on its own real batch, generator
  samples made without a graph), then one generator update through a frozen
  discriminator, then the generator's EMA when the config keeps one.
  Non-saturating loss for ``gan``; WGAN loss + gp_weight * gradient penalty
  (double backward) for ``wgan_gp``.
* The MNIST classifier: one softmax cross-entropy Adam update.

Written the way a careful PyTorch user writes them (eager mode, NCHW,
``zero_grad(set_to_none=True)``, no discriminator weight gradients in the
generator update), so the comparison is against good eager PyTorch.
PyTorch is the ``bench`` extra; nothing in sigjax imports this file.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


def _norm(kind, features, batch_norm=nn.BatchNorm2d):
  # sigjax's BatchStatNorm: the current batch's statistics only, eps 1e-5.
  if kind == "batch":
    return batch_norm(features, eps=1e-5, track_running_stats=False)
  if kind == "none":
    return nn.Identity()
  raise ValueError(f"the PyTorch twins support norm 'batch' or 'none', not {kind!r}")


class _Maxout(nn.Module):
  def __init__(self, fan_in, width, pieces):
    super().__init__()
    self.linear, self.width, self.pieces = nn.Linear(fan_in, width * pieces), width, pieces

  def forward(self, x):
    # Features grouped (width, pieces) as sigjax's MLPDiscriminator reshapes them.
    return self.linear(x).view(x.shape[0], self.width, self.pieces).amax(-1)


def mlp_pair(m, out_dim):
  g_layers, fan_in = [], m.z_dim
  for width in m.hidden:
    g_layers += [nn.Linear(fan_in, width, bias=m.g_norm == "none"),
                 _norm(m.g_norm, width, nn.BatchNorm1d), nn.ReLU()]
    fan_in = width
  generator = nn.Sequential(*g_layers, nn.Linear(fan_in, out_dim))
  d_layers, fan_in = [], out_dim
  for width in m.d_hidden:
    if m.maxout_pieces > 1:
      d_layers.append(_Maxout(fan_in, width, m.maxout_pieces))
    else:
      d_layers += [nn.Linear(fan_in, width), nn.ReLU()]
    fan_in = width
  return generator, nn.Sequential(*d_layers, nn.Linear(fan_in, 1), nn.Flatten(0))


def _deconv(cin, cout, kernel, stride, bias):
  # 'SAME' output size (stride x input) for an even stride and odd or even kernel.
  pad = (kernel - stride + 1) // 2
  return nn.ConvTranspose2d(cin, cout, kernel, stride, padding=pad,
                            output_padding=stride + 2 * pad - kernel, bias=bias)


def dcgan32_pair(m):
  dim, gb = m.dim, m.g_norm == "none"
  g = [nn.Linear(m.z_dim, 4 * 4 * 4 * dim, bias=gb), nn.Unflatten(1, (4 * dim, 4, 4)),
       _norm(m.g_norm, 4 * dim), nn.ReLU()]
  for cin, cout in ((4 * dim, 2 * dim), (2 * dim, dim)):
    g += [_deconv(cin, cout, 5, 2, gb), _norm(m.g_norm, cout), nn.ReLU()]
  generator = nn.Sequential(*g, _deconv(dim, 3, 5, 2, True), nn.Tanh())
  d, cin = [], 3
  for i, c in enumerate((dim, 2 * dim, 4 * dim)):
    d += [nn.Conv2d(cin, c, 5, 2, padding=2, bias=i == 0 or m.d_norm == "none")]
    if i > 0:
      d.append(_norm(m.d_norm, c))
    d.append(nn.LeakyReLU(0.2))
    cin = c
  discriminator = nn.Sequential(*d, nn.Flatten(), nn.Linear(4 * 4 * 4 * dim, 1), nn.Flatten(0))
  return generator, discriminator


MNIST_D_CHANNELS = {"S": (2, 4, 8), "M": (4, 8, 16), "L": (8, 16, 32)}


def dcgan28_pair(m, channels=3):
  gb, db = m.g_norm == "none", m.d_norm == "none"
  generator = nn.Sequential(
      nn.Linear(m.z_dim, 4 * 4 * 64, bias=gb), nn.Unflatten(1, (64, 4, 4)),
      _norm(m.g_norm, 64), nn.ReLU(),
      nn.ConvTranspose2d(64, 32, 3, 2, padding=1, bias=gb), _norm(m.g_norm, 32), nn.ReLU(),  # 7
      _deconv(32, 16, 3, 2, gb), _norm(m.g_norm, 16), nn.ReLU(),  # 14
      _deconv(16, 8, 3, 2, gb), _norm(m.g_norm, 8), nn.ReLU(),  # 28
      nn.Conv2d(8, channels, 3, 1, padding=1), nn.Tanh())
  d, cin = [], channels
  for c in MNIST_D_CHANNELS[m.size]:
    d += [nn.Conv2d(cin, c, 3, 2, padding=1, bias=db), _norm(m.d_norm, c), nn.LeakyReLU(0.3)]
    cin = c
  discriminator = nn.Sequential(*d, nn.Flatten(), nn.Linear(4 * 4 * cin, 1), nn.Flatten(0))
  return generator, discriminator


def mnist_classifier():
  return nn.Sequential(
      nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
      nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(), nn.Linear(128, 10))


def gan_pair(config, example_shape):
  """The twin (generator, discriminator) of ``config.model_name`` / ``config.model``."""
  name, m = config.model_name, config.model
  if name == "mlp":
    return mlp_pair(m, example_shape[-1])
  if name == "dcgan32":
    return dcgan32_pair(m)
  if name == "dcgan28":
    return dcgan28_pair(m, example_shape[-1])
  raise ValueError(f"no PyTorch twin for model {name!r}")


def _adam(params, lr, b1, b2):
  return torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=1e-8)


def make_gan_step(config, generator, discriminator):
  """Returns step(x) for x [n_critic, B, ...] (NCHW images), like sigjax's train_step."""
  o, optim = config.objective, config.optim
  if o.name not in ("gan", "wgan_gp") or o.si_weight != 0:
    raise ValueError("the PyTorch twins cover the plain 'gan' and 'wgan_gp' objectives")
  z_dim, batch = config.model.z_dim, config.batch_size
  g_opt = _adam(generator.parameters(), optim.g_lr, optim.b1, optim.b2)
  d_opt = _adam(discriminator.parameters(), optim.d_lr, optim.b1, optim.b2)
  ema = ([p.detach().clone() for p in generator.parameters()] if optim.ema_decay > 0 else None)
  g_params = list(generator.parameters())

  def critic_loss(x):
    with torch.no_grad():
      fake = generator(torch.randn(batch, z_dim))
    real_out, fake_out = discriminator(x), discriminator(fake)
    if o.name == "gan":
      return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    eps = torch.rand((batch,) + (1,) * (x.ndim - 1))
    mixed = (eps * x + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(discriminator(mixed).sum(), mixed, create_graph=True)
    gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return fake_out.mean() - real_out.mean() + o.gp_weight * gp

  def step(x):
    for x_i in x:
      d_opt.zero_grad(set_to_none=True)
      critic_loss(x_i).backward()
      d_opt.step()
    discriminator.requires_grad_(False)  # the G update needs no D weight gradients
    g_opt.zero_grad(set_to_none=True)
    out = discriminator(generator(torch.randn(batch, z_dim)))
    loss = F.softplus(-out).mean() if o.name == "gan" else -out.mean()
    loss.backward()
    g_opt.step()
    discriminator.requires_grad_(True)
    if ema is not None:
      with torch.no_grad():
        torch._foreach_lerp_(ema, g_params, 1.0 - optim.ema_decay)
    return loss

  return step


def make_classifier_step(config, model):
  opt = _adam(model.parameters(), config.optim.lr, config.optim.b1, config.optim.b2)

  def step(x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss

  return step


def num_params(*modules) -> int:
  return sum(p.numel() for m in modules for p in m.parameters())
