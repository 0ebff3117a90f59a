"""Flax (linen) models: toy MLPs, DCGAN generators/discriminators, an MNIST classifier."""

from sigjax.models.classifier import MnistClassifier
from sigjax.models.dcgan import CifarDiscriminator, CifarGenerator, MnistDiscriminator, MnistGenerator
from sigjax.models.factory import make_models
from sigjax.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "MnistClassifier", "CifarDiscriminator", "CifarGenerator", "MnistDiscriminator",
    "MnistGenerator", "MLPDiscriminator", "MLPGenerator", "make_models",
]
