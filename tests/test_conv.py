"""The CPU im2col convolution equals XLA's and the modules equal flax's."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from sigjax.models.conv import Conv, ConvTranspose, im2col_conv

DN = ("NHWC", "HWIO", "NHWC")


@pytest.mark.parametrize("kernel,strides,padding,lhs_dilation,rhs_dilation", [
    ((3, 3), (1, 1), "SAME", None, None),
    ((3, 3), (2, 2), "SAME", None, None),
    ((5, 5), (2, 2), "VALID", None, None),
    ((1, 7), (1, 1), ((0, 0), (3, 3)), None, None),
    ((4, 4), (1, 1), ((3, 3), (3, 3)), (2, 2), None),  # a stride-2 transposed conv
    ((3, 3), (1, 2), ((1, 0), (2, 1)), None, (2, 1)),
])
def test_im2col_matches_xla_convolution_and_its_gradients(kernel, strides, padding, lhs_dilation,
                                                         rhs_dilation):
  kx, kw = jax.random.split(jax.random.PRNGKey(0))
  x = jax.random.normal(kx, (2, 9, 10, 3))
  w = jax.random.normal(kw, kernel + (3, 4))
  kwargs = dict(lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation)
  ref = lambda x, w: lax.conv_general_dilated(x, w, strides, padding, dimension_numbers=DN,
                                              precision="highest", **kwargs)
  ours = lambda x, w: im2col_conv(x, w, strides, padding, precision="highest", **kwargs)
  np.testing.assert_allclose(ours(x, w), ref(x, w), rtol=1e-5, atol=1e-5)
  dy = jax.random.normal(kx, ref(x, w).shape)
  for a, b in zip(jax.vjp(ours, x, w)[1](dy), jax.vjp(ref, x, w)[1](dy)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("features", [4, 128])  # below and above the im2col threshold
@pytest.mark.parametrize("ours,theirs,shape", [
    (lambda f: ConvTranspose(f, (4, 4), padding="VALID"),
     lambda f: nn.ConvTranspose(f, (4, 4), padding="VALID"), (2, 4, 4, 32)),
    (lambda f: ConvTranspose(f, (5, 5), strides=(2, 2), use_bias=False),
     lambda f: nn.ConvTranspose(f, (5, 5), strides=(2, 2), use_bias=False), (2, 7, 7, 32)),
    (lambda f: Conv(f, (3, 3), strides=(2, 2)), lambda f: nn.Conv(f, (3, 3), strides=(2, 2)),
     (2, 14, 14, 32)),
])
def test_modules_match_flax_in_params_values_and_gradients(ours, theirs, shape, features):
  x = jax.random.normal(jax.random.PRNGKey(1), shape)
  ours, theirs = ours(features), theirs(features)
  params = ours.init(jax.random.PRNGKey(2), x)
  flax_params = theirs.init(jax.random.PRNGKey(2), x)
  assert jax.tree.structure(params) == jax.tree.structure(flax_params)
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(flax_params)):
    np.testing.assert_array_equal(a, b)  # same names, shapes and initialisation
  np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-5, atol=1e-5)
  loss = lambda m: jax.jit(jax.grad(lambda p, x: jnp.sum(m.apply(p, x) ** 2), argnums=(0, 1)))
  for a, b in zip(jax.tree.leaves(loss(ours)(params, x)), jax.tree.leaves(loss(theirs)(params, x))):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
