"""sigjax: semi-implicit generators (SIG) and GAN-SI in JAX/Flax.

The core is three modules of pure functions that import only jax and numpy:
``sigjax.loss`` (the SIG negative log-likelihood), ``sigjax.objectives``
(GAN / WGAN-GP / GAN-SI losses) and ``sigjax.theory`` (Theorem 1).
"""

from sigjax import loss, objectives, theory
from sigjax.loss import pairwise_log_likelihood, sig_nll

__all__ = ["loss", "objectives", "theory", "pairwise_log_likelihood", "sig_nll"]
__version__ = "0.1.0"
