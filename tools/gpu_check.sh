#!/usr/bin/env bash
# One lent GPU machine's checks, prepared ahead because its time is short
# (15 minutes a session, start included). Run from the repository root there:
#
#   OUT=DIR DATA=.devdata bash tools/gpu_check.sh [SECONDS]
#
# It needs what this CPU machine prepared (README "GPU check"): the wheels of the
# train extra's packages the GPU image lacks in .whl/, and in DATA the prepared
# tfds MNIST (DATA/tfds/mnist) and the CIFAR-10 subset (DATA/cifar10_subset.npz).
# Stages, each boxed in time so that a failure costs little and everything
# finished comes back in OUT/gpu_results.tar.gz (logs, each run's metrics and
# pictures) and OUT/mnist_classifier.tar.gz (the trained scorer):
#   0. versions, the wheels, imports (fails fast);
#   1. in the background: the MNIST classifier (Stacked MNIST's scorer) and
#      sig_nll's float32-vs-float64 accuracy sweep (tools/sig_nll_accuracy_sweep.py);
#   2. the benchmarks (benchmarks/sig_nll.py, train_step.py, vs_torch.py on cuda);
#   3. the image configs, concurrently, until the deadline: Stacked MNIST DCGAN(M)
#      and DCGAN-SI(M) x seeds 0-2 (cosine rates to 1%, EMA 0.999, STACKED_STEPS
#      steps), and each CIFAR-10 config for CIFAR_STEPS steps on the subset.
set -u
budget=${1:-480}
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
log() { echo "[$(date +%T) +$(($(date +%s) - t0))s] $*"; }

W=${WORK:-/tmp/gpu}
OUT=${OUT:-$W/out}
DATA=${DATA:-.devdata}
STACKED_STEPS=${STACKED_STEPS:-20000}
CIFAR_STEPS=${CIFAR_STEPS:-1000}
# For a dry run on a CPU machine: PY=.venv/bin/python WHEELS=0 BENCH=0 CLASSIFIER_STEPS=20 ...
PY=${PY:-python3}
WHEELS=${WHEELS:-1}
BENCH=${BENCH:-1}
CLASSIFIER_STEPS=${CLASSIFIER_STEPS:-3000}
SEEDS=${SEEDS:-0 1 2}
CIFAR_CONFIGS=${CIFAR_CONFIGS:-cifar10_dcgan cifar10_dcgan_si cifar10_wgangp cifar10_wgangp_si}
STACKED_EXTRA=${STACKED_EXTRA:-}  # more --config.* flags for the Stacked MNIST runs
mkdir -p "$W/logs" "$W/runs" "$OUT"
# Several processes share the one GPU: none may take 75% of its memory up front.
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=2

pack() {  # what comes back: two files under 16 MiB (runs without checkpoints or samples)
  tar czf "$OUT/gpu_results.tar.gz" -C "$W" --exclude='*/checkpoints*' \
    --exclude='*/samples_final.npz' logs runs 2>/dev/null
  tar czf "$OUT/mnist_classifier.tar.gz" -C "$W/runs" mnist_classifier 2>/dev/null
  log "packed $(du -h "$OUT"/*.tar.gz | tr '\n' ' ')"
}
trap pack EXIT

# 0. The machine, the wheels, the imports.
nvidia-smi -L || true
if [ "$WHEELS" = 1 ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
"$PY" - >"$W/logs/versions.txt" 2>&1 <<'EOF'
import importlib.metadata as md
import jax
for p in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "chex", "numpy", "torch",
          "grain", "tensorflow-datasets", "ml-collections"):
  print(p, md.version(p))
print(jax.devices(), jax.default_backend())
import sigjax.training, sigjax.data.images, experiments.main  # noqa: F401  (fail fast)
EOF
rc=$?
cat "$W/logs/versions.txt"
[ "$rc" = 0 ] || { log "imports failed"; exit 4; }

run_bg() {  # name seconds command...: a background job, its log under logs/
  local name=$1 seconds=$2; shift 2
  (timeout --signal=TERM --kill-after=20 "$seconds" "$@" >"$W/logs/$name.log" 2>&1;
   echo "exit $?" >>"$W/logs/$name.log") &
}

# 1. The classifier (needed before Stacked MNIST scores) and the accuracy sweep.
classifier=$W/runs/mnist_classifier
run_bg mnist_classifier 200 "$PY" -m experiments.main --config=configs/mnist_classifier.py \
  --config.data.data_dir="$DATA/tfds" --config.num_steps="$CLASSIFIER_STEPS" \
  --config.eval_every="$CLASSIFIER_STEPS" --workdir="$classifier"
classifier_pid=$!
run_bg sig_nll_accuracy "$(($(left) - 30))" "$PY" tools/sig_nll_accuracy_sweep.py

# 2. The benchmarks (the classifier and the sweep run beside them: mostly host work).
log "benchmarks"
[ "$BENCH" = 1 ] && timeout 60 "$PY" benchmarks/sig_nll.py --reps=3 2>&1 | tee "$W/logs/bench_sig_nll.log" | tail -n 12
[ "$BENCH" = 1 ] && timeout 90 "$PY" benchmarks/train_step.py \
  --pairs=cifar10_dcgan,cifar10_wgangp,stacked_mnist_dcgan,gmm_gan 2>&1 \
  | tee "$W/logs/bench_train_step.log" | tail -n 12
[ "$BENCH" = 1 ] && timeout 120 "$PY" benchmarks/vs_torch.py --torch_device=cuda --steps=50 --repeats=3 2>&1 \
  | tee "$W/logs/bench_vs_torch.log" | tail -n 12

# 3. The image configs, until the deadline (SIGTERM checkpoints and says so).
log "image runs; waiting for the classifier"
wait "$classifier_pid"
grep -E "accuracy|exit" "$W/logs/mnist_classifier.log" | tail -n 3
deadline=$(($(left) - 25))
common=(--config.data.data_dir="$DATA/tfds" --config.optim.lr_final_fraction=0.01
        --config.optim.ema_decay=0.999 --config.num_steps="$STACKED_STEPS" --config.eval_every=5000
        --config.evals.stacked_mnist.classifier_workdir="$classifier")
for seed in $SEEDS; do
  for model in dcgan dcgan_si; do
    run_bg "${model}_M_seed$seed" "$deadline" "$PY" -m experiments.main \
      --config="configs/stacked_mnist_$model.py:M" "${common[@]}" --config.seed="$seed" \
      $STACKED_EXTRA --workdir="$W/runs/${model}_M_seed$seed"
  done
done
for config in $CIFAR_CONFIGS; do
  run_bg "$config" "$deadline" "$PY" -m experiments.main --config="configs/$config.py" \
    --config.data.name=local --config.data.path="$DATA/cifar10_subset.npz" \
    --config.num_steps="$CIFAR_STEPS" --config.eval_every="$CIFAR_STEPS" \
    --config.log_every=100 --config.checkpoint_every="$CIFAR_STEPS" --workdir="$W/runs/$config"
done
wait
log "done"
for f in "$W"/logs/*_seed*.log "$W"/logs/cifar10_*.log; do
  echo "== $(basename "$f")"; grep -E "eval/|steps/s|exit" "$f" | tail -n 4
done
tail -n 3 "$W/logs/sig_nll_accuracy.log"
