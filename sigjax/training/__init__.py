"""Training: one train loop for every objective (gan, wgan_gp, sig)."""

from sigjax.training.train import train_and_evaluate

__all__ = ["train_and_evaluate"]
