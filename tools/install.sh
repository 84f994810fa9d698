#!/usr/bin/env bash
# Idempotent environment set-up for mmvmae2.
#
#   bash tools/install.sh [VENV_DIR]     (default: .venv)
#
# * Creates VENV_DIR if missing.  If the interpreter that creates it already has
#   torch (a GPU cluster with a CUDA build), the venv sees the system packages
#   and that torch is kept; otherwise the CPU torch ($TORCH_SPEC) is installed.
# * mmcv is compiled with its C++ ops, after torch, without build isolation
#   (pip caches the built wheel, so later runs take about a minute).
# * Everything else is pinned by constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
BASE_PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
PIP_FLAGS=(--disable-pip-version-check -q)

if [ ! -x "$VENV/bin/python" ]; then
  if "$BASE_PY" -c "import torch" 2>/dev/null; then
    echo "[install] torch found in $BASE_PY: venv with system site packages"
    "$BASE_PY" -m venv --system-site-packages "$VENV"
  else
    "$BASE_PY" -m venv "$VENV"
  fi
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip "${PIP_FLAGS[@]}")

"${PIP[@]}" install -c constraints.txt "setuptools>=77.0.3,<82" wheel ninja numpy
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "[install] installing $TORCH_SPEC"
  "${PIP[@]}" install -c constraints.txt "$TORCH_SPEC"
fi
# torch >= 2.4: fused AdamW on CPU (the schedules), SDPA with `scale`, nn.Module.compile.
if ! "$PY" -c "import sys, torch; v = torch.__version__.split('+')[0].split('.'); \
sys.exit(0 if (int(v[0]), int(v[1])) >= (2, 4) else 1)"; then
  echo "[install] torch $("$PY" -c 'import torch; print(torch.__version__)') is older than 2.4;" \
       "install torch >= 2.4 for your CUDA, or run with PYTHON set to an interpreter" \
       "without torch (the CPU build $TORCH_SPEC is then installed)" >&2
  exit 1
fi
if ! "$PY" -c "from mmcv.ops import RoIAlign" 2>/dev/null; then
  echo "[install] building mmcv with ops (first time: ~20 min on 2 cores)"
  MAX_JOBS=${MAX_JOBS:-2} "${PIP[@]}" install -c constraints.txt --no-build-isolation "mmcv==2.1.0"
fi
"${PIP[@]}" install -c constraints.txt -e ".[tests,detection]"
"$PY" -c "from mmcv.ops import RoIAlign; import mmaction, mmdet, mmvmae2; print('[install] ok: mmvmae2', mmvmae2.__version__)"
