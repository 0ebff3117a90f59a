"""The numerics behind :func:`sigjax.loss.sig_nll`: an exact mixture log-sum-exp.

Both kernels write ``log p(x_n | theta_m) = row_n + q_nm`` with
``q_nm = lhs_n . rhs_m + col_m`` (one GEMM) and an exact *difference form*
``exact(x_n, theta_m)`` that costs O(D) per pair and has no cancellation.
The GEMM form is fast but carries an absolute error that grows like
``eps * sqrt(D) * |lhs| |rhs|``: hundreds of nats at std 1e-3 in image
dimension. This module gets float64-level accuracy at GEMM speed:

1. **Stream** over blocks of columns with one GEMM each. Every entry gets an
   error bound ``e_nm`` (:func:`_entry_error`) and an upper bound
   ``U = q + e``. The stream keeps, per row, the ``k`` columns with the largest
   ``U`` (the *candidates*), the log-sum-exp of all columns and of the columns
   outside the candidates (the *rest*).
2. **Recompute** the candidates exactly (O(N k D)). The rest is tied to them
   through an *anchor* candidate ``c`` (the one with the largest lower bound
   ``q - e``): ``log p_r = exact_c + (q_r - q_c)``. That relative exponent is
   never above ``U_r - (q_c - e_c)``, so a rest entry can never be inflated
   past its own bound.
3. **Decide per row** which answer is provably within tolerance:
   * ``candidates``: the rest's error bound
     ``sum_r exp(U_r - lo_c) * min(1, 2 (e_r + e_c))`` is below ``_TOL``; the
     value is exact on the candidates and the rest is accurate or negligible;
   * ``gemm``: every column's error is tiny (softmax-weighted bound below
     ``_GEMM_OK``), so the plain GEMM log-sum-exp is accurate;
   * ``exact``: neither holds (more than ``k`` columns within the error band
     of the top: tiny std with clustered theta). These rows are recomputed in
     the difference form over all M columns, chunk of rows by chunk of rows
     behind ``lax.cond``, so the O(N M D) cost is paid only where needed.

Gradients are exact for the formula used: the candidates and the exact rows
are differentiated by autodiff of the difference form; the stream has a
custom VJP that recomputes (or reuses) each block's GEMM and back-propagates
the all-column and rest softmaxes and the anchor's one-hot.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

# Candidates recomputed exactly per row.
NUM_CANDIDATES = 8
# Below this dimension, or with at most NUM_CANDIDATES columns, the difference
# form over all pairs costs no more than the GEMM path: use it directly.
EXACT_MAX_DIM = 8
# The rest's error bound (relative to the mixture sum) that the candidate
# answer must meet, and the softmax-weighted per-entry error bound that lets a
# row use the plain GEMM answer.
_TOL = 1e-5
_GEMM_OK = 1e-4
# Safety factor over the empirical error constant (measured worst case 1.24
# on XLA:CPU over scales 1e-3..1, D 2..3072, near-duplicate and far theta).
_SAFETY = 4.0
# Rows the fallback gathers and recomputes together; the candidates of that
# second pass (then the difference form over all M for what it cannot
# certify); and the [rows, cols, D] entries one difference-form block may hold.
_ROWS_AT_ONCE = 16
WIDE_CANDIDATES = 64
_EXACT_BLOCK_ENTRIES = 2**20
# Floats of gathered candidates per chunk of rows (exact_candidates).
_CANDIDATE_CHUNK_ENTRIES = 2**21


class Terms(NamedTuple):
  """Kernel terms: log p(x_n | theta_m) = row_n + lhs_n . rhs_m + col_m."""
  lhs: jax.Array  # [N, D]
  rhs: jax.Array  # [M, D]
  row: jax.Array  # [N]
  col: jax.Array  # [M]
  const: jax.Array  # [N], added to every log-likelihood of row n
  exact: Callable[[jax.Array, jax.Array], jax.Array]  # (x_rows, theta_rows) -> [rows]
  # exact(x, theta) - exact(x, anchor) without forming either: when both are
  # huge (theta far from x) their float rounding would swamp the difference,
  # which is all the mixture weights depend on.
  exact_diff: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
  # The same kernel's Terms for other rows of x (the same theta), built from
  # scratch: a recomputation branch that took rows of these Terms would hold
  # rhs [M, D] as a separate buffer from the stream's blocked copy.
  for_rows: Callable[[jax.Array], "Terms"]


def gemm_epsilon(dtype, precision) -> float:
  """Machine epsilon of the GEMM: the dtype's, or bfloat16's below HIGHEST."""
  eps = float(jnp.finfo(dtype).eps)
  if precision not in (jax.lax.Precision.HIGHEST, "highest", "HIGHEST"):
    eps = max(eps, 2.0**-7)  # DEFAULT/HIGH may run bf16 passes on TPU/GPU
  return eps


def _entry_error(dot, row_coef, col_norm, col_err, dot_coef):
  """Bound on |q~ - q| for a block, from its GEMM output ``dot = lhs . rhs``.

  ``dot_coef |lhs . rhs| + row_coef_n |rhs_m| + col_err_m``, where the
  coefficients carry ``_SAFETY * eps`` (and sqrt(D) for the accumulated sums).
  """
  return dot_coef * jnp.abs(dot) + row_coef[:, None] * col_norm[None, :] + col_err[None, :]


def _scan_blocks(body, carry, arrays, block_size, *, per_block=None, checkpoint=False):
  """Runs ``body(carry, blk)`` over blocks of rows of the [M, ...] ``arrays``.

  ``blk`` holds each array's rows of the block, then the block's first row
  (int32), then its entry of ``per_block`` if given: a list of per-block
  outputs of an earlier _scan_blocks over the same blocks. The full blocks
  run in one scan (no loop for one), then the tail. Blocks are sliced inside
  the loop: reshaping [M, D] into [nb, B, D] up front copies it whenever M is
  not a multiple of B (and XLA wrote an [M, D] operand once per layout).
  With ``checkpoint`` each block's slicing and body are rematerialised, so
  reverse mode keeps only the carry per block.

  Returns the final carry and the per-block outputs, in row order.
  """
  m = arrays[0].shape[0]
  nb, rem = divmod(m, block_size)
  extra = list(per_block) if per_block is not None else None

  def run(carry, offset, size, *more):
    blk = tuple(jax.lax.dynamic_slice_in_dim(a, offset, size) for a in arrays) + (offset,)
    return body(carry, blk + tuple(more))

  run = jax.checkpoint(run, static_argnums=(2,)) if checkpoint else run
  outs = []
  if nb:
    # The scan stacked the full blocks' outputs as [nb * rows, ...]: unstack.
    more = ()
    if extra:
      stacked = extra.pop(0)
      more = (stacked.reshape((nb, -1) + stacked.shape[1:]),)
    offsets = jnp.arange(nb, dtype=jnp.int32) * block_size
    if nb == 1:
      carry, out = run(carry, offsets[0], block_size, *(b[0] for b in more))
      outs.append(out)
    else:
      carry, out = jax.lax.scan(lambda c, xs: run(c, xs[0], block_size, *xs[1:]), carry,
                                (offsets,) + more)
      outs.append(jax.tree.map(lambda o: o.reshape((-1,) + o.shape[2:]), out))
  if rem:
    carry, out = run(carry, jnp.int32(nb * block_size), rem, *([extra.pop(0)] if extra else []))
    outs.append(out)
  return carry, outs


# ---------------------------------------------------------------------------
# The stream: one GEMM per block, candidates, all/rest log-sum-exps.
# ---------------------------------------------------------------------------


class StreamOut(NamedTuple):
  lse_all: jax.Array  # [N] log sum_m exp(q~_nm)
  lse_rest: jax.Array  # [N] the same over the columns outside the candidates
  q_anchor: jax.Array  # [N] q~ of the anchor candidate
  err_anchor: jax.Array  # [N] its error bound (no gradient)
  err_weighted: jax.Array  # [N] softmax(q~)-weighted error bound (no gradient)
  rest_bound: jax.Array  # [N] log bound on sum_r exp(U_r) min(1, 2 e_r) (no gradient)
  rest_upper: jax.Array  # [N] log bound on sum_r exp(U_r) (no gradient)
  cand_index: jax.Array  # [N, k] int32, candidates by decreasing U
  tau: jax.Array  # [N] the k-th largest U: the rest is every column below it
  anchor_index: jax.Array  # [N] int32
  tie: jax.Array  # [N] bool: the k-th largest U was tied, candidates ambiguous


def _row_sums(a, b):
  """Reducer of the stream's variadic reduce: sums, except a max for the rest's error."""
  return (a[0] + b[0], a[1] + b[1], a[2] + b[2], jnp.maximum(a[3], b[3]), a[4] + b[4])


def _stream_forward(lhs, rhs, col, row_coef, col_norm, col_err, k, dot_coef,
                    block_size, precision, keep_pre):
  n = lhs.shape[0]

  def update(carry, blk):
    (ref, s_all, e_sum, s_rest, e_rest, buf_u, buf_q, buf_i, tie) = carry
    rhs_blk, col_blk, norm_blk, cerr_blk, offset = blk
    raw = jnp.dot(lhs, rhs_blk.T, precision=precision)
    q = raw + col_blk[None, :]
    e = _entry_error(raw, row_coef, norm_blk, cerr_blk, dot_coef)
    u = q + e
    # Candidates: the block's k largest U merged with the buffer's. A tie at
    # the k-th makes the set ambiguous (flagged). The top_k outputs are used
    # whole: slicing them makes XLA:CPU lower top_k to a full sort (5x slower).
    u_pad, q_pad = u, q
    if u.shape[1] < k:  # a short tail block
      pad = ((0, 0), (0, k - u.shape[1]))
      u_pad = jnp.pad(u, pad, constant_values=-jnp.inf)
      q_pad = jnp.pad(q, pad, constant_values=-jnp.inf)
    blk_u, blk_pos = jax.lax.top_k(u_pad, k)
    blk_q = jnp.take_along_axis(q_pad, blk_pos, axis=1, mode="clip")
    top_u, pos = jax.lax.top_k(jnp.concatenate([buf_u, blk_u], axis=1), k)
    new_buf_q = jnp.take_along_axis(jnp.concatenate([buf_q, blk_q], axis=1), pos, axis=1,
                                    mode="clip")
    new_buf_i = jnp.take_along_axis(jnp.concatenate([buf_i, offset + blk_pos], axis=1), pos,
                                    axis=1, mode="clip")
    tau = jnp.min(top_u, axis=1)
    out_buf = buf_u < tau[:, None]
    # Online sums, rescaled to the running max of q~. The block's five row
    # reductions are one variadic reduce: one pass over the block (as separate
    # reductions XLA:CPU materialised ~6 [N, B] temporaries; measured 1.7x
    # faster for the epilogue alone at [4096, 1024]).
    new_ref = jnp.maximum(ref, jnp.max(q, axis=1))
    rescale = lambda acc: jnp.where(jnp.isneginf(ref), 0.0, acc * jnp.exp(ref - new_ref))
    out_blk = u < tau[:, None]  # not among the candidates: joins the rest
    w = jnp.exp(q - new_ref[:, None])
    zero = jnp.zeros((), q.dtype)
    sum_w, sum_we, rest_w, rest_e, n_in_blk = jax.lax.reduce(
        (w, w * e, jnp.where(out_blk, w, 0.0), jnp.where(out_blk, e, 0.0),
         jnp.where(out_blk, 0.0, 1.0).astype(q.dtype)),
        (zero,) * 5, _row_sums, (1,))
    n_in = n_in_blk + jnp.sum(~out_buf & jnp.isfinite(buf_u), axis=1)
    tie = tie | ((n_in > k) & jnp.isfinite(tau))
    s_all = rescale(s_all) + sum_w
    e_sum = rescale(e_sum) + sum_we
    # Entries leaving (or never entering) the candidates join the rest.
    buf_e = jnp.where(jnp.isneginf(buf_u), 0.0, buf_u - buf_q)  # 0 on empty slots
    buf_w = jnp.exp(buf_q - new_ref[:, None])
    s_rest = rescale(s_rest) + rest_w + jnp.sum(jnp.where(out_buf, buf_w, 0.0), axis=1)
    e_rest = jnp.maximum(e_rest, jnp.maximum(rest_e,
                                             jnp.max(jnp.where(out_buf, buf_e, 0.0), axis=1)))
    carry = (new_ref, s_all, e_sum, s_rest, e_rest, top_u, new_buf_q, new_buf_i, tie)
    return carry, (raw if keep_pre else None)

  zeros = jnp.zeros((n,), lhs.dtype)
  empty = jnp.full((n, k), -jnp.inf, lhs.dtype)
  init = (jnp.full((n,), -jnp.inf, lhs.dtype), zeros, zeros, zeros, zeros,
          empty, empty, jnp.zeros((n, k), jnp.int32), jnp.zeros((n,), bool))
  carry, pres = _scan_blocks(update, init, (rhs, col, col_norm, col_err), block_size)
  ref, s_all, e_sum, s_rest, e_rest, buf_u, buf_q, buf_i, tie = carry
  buf_e = buf_u - buf_q
  anchor = jnp.argmax(buf_q - buf_e, axis=1)
  take = lambda a: jnp.take_along_axis(a, anchor[:, None], axis=1, mode="clip")[:, 0]
  lse_rest = ref + jnp.log(s_rest)
  # Upper bounds over the rest from q~ and the largest error there:
  #   sum_r exp(U_r) <= exp(max_r e_r) sum_r exp(q~_r), and min(1, 2 e_r) <= min(1, 2 max e).
  rest_upper = lse_rest + e_rest
  out = StreamOut(
      lse_all=ref + jnp.log(s_all),
      lse_rest=lse_rest,
      q_anchor=take(buf_q),
      err_anchor=take(buf_e),
      err_weighted=e_sum / s_all,
      rest_bound=rest_upper + jnp.log(jnp.minimum(1.0, 2 * e_rest)),
      rest_upper=rest_upper,
      cand_index=buf_i,
      tau=jnp.min(buf_u, axis=1),
      anchor_index=take(buf_i).astype(jnp.int32),
      tie=tie,
  )
  return out, (pres if keep_pre else None)


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7, 8, 9, 10))
def stream(lhs, rhs, col, row_coef, col_norm, col_err, k, dot_coef, block_size, precision,
           keep_pre):
  """One pass of GEMMs over column blocks; see the module docstring.

  Differentiable outputs: ``lse_all``, ``lse_rest`` and ``q_anchor`` (with
  respect to ``lhs``, ``rhs``, ``col``). Everything else is a selection or a
  bound and carries no gradient.
  """
  return _stream_forward(lhs, rhs, col, row_coef, col_norm, col_err, k, dot_coef,
                         block_size, precision, False)[0]


def _stream_fwd(lhs, rhs, col, row_coef, col_norm, col_err, k, dot_coef, block_size,
                precision, keep_pre):
  out, pres = _stream_forward(lhs, rhs, col, row_coef, col_norm, col_err, k, dot_coef,
                              block_size, precision, keep_pre)
  residuals = (lhs, rhs, col, row_coef, col_norm, col_err, out.lse_all, out.lse_rest, out.tau,
               out.cand_index[:, -1], out.anchor_index, pres)
  return out, residuals


def _stream_bwd(k, dot_coef, block_size, precision, keep_pre, residuals, cts):
  del k
  (lhs, rhs, col, row_coef, col_norm, col_err, lse_all, lse_rest, tau, kth_index,
   anchor_index, pres) = residuals
  g_all, g_rest, g_anchor = cts.lse_all, cts.lse_rest, cts.q_anchor
  # A row whose rest is empty has lse_rest = -inf and no rest gradient.
  has_rest = jnp.isfinite(lse_rest)
  g_rest = jnp.where(has_rest, g_rest, 0.0)
  lse_rest = jnp.where(has_rest, lse_rest, 0.0)

  def block_grads(d_lhs, blk):
    rhs_blk, col_blk, norm_blk, cerr_blk, offset = blk[:5]
    # The forward's raw product, saved or recomputed, so q~ and U below are
    # the forward's own values.
    raw = blk[5] if len(blk) == 6 else jnp.dot(lhs, rhs_blk.T, precision=precision)
    q = raw + col_blk[None, :]
    e = _entry_error(raw, row_coef, norm_blk, cerr_blk, dot_coef)
    cols = offset + jnp.arange(rhs_blk.shape[0], dtype=jnp.int32)
    # The rest: every column outside the final k candidates, i.e. U below the
    # k-th largest. The k-th's own column is excluded by index too, in case a
    # recomputed U rounds differently from the forward's.
    in_rest = (((q + e) < tau[:, None]) & (cols[None, :] != kth_index[:, None])
               & has_rest[:, None])
    p_all = jnp.exp(q - lse_all[:, None])
    # exp(q - lse_rest) = p_all * exp(lse_all - lse_rest): one exp per entry.
    rest_scale = g_rest * jnp.exp(lse_all - lse_rest)
    gw = p_all * (g_all[:, None] + jnp.where(in_rest, rest_scale[:, None], 0.0))
    gw = gw + jnp.where(cols[None, :] == anchor_index[:, None], g_anchor[:, None], 0.0)
    d_lhs = d_lhs + jnp.dot(gw, rhs_blk, precision=precision)
    return d_lhs, (jnp.dot(gw.T, lhs, precision=precision), jnp.sum(gw, axis=0))

  # Each block's saved raw product (if kept) rides along with its inputs.
  d_lhs, outs = _scan_blocks(block_grads, jnp.zeros_like(lhs), (rhs, col, col_norm, col_err),
                             block_size, per_block=pres)
  d_rhs, d_col = _concat_rows(outs)
  zero = lambda a: jnp.zeros_like(a)
  return d_lhs, d_rhs, d_col, zero(row_coef), zero(col_norm), zero(col_err)


stream.defvjp(_stream_fwd, _stream_bwd)


# ---------------------------------------------------------------------------
# The difference form: candidates and whole rows.
# ---------------------------------------------------------------------------


def exact_candidates(x2d, theta2d, index, anchor_index, terms: Terms):
  """(exact(x_n, anchor_n) [N], exact(x_n, theta_{index[n, i]}) - exact(x_n, anchor_n) [N, k]).

  Chunks of rows, each gathering its [rows, k, D] candidates and its anchor
  rows (about _CANDIDATE_CHUNK_ENTRIES floats, a buffer the loop reuses) and
  checkpointed, so neither pass writes a fresh [N, k, D] or [N, D] gather. On
  XLA:CPU a fresh [N, D] buffer costs more than the arithmetic on it (page
  faults: ~45 ms to write 4096 x 3072 here). Measured at (4096, 4096, 3072),
  k = 8: one [N, D] slot per candidate was 30% slower forward and 45% slower
  value_and_grad; at N = 256, chunks of 2**19 floats were 35% slower forward
  than 2**21 (loop overhead), which is as fast at N = 4096.
  """
  n, d = x2d.shape
  k = index.shape[1]
  # A power of two, so that typical N split into whole chunks.
  rows = 2 ** int(math.log2(max(1, _CANDIDATE_CHUNK_ENTRIES // max((k + 1) * d, 1))))
  rows = min(rows, n)

  def chunk(_, blk):
    x_c, index_c, anchor_c = blk[:3]
    theta_c = jnp.take(theta2d, index_c, axis=0, mode="clip")  # [rows, k, D]
    anchor_rows = jnp.take(theta2d, anchor_c, axis=0, mode="clip")  # [rows, D]
    return None, (terms.exact(x_c, anchor_rows),
                  terms.exact_diff(x_c[:, None, :], theta_c, anchor_rows[:, None, :]))

  _, outs = _scan_blocks(chunk, None, (x2d, index, anchor_index), rows, checkpoint=True)
  return _concat_rows(outs)


def _concat_rows(outs):
  """_scan_blocks's per-block outputs (pytrees of [rows, ...]) as one, in row order."""
  return jax.tree.map(lambda *parts: jnp.concatenate(parts, axis=0), *outs)


def _exact_column_block(rows, d, m):
  return max(1, min(m, _EXACT_BLOCK_ENTRIES // max(rows * d, 1)))


def exact_log_likelihoods(x2d, theta2d, exact):
  """The [N, M] matrix exact(x_n, theta_m), by blocks of columns."""
  n, d = x2d.shape
  block = _exact_column_block(n, d, theta2d.shape[0])
  body = lambda carry, blk: (carry, exact(x2d[:, None, :], blk[0][None, :, :]))
  _, outs = _scan_blocks(body, None, (theta2d,), block)
  # Full blocks come out as [nb * N, B]; put columns back in order.
  parts = []
  nb = theta2d.shape[0] // block
  for out in outs:
    if out.shape[0] == n * nb and nb > 1:
      out = out.reshape(nb, n, -1).transpose(1, 0, 2).reshape(n, -1)
    parts.append(out)
  return jnp.concatenate(parts, axis=1)


def exact_lse_rows(x_rows, theta2d, exact, exact_diff, anchor_rows):
  """log sum_m exp(exact(x_n, theta_m)) over all M columns, [rows].

  Taken as ``exact(x, anchor) + log sum_m exp(exact_diff(x, theta_m, anchor))``
  with one anchor theta row per x row, so the weights carry no rounding of the
  (possibly huge) absolute log-likelihoods. Blocks of columns hold at most
  _EXACT_BLOCK_ENTRIES [rows, B, D] entries; each block is checkpointed, so
  the backward keeps O(rows) per block.
  """
  rows, d = x_rows.shape
  block = _exact_column_block(rows, d, theta2d.shape[0])

  def body(lse, blk):
    logits = exact_diff(x_rows[:, None, :], blk[0][None, :, :], anchor_rows[:, None, :])
    return jnp.logaddexp(lse, jax.nn.logsumexp(logits, axis=1)), None

  init = jnp.full((rows,), -jnp.inf, x_rows.dtype)
  lse, _ = _scan_blocks(body, init, (theta2d,), block, checkpoint=True)
  return exact(x_rows, anchor_rows) + lse


def _exact_argmax(x2d, theta2d, exact):
  """Per row, the column of the largest exact(x_n, theta_m) (no gradient)."""
  n, d = x2d.shape
  block = _exact_column_block(n, d, theta2d.shape[0])

  def body(carry, blk):
    best, arg = carry
    logits = exact(x2d[:, None, :], blk[0][None, :, :])
    blk_best = jnp.max(logits, axis=1)
    blk_arg = jnp.argmax(logits, axis=1).astype(jnp.int32) + blk[1]
    return (jnp.maximum(best, blk_best), jnp.where(blk_best > best, blk_arg, arg)), None

  init = (jnp.full((n,), -jnp.inf, x2d.dtype), jnp.zeros((n,), jnp.int32))
  (_, arg), _ = _scan_blocks(body, init, (jax.lax.stop_gradient(theta2d),), block)
  return arg


def _recompute_where_needed(lse, need, x2d, theta2d, anchor_index, terms, recompute_few):
  """Replaces lse[n] where need[n]: the rows the first pass could not certify.

  Three tiers behind one lax.switch, so the common case costs nothing: no
  such row; at most _ROWS_AT_ONCE rows, gathered and handed to
  ``recompute_few(rows)``; more, every row exactly (O(N M D)). No cond sits
  inside a loop: under reverse mode that would keep a copy of theta per
  iteration.
  """
  n = x2d.shape[0]
  f = min(_ROWS_AT_ONCE, n)
  count = jnp.sum(need)

  def none():
    return lse

  def few():
    rows = jnp.nonzero(need, size=f, fill_value=0)[0]
    values = recompute_few(rows)
    # Rows past `count` are fill (row 0, maybe not needed): send them nowhere.
    rows = jnp.where(jnp.arange(f) < count, rows, n)
    return lse.at[rows].set(values, mode="drop")

  def every():
    # By chunks of rows, so that reverse mode keeps O(N) of this branch: the
    # residuals of the branches not taken are still written (as zeros) on
    # every call, and one [N, M] of them cost more than the whole forward.
    def chunk(_, blk):
      x_c, anchor_c = blk[:2]
      anchor_rows = jnp.take(theta2d, anchor_c, axis=0, mode="clip")
      return None, exact_lse_rows(x_c, theta2d, terms.exact, terms.exact_diff, anchor_rows)

    _, outs = _scan_blocks(chunk, None, (x2d, anchor_index), f, checkpoint=True)
    return jnp.where(need, _concat_rows(outs), lse)

  tier = (count > 0).astype(jnp.int32) + (count > f).astype(jnp.int32)
  return jax.lax.switch(tier, (none, few, every))


# ---------------------------------------------------------------------------
# The whole computation.
# ---------------------------------------------------------------------------


# How each row's value was computed (mixture_lse_with_paths): the difference
# form throughout (small D or M), the candidates, the GEMM, or recomputed after
# the first pass could not certify it (wider candidates for up to
# _ROWS_AT_ONCE rows, else the difference form).
PATH_EXACT_ALL, PATH_CANDIDATES, PATH_GEMM, PATH_RECOMPUTED = 0, 1, 2, 3


def mixture_lse(x2d, theta2d, terms: Terms, *, block_size, precision, keep_pre,
                num_candidates=NUM_CANDIDATES):
  """log sum_m p(x_n | theta_m) (without the kernel's constant), [N]."""
  return mixture_lse_with_paths(x2d, theta2d, terms, block_size=block_size,
                                precision=precision, keep_pre=keep_pre,
                                num_candidates=num_candidates)[0]


def mixture_lse_with_paths(x2d, theta2d, terms: Terms, *, block_size, precision, keep_pre,
                           num_candidates=NUM_CANDIDATES, second_pass=True):
  """mixture_lse and, per row, which PATH_* computed it (for tests/benchmarks)."""
  n, d = x2d.shape
  m = theta2d.shape[0]
  k = num_candidates
  if d <= EXACT_MAX_DIM or m <= k:
    anchor = _exact_argmax(jax.lax.stop_gradient(x2d), theta2d, terms.exact)
    anchor_rows = jnp.take(theta2d, anchor, axis=0, mode="clip")
    lse = exact_lse_rows(x2d, theta2d, terms.exact, terms.exact_diff, anchor_rows)
    return lse, jnp.full((n,), PATH_EXACT_ALL)

  eps = gemm_epsilon(terms.lhs.dtype, precision)
  sg = jax.lax.stop_gradient
  root_d = math.sqrt(d)
  row_coef = sg(_SAFETY * eps * jnp.linalg.norm(terms.lhs, axis=1))
  col_norm = sg(jnp.linalg.norm(terms.rhs, axis=1))
  col_err = sg(_SAFETY * eps * root_d * jnp.abs(terms.col))
  out = stream(terms.lhs, terms.rhs, terms.col, row_coef, col_norm, col_err, k,
               _SAFETY * eps * root_d, block_size, precision, keep_pre)

  # The candidate answer: exact candidates, rest tied to the anchor. The
  # candidates enter as differences from the anchor, so their weights carry
  # no rounding of huge absolute log-likelihoods (theta far from x).
  exact_anchor, cand_rel = exact_candidates(x2d, theta2d, out.cand_index, out.anchor_index,
                                            terms)
  err_anchor = sg(out.err_anchor)
  rest_rel = out.lse_rest - out.q_anchor
  lse_cand = exact_anchor + jax.nn.logsumexp(
      jnp.concatenate([cand_rel, rest_rel[:, None]], axis=1), axis=1)
  # Its error bound relative to the mixture sum, in logs:
  #   sum_r exp(U_r - lo_c) min(1, 2 (e_r + e_c))
  #     <= [sum_r exp(U_r) min(1, 2 e_r) + 2 e_c sum_r exp(U_r)] / exp(lo_c).
  lo_anchor = sg(out.q_anchor) - err_anchor
  bound = jnp.logaddexp(out.rest_bound, jnp.log(2 * err_anchor) + out.rest_upper) - lo_anchor
  ok_cand = ~out.tie & (bound <= math.log(_TOL))

  # The GEMM answer, where every entry's error is tiny.
  lse_gemm = terms.row + out.lse_all
  ok_gemm = out.err_weighted <= _GEMM_OK

  lse = jnp.where(ok_cand, lse_cand, lse_gemm)
  need = ~ok_cand & ~ok_gemm
  paths = jnp.where(ok_cand, PATH_CANDIDATES, jnp.where(ok_gemm, PATH_GEMM, PATH_RECOMPUTED))

  def recompute_few(rows):
    x_rows = jnp.take(x2d, rows, axis=0, mode="clip")
    if second_pass and m > WIDE_CANDIDATES:
      # More columns sit near the top than k: the same pass over these rows
      # only, with WIDE_CANDIDATES candidates; the difference form for the rest.
      return mixture_lse_with_paths(
          x_rows, theta2d, terms.for_rows(x_rows), block_size=block_size,
          precision=precision, keep_pre=False, num_candidates=WIDE_CANDIDATES,
          second_pass=False)[0]
    return exact_lse_rows(x_rows, theta2d, terms.exact, terms.exact_diff,
                          jnp.take(theta2d, jnp.take(out.anchor_index, rows, mode="clip"),
                                   axis=0, mode="clip"))

  return _recompute_where_needed(lse, need, x2d, theta2d, out.anchor_index, terms,
                                 recompute_few), paths
