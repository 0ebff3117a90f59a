"""Shared defaults; each experiment's config starts from get_base_config()."""

import ml_collections


def get_base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.task = "generative"  # or "classifier" (the MNIST scorer for Stacked MNIST)
  c.seed = 0
  c.batch_size = 256  # global: data batch N and generated batch M
  c.num_steps = 10_000
  c.num_devices = 0  # 0: every device; n: the first n (tests use 1 vs 8)
  c.log_every = 100
  c.eval_every = 2_000
  c.checkpoint_every = 1_000
  c.keep_checkpoints = 3

  c.data = ml_collections.ConfigDict()
  c.data.name = "grid"
  c.data.std = 0.05  # mixture std for grid / ring
  c.data.data_dir = ml_collections.FieldReference(None, field_type=str)  # tfds data_dir
  c.data.path = ""  # .npz for data.name = "local"
  c.data.num_examples = 60_000  # virtual size of stacked_mnist

  c.model = ml_collections.ConfigDict()
  c.model.arch = "mlp"
  c.model.z_dim = 64
  c.model.hidden = (128, 128, 128)  # mlp: generator (and discriminator) widths
  c.model.d_hidden = ()  # mlp: discriminator widths; () = model.hidden
  c.model.maxout_pieces = 1  # mlp discriminator: 1 = ReLU units, k = maxout of k pieces
  c.model.init_std = 0.0  # mlp: > 0 draws weights from N(0, init_std^2)
  c.model.size = "M"  # dcgan28 discriminator size S / M / L
  c.model.dim = 64  # dcgan32 width
  c.model.g_norm = "batch"  # "batch" | "layer" | "none" (mlp: batch or none)
  c.model.d_norm = "none"

  c.objective = ml_collections.ConfigDict()
  c.objective.name = "gan"  # gan | wgan_gp | sig
  c.objective.generator_loss = "nonsaturating"  # gan only
  c.objective.si_weight = 0.0  # lambda of eq. (4)
  c.objective.si_scale = 0.05  # std of the Gaussian kernel p(x | theta)
  c.objective.learn_scale = False
  c.objective.gp_weight = 10.0  # wgan_gp only
  c.objective.n_critic = 1

  c.optim = ml_collections.ConfigDict()
  c.optim.g_lr = 1e-4
  c.optim.d_lr = 1e-4
  c.optim.b1 = 0.5
  c.optim.b2 = 0.999
  c.optim.ema_decay = 0.0

  c.eval = ml_collections.ConfigDict()
  c.eval.num_samples = 2_500
  c.eval.batch_size = 2_500
  # Grid / ring: PacGAN's metrics on the first protocol_samples samples; with
  # more num_samples, the same metrics on all of them as eval/*_at_<n>.
  c.eval.protocol_samples = 2_500
  c.eval.sample_kernel_noise = False  # add p(x | theta) noise to samples
  # Stacked MNIST: the workdir of a configs/mnist_classifier.py run ("" skips
  # the scores), and the max-probability a channel needs to count as high quality.
  c.eval.classifier_workdir = ""
  c.eval.high_quality_threshold = 0.9
  # CIFAR-10: FID Inception-v3 weights (see sigjax/models/inception.py; ""
  # skips IS/FID), IS splits, and training images for the FID reference.
  c.eval.inception_weights = ""
  c.eval.is_splits = 10
  c.eval.fid_reference_samples = 50_000
  return c
