"""Flax (linen) models: toy MLPs, DCGAN generators/discriminators, an MNIST classifier."""

from sigjax.models.classifier import MnistClassifier
from sigjax.models.dcgan import CifarDiscriminator, CifarGenerator, MnistDiscriminator, MnistGenerator
from sigjax.models.factory import MODELS, make_models, model_spec
from sigjax.models.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "MnistClassifier", "CifarDiscriminator", "CifarGenerator", "MnistDiscriminator",
    "MnistGenerator", "MLPDiscriminator", "MLPGenerator", "MODELS", "make_models", "model_spec",
]
