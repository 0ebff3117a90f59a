"""The CPU convolution forms equal XLA's (values, gradients, second order) and
the modules equal flax's."""


import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from sigjax.models.conv import Conv, ConvTranspose, cpu_conv
from sigjax.models.layers import max_pool_tiles

DN = ("NHWC", "HWIO", "NHWC")
CASES = [  # kernel, strides, padding, lhs_dilation, input [H, W]
    ((3, 3), (1, 1), "SAME", None, (9, 10)),
    ((5, 5), (2, 2), "VALID", None, (9, 10)),
    ((5, 5), (2, 2), ((1, 2), (2, 1)), None, (8, 8)),  # the CIFAR discriminator's padding
    ((4, 4), (1, 1), ((3, 3), (3, 3)), (2, 2), (4, 4)),  # a stride-2 transposed conv
    ((5, 5), (1, 1), ((2, 3), (2, 3)), (2, 2), (4, 5)),  # 5x5 'SAME' transposed, odd width
    ((3, 3), (1, 1), ((1, 1), (1, 1)), (2, 2), (4, 4)),  # Stacked-MNIST G's 4 -> 7
    ((3, 2), (1, 1), ((1, 0), (0, 2)), (3, 2), (5, 4)),  # uneven phases, out not a multiple
    ((1, 1), (1, 1), ((0, 1), (0, 1)), (2, 2), (3, 3)),  # kernel smaller than the stride
    ((3, 3), (2, 1), ((-1, 2), (1, 1)), None, (9, 10)),  # negative (cropping) padding
]


def _pair(kernel, strides, padding, lhs_dilation, hw, seed=0):
  kx, kw = jax.random.split(jax.random.PRNGKey(seed))
  x = jax.random.normal(kx, (2,) + hw + (3,))
  w = jax.random.normal(kw, kernel + (3, 4))
  ref = lambda x, w: lax.conv_general_dilated(x, w, strides, padding, lhs_dilation=lhs_dilation,
                                              dimension_numbers=DN, precision="highest")
  ours = lambda x, w: cpu_conv(x, w, strides, padding, lhs_dilation=lhs_dilation,
                               precision="highest")
  return x, w, ref, ours


@pytest.mark.parametrize("kernel,strides,padding,lhs_dilation,hw", CASES)
def test_cpu_forms_match_xla_convolution_and_its_gradients(kernel, strides, padding, lhs_dilation,
                                                          hw):
  x, w, ref, ours = _pair(kernel, strides, padding, lhs_dilation, hw)
  np.testing.assert_allclose(ours(x, w), ref(x, w), rtol=1e-5, atol=1e-5)
  dy = jax.random.normal(jax.random.PRNGKey(3), ref(x, w).shape)
  for a, b in zip(jax.vjp(ours, x, w)[1](dy), jax.vjp(ref, x, w)[1](dy)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("case", [CASES[2], CASES[4]])
def test_second_order_gradients_match(case):
  # The WGAN-GP penalty differentiates the input gradient with respect to the kernel.
  x, w, ref, ours = _pair(*case)

  def penalty(conv):
    def f(w, x):
      dx = jax.grad(lambda x: jnp.sum(jnp.sin(conv(x, w))))(x)
      return jnp.sum(jnp.square(dx))
    return jax.grad(f, argnums=(0, 1))

  for a, b in zip(penalty(ours)(w, x), penalty(ref)(w, x)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_cifar_models_lower_to_no_input_dilated_convolution_on_cpu():
  # The slow XLA:CPU shape (input dilation) must not survive in the train step's
  # forward or gradients; GPU/TPU lowerings keep the native ops.
  from sigjax.models.dcgan import CifarDiscriminator, CifarGenerator
  g, d = CifarGenerator(dim=64), CifarDiscriminator(dim=64, norm="none")
  z = jnp.zeros((2, 128))
  gp = g.init(jax.random.PRNGKey(0), z)
  dp = d.init(jax.random.PRNGKey(1), jnp.zeros((2, 32, 32, 3)))

  def loss(gp, dp):
    return jnp.sum(d.apply(dp, g.apply(gp, z)))

  hlo = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(gp, dp).as_text()
  convs = [line for line in hlo.splitlines() if "stablehlo.convolution" in line]
  assert convs, "no convolution found in the lowering"
  for conv in convs:
    if "lhs_dilate" in conv and "lhs_dilate = [1, 1]" not in conv:
      # Allowed only in the generator's last layer (64 -> 3), native by design.
      assert "5x5x64x3xf32" in conv or "5x5x3x64xf32" in conv, conv


@pytest.mark.parametrize("features", [4, 128])  # below and above the rewrite threshold
@pytest.mark.parametrize("ours,theirs,shape", [
    (lambda f: ConvTranspose(f, (4, 4), padding="VALID"),
     lambda f: nn.ConvTranspose(f, (4, 4), padding="VALID"), (2, 4, 4, 32)),
    (lambda f: ConvTranspose(f, (5, 5), strides=(2, 2), use_bias=False),
     lambda f: nn.ConvTranspose(f, (5, 5), strides=(2, 2), use_bias=False), (2, 7, 7, 32)),
    (lambda f: ConvTranspose(f, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1))),  # 4 -> 7
     lambda f: nn.ConvTranspose(f, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1))),
     (2, 4, 4, 32)),
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


@pytest.mark.parametrize("shape,size", [((2, 28, 28, 3), 2), ((3, 7, 9, 2), 2), ((1, 9, 9, 4), 3)])
def test_max_pool_tiles_equals_flax_max_pool_in_values_and_gradients(shape, size):
  # Continuous random inputs: every tile's maximum is unique, where the two
  # gradients must agree exactly (they differ only in how ties are split).
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  ref = lambda x: nn.max_pool(x, (size, size), (size, size))
  np.testing.assert_array_equal(max_pool_tiles(x, size), ref(x))
  cot = jax.random.normal(jax.random.PRNGKey(1), ref(x).shape)
  grad = lambda f: jax.grad(lambda x: jnp.vdot(f(x), cot))(x)
  np.testing.assert_array_equal(grad(lambda x: max_pool_tiles(x, size)), grad(ref))
