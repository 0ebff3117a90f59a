"""Shared defaults. get_run_config(): the fields every task has (seed, batch,
cadence, data); get_base_config(): a generative run (a GAN on the 5x5 grid),
which each experiment's config starts from and changes where it differs."""

import ml_collections


def get_run_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.task = "generative"  # a key of sigjax.training.train.TASKS
  c.seed = 0
  c.batch_size = 256  # global: data batch N and generated batch M
  c.num_steps = 10_000
  c.num_devices = 0  # 0: every device; n: the first n (tests use 1 vs 8)
  c.log_every = 100
  c.eval_every = 2_000  # every evaluator's cadence unless its entry sets `every`
  c.checkpoint_every = 1_000
  c.keep_checkpoints = 3
  c.eval_batch_size = 2_500  # samples drawn (and scored) per call during evaluation

  c.data = ml_collections.ConfigDict()
  c.data.name = "grid"  # grid | ring | mnist | stacked_mnist | cifar10 | local
  c.data.std = 0.05  # mixture std for grid / ring
  c.data.data_dir = ml_collections.FieldReference(None, field_type=str)  # tfds data_dir
  c.data.path = ""  # .npz for data.name = "local"
  c.data.num_examples = 60_000  # virtual size of stacked_mnist
  return c


def evaluator(config: ml_collections.ConfigDict, kind: str, **options) -> ml_collections.ConfigDict:
  """A config.evals entry of evaluator ``kind`` (sigjax.evaluation.evaluators.EVALUATORS).

  Its cadence follows config.eval_every (also when that is overridden later)
  until the entry's own ``every`` is set.
  """
  return ml_collections.ConfigDict(
      dict(type=kind, every=config.get_ref("eval_every") + 0, **options))


def get_base_config() -> ml_collections.ConfigDict:
  c = get_run_config()

  # The model pair (sigjax.models.factory.MODELS) and its own fields only.
  c.model_name = "mlp"
  c.model = ml_collections.ConfigDict(dict(
      z_dim=64,
      hidden=(128, 128, 128),  # generator widths
      d_hidden=(),  # discriminator widths; () = hidden
      maxout_pieces=1,  # discriminator units: 1 = ReLU, k = maxout of k pieces
      init_std=0.0,  # > 0 draws weights from N(0, init_std^2)
      g_norm="batch",  # batch | layer | none
  ))

  c.objective = ml_collections.ConfigDict()
  c.objective.name = "gan"  # gan | wgan_gp | sig
  c.objective.generator_loss = "nonsaturating"  # gan only
  c.objective.si_weight = 0.0  # lambda of eq. (4)
  c.objective.si_scale = 0.05  # std of the Gaussian kernel p(x | theta)
  # M, the theta draws of the SI mixture per generator step (0: the batch's
  # own generated samples, M = batch_size).
  c.objective.si_num_samples = 0
  # Cosine schedules to this fraction of lambda / of the fixed std at num_steps
  # (1: constant; otherwise num_steps cannot change on a resume).
  c.objective.si_weight_final_fraction = 1.0
  c.objective.si_scale_final_fraction = 1.0
  c.objective.learn_scale = False
  c.objective.min_scale = 0.0  # a learned std's floor: std = min_scale + exp(log_scale)
  c.objective.gp_weight = 10.0  # wgan_gp only
  c.objective.n_critic = 1
  c.objective.sample_kernel_noise = False  # samples x ~ p(x | theta) instead of theta

  c.optim = ml_collections.ConfigDict()
  c.optim.g_lr = 1e-4
  c.optim.d_lr = 1e-4
  c.optim.b1 = 0.5
  c.optim.b2 = 0.999
  # Both learning rates follow a cosine to this fraction of their initial value
  # at num_steps (1.0: constant). num_steps then cannot change on a resume.
  c.optim.lr_final_fraction = 1.0
  c.optim.ema_decay = 0.0

  # Evaluators by name: type, cadence, options (sigjax/evaluation/evaluators.py).
  # PacGAN's grid metrics on the first protocol_samples samples; with more
  # num_samples, the same metrics on all of them as eval/*_at_<n>.
  c.evals = ml_collections.ConfigDict()
  c.evals.modes = evaluator(c, "grid_modes", num_samples=2_500, protocol_samples=2_500)
  return c
