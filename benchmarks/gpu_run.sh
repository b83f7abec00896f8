#!/usr/bin/env bash
# One command for the day a GPU is lent: the CUDA test suite on the real GPU, then training
# throughput of tinygrad_rnn beside torch's fused (cuDNN) layers on the same GPU.
#
#   bash benchmarks/gpu_run.sh                 # results in benchmarks/gpu-results/<UTC time>/
#   OUT=DIR CONFIGS="small xl" CELLS=lstm bash benchmarks/gpu_run.sh
#
# Needs an NVIDIA GPU with its driver, and Python >= 3.11. Installs into the venv $VENV
# (default .venv-gpu, made with --system-site-packages so a CuPy or torch already installed on
# the machine is used) only what is missing: CuPy (cupy-cuda12x[ctk]), numpy, threadpoolctl,
# pytest, hypothesis, torch==2.13.0, ... from PyPI, else from the wheels in $WHEELS (default:
# the checkout's root). Without a CUDA build of torch the torch column is left empty. The
# package itself runs from this checkout (PYTHONPATH).
#
# Writes to $OUT: env.txt (GPU, driver, versions), pytest-cuda.txt and pytest-cuda.xml (the
# "cuda" cases on the GPU, never on the CuPy stand-in: --fake-cuda=off), bench.jsonl and
# bench.txt (benchmarks/train_lstm.py --device cuda: small, medium, large and xl = batch 256,
# hidden 1024). Copy the tables of bench.txt into benchmarks/RESULTS.md with the date and GPU.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-benchmarks/gpu-results/$(date -u +%Y%m%dT%H%M%SZ)}
VENV=${VENV:-.venv-gpu}
PYTHON=${PYTHON:-python3}
CELLS=${CELLS:-lstm gru}
CONFIGS=${CONFIGS:-small medium large xl}
mkdir -p "$OUT"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV" || exit 1
PY="$VENV/bin/python"
need() {  # need MODULE PIP-REQUIREMENT: install it when it does not import
  "$PY" -c "import $1" 2>/dev/null && return 0
  echo "gpu_run: installing $2" >&2
  "$PY" -m pip install -q --retries 1 --timeout 15 "$2" ||
    "$PY" -m pip install -q --no-index --find-links "${WHEELS:-.}" "$2" ||
    echo "gpu_run: could not install $2 (offline? put its wheel in \$WHEELS)" >&2
}
need numpy "numpy>=1.26"
need threadpoolctl "threadpoolctl>=3.1"
need cupy "cupy-cuda12x[ctk]"
need pytest "pytest>=8"
need hypothesis hypothesis
need graphviz "graphviz>=0.20"
need tqdm tqdm
need matplotlib matplotlib
need torch torch==2.13.0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OPENBLAS_NUM_THREADS=1 TQDM_DISABLE=1

{
  date -u
  git rev-parse HEAD 2>/dev/null
  nvidia-smi 2>&1 | head -15
  "$PY" - <<'EOF'
import numpy, tinygrad_rnn as tg
print("numpy", numpy.__version__, "| tg.cuda.is_available():", tg.cuda.is_available(),
      tg.cuda.reason())
try:
    import cupy
    print("cupy", cupy.__version__, cupy.cuda.runtime.getDeviceProperties(0)["name"].decode())
except Exception as e:
    print("cupy:", type(e).__name__, e)
try:
    import torch
    print("torch", torch.__version__, "cuda:", torch.cuda.is_available())
except Exception as e:
    print("torch:", type(e).__name__, e)
EOF
} 2>&1 | tee "$OUT/env.txt"

# a real GPU only: tg.cuda.reason() is empty for one (it names a stand-in, or why not)
if ! "$PY" -c "import tinygrad_rnn as tg, sys; sys.exit(not tg.cuda.is_available() or bool(tg.cuda.reason()))"; then
  echo "gpu_run: no usable CUDA GPU (see $OUT/env.txt); nothing measured" >&2
  exit 1
fi

# without torch (offline) the modules that import it cannot be collected: run the others
"$PY" -m pytest -p no:cacheprovider -m cuda --fake-cuda=off -rs --continue-on-collection-errors \
  --junitxml="$OUT/pytest-cuda.xml" tests 2>&1 | tee "$OUT/pytest-cuda.txt"
tests_rc=${PIPESTATUS[0]}

# shellcheck disable=SC2086 # CONFIGS and CELLS are lists of words
"$PY" benchmarks/train_lstm.py --device cuda --config $CONFIGS --cell $CELLS \
  --threads "$(nproc)" --json "$OUT/bench.jsonl" 2>&1 | tee "$OUT/bench.txt"
bench_rc=${PIPESTATUS[0]}

echo "gpu_run: results in $OUT (tests exit $tests_rc, benchmark exit $bench_rc)"
[ "$tests_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
