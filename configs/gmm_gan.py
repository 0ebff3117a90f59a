"""5x5 Gaussian mixture: plain GAN (eq. 3 + non-saturating generator).

The literature's grid setup (VEEGAN, PacGAN; fjxmlzn/PacGAN's
synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py): z in R^2 ~ N(0, I),
generator 4 x 400 ReLU with batch norm, discriminator 3 x 200 maxout (5
pieces), N(0, 0.02^2) weights, Adam(1e-4, beta1 0.8), batch 100, data std
0.05 on {-4, -2, 0, 2, 4}^2; evaluated on 2,500 samples (eval/modes,
high_quality, reverse_kl) and on 50,000 (eval/*_at_50000).

Deviations: PacGAN trains 400 epochs of 1,000 steps (400k steps) at a
constant 1e-4 with simultaneous D/G updates; this runs 40k alternating steps
(D then G), a budget that fits a CPU (~15 min here), so both rates start at
1e-3 and follow a cosine to 1e-5 (measured on seed 0 at 20k steps: at a
constant 1e-4 the GAN's samples were still on trails, high quality 0.52;
this schedule gave 0.87). 40k rather than 20k: GAN-SI's high quality went
0.75 -> 0.84 and its reverse KL 0.21 -> 0.14 over 5 seeds (constant lambda), the
GAN's high quality 0.89 -> 0.95 over 5 (README). Batch norm uses the batch's statistics at evaluation too
(sigjax keeps no running averages).
"""

from configs import default


def get_config():
  c = default.get_base_config()
  c.batch_size = 100
  c.num_devices = 1  # a toy: one device is fastest, and 100 does not split over 8
  c.num_steps = 40_000
  c.eval_every = 10_000
  c.checkpoint_every = 10_000
  c.model.z_dim = 2
  c.model.hidden = (400, 400, 400, 400)
  c.model.d_hidden = (200, 200, 200)
  c.model.maxout_pieces = 5
  c.model.init_std = 0.02
  c.model.g_norm = "batch"
  c.optim.g_lr = c.optim.d_lr = 1e-3
  c.optim.lr_final_fraction = 0.01
  c.optim.b1 = 0.8
  c.eval_batch_size = 10_000
  c.evals.modes.num_samples = 50_000
  c.evals.modes.protocol_samples = 2_500
  return c
