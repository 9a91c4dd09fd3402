#!/usr/bin/env bash
# The GPU check (issue 15): on a CUDA machine with nothing but the checkout, inside 10 minutes.
#
#   bash bench/gpu_check.sh [TOTAL_SECONDS]        # default 570 s: under 10 minutes in all
#   PY=/path/to/python bash bench/gpu_check.sh      # use a Python that already has CUDA torch
#
# .venv is built from requirements.lock, which pins Python 3.11 on linux x86_64 and torch
# 2.14.1's CUDA 13.0 (cu130) wheels: those need an NVIDIA driver >= 580. On a machine with an
# older driver, or with another Python, point PY at a Python whose torch matches the driver
# (the script then installs demystify into it with `pip install --no-deps -e .` if missing).
# Steps, each timed and each with its own limit (`timeout`); a step that no longer fits in the
# time left is skipped, and the summary says so:
#   1. GPU present?  `nvidia-smi -L`. None: prints "no CUDA GPU found" and exits 2 at once,
#      before anything heavy (no venv, no tests).
#   2. venv          $PY (default .venv/bin/python) reused when it imports torch, demystify,
#                    nbclient and pytest; else `make venv` (requirements.lock on Python 3.11 /
#                    x86_64, `make venv REQUIREMENTS=requirements.txt` on any other), after
#                    saying whether the driver is new enough for the locked cu130 torch
#   3. nvidia-smi    the GPU, driver and CUDA version, for the record
#   4. unit tests    what `make test-gpu` runs first: pytest -m cuda (fit, autocast + GradScaler
#                    in bf16/fp16, DDP with NCCL)
#   5. chapters      what `make test-gpu` and `make bench` both run on CUDA, done once: each
#                    chapter alone in the GPU profile with its own asserts
#                    (bench/run_chapters.py --bench --profile gpu NN.ipynb), which writes its row
#                    of bench/results-gpu.md; each is reported against the 60 s goal
# Exit status: 0 every step that ran passed (skipped steps and chapters over 60 s are listed
# but are not failures); 1 a real failure (a test or chapter failed or hit its time limit, the
# venv could not be built, torch cannot see the GPU); 2 no CUDA GPU found.
set -uo pipefail

cd "$(dirname "$0")/.."
TOTAL=${1:-570}
GOAL_S=60                          # issue 15's goal: every chapter within 60 s on one modern GPU
CHAPTER_LIMIT=${CHAPTER_LIMIT:-150}     # a chapter is stopped after this many seconds
UNIT_LIMIT=${UNIT_LIMIT:-180}
VENV_LIMIT=${VENV_LIMIT:-300}
PY=${PY:-.venv/bin/python}
DEFAULT_PY=.venv/bin/python
LOCKED_DRIVER_MIN=580      # torch 2.14.1+cu130 (requirements.lock) needs this driver or newer
START=$SECONDS
FAILED=0
SUMMARY=()

left() { echo $((TOTAL - (SECONDS - START))); }
note() { SUMMARY+=("$1"); echo "$1"; }

# step NAME LIMIT COMMAND...: run COMMAND with at most LIMIT seconds (less if less time is
# left; skipped, status 3, when under 20 s are left), print its elapsed time; returns its
# status. Its output also goes to $STEP_LOG when that is set.
step() {
    local name=$1 limit=$2 status began
    shift 2
    if (( $(left) < 20 )); then
        note "SKIPPED  $name: only $(left) s of the ${TOTAL} s left"
        return 3
    fi
    (( limit > $(left) )) && limit=$(left)
    echo
    echo "=== $name (limit ${limit} s; $(left) s of ${TOTAL} s left) ==="
    began=$SECONDS
    timeout -k 10 "$limit" "$@" 2>&1 | tee "${STEP_LOG:-/dev/null}"
    status=${PIPESTATUS[0]}
    local took=$((SECONDS - began))
    if (( status == 124 || status == 137 )); then
        note "TIMEOUT  $name: stopped after its ${limit} s limit"
        FAILED=1
    elif (( status != 0 )); then
        note "FAILED   $name (exit $status) after ${took} s"
        FAILED=1
    else
        note "ok       $name in ${took} s"
    fi
    return $status
}

echo "GPU check: $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname), at most ${TOTAL} s"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "no CUDA GPU found (nvidia-smi is missing or lists no GPU): nothing was run."
    echo "Run this script on a machine with an NVIDIA GPU; on this one use make test."
    exit 2
fi

DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1 \
    | tr -d ' ')
DRIVER_MAJOR=${DRIVER%%.*}
echo "NVIDIA driver: ${DRIVER:-unknown (nvidia-smi --query-gpu=driver_version gave nothing)}"

usable() { "$1" -c "import torch, demystify, nbclient, pytest" 2>/dev/null; }
torch_of() { "$1" -c 'import torch; print("torch", torch.__version__)'; }
python_of() {
    "$1" -c 'import platform, sys
print("Python", sys.version.split()[0], "on", sys.platform, platform.machine())' 2>/dev/null \
        || echo "not runnable"
}

if usable "$PY"; then
    note "ok       venv: reusing $PY ($(torch_of "$PY"))"
elif [ "$PY" != "$DEFAULT_PY" ]; then
    # A Python given by the caller: use its torch as it is, add only the course's package.
    if ! "$PY" -c "import torch" 2>/dev/null; then
        echo "PY=$PY cannot import torch: give a Python that has a CUDA build of torch."
        exit 1
    fi
    if ! "$PY" -c "import demystify" 2>/dev/null; then
        step "install demystify into $PY (pip install --no-deps -e .)" 120 \
            "$PY" -m pip install -q --no-deps -e . || exit 1
    fi
    if ! usable "$PY"; then
        echo "PY=$PY lacks what the check runs (nbclient, pytest, ...): install them into it,"
        echo "e.g. $PY -m pip install -r requirements.txt --no-deps, or leave PY unset for .venv."
        exit 1
    fi
    note "ok       venv: using PY=$PY ($(torch_of "$PY"))"
else
    if [ -n "$DRIVER_MAJOR" ] && [[ "$DRIVER_MAJOR" =~ ^[0-9]+$ ]] \
            && (( DRIVER_MAJOR < LOCKED_DRIVER_MIN )); then
        echo "WARNING: .venv is about to get requirements.lock's torch 2.14.1 (CUDA 13.0, cu130"
        echo "  wheels), which needs NVIDIA driver >= ${LOCKED_DRIVER_MIN};" \
             "this machine has ${DRIVER}."
        echo "  That torch will most likely not see the GPU. Instead run with a Python whose torch"
        echo "  matches this driver: PY=/path/to/python bash bench/gpu_check.sh"
    elif [ -z "$DRIVER_MAJOR" ]; then
        echo "Note: the driver version is unknown; requirements.lock's cu130 torch needs" \
             "driver >= ${LOCKED_DRIVER_MIN}."
    else
        echo "Driver ${DRIVER} >= ${LOCKED_DRIVER_MIN}: fine for requirements.lock's cu130 torch."
    fi
    # make venv builds .venv with the Python that is there already, else $PYTHON (python3).
    BASE_PY=${PYTHON:-python3}
    [ -x "$DEFAULT_PY" ] && BASE_PY=$DEFAULT_PY
    VENV_ARGS=()
    if ! "$BASE_PY" -c "import platform, sys
sys.exit(not ((3, 11, 5) <= sys.version_info[:3] < (3, 12) and sys.platform == 'linux'
              and platform.machine() == 'x86_64'))" 2>/dev/null; then
        echo "requirements.lock is for Python 3.11 (3.11.5+) on linux x86_64; $BASE_PY is" \
             "$(python_of "$BASE_PY"): using requirements.txt's ranges instead"
        echo "(make venv REQUIREMENTS=requirements.txt), not the locked versions."
        VENV_ARGS=(REQUIREMENTS=requirements.txt)
    fi
    step "venv (make venv${VENV_ARGS[*]:+ ${VENV_ARGS[*]}})" "$VENV_LIMIT" make venv "${VENV_ARGS[@]}" || {
        echo "no usable .venv: stopping here."; printf '%s\n' "${SUMMARY[@]}"; exit 1; }
fi

step "nvidia-smi" 30 nvidia-smi
if ! "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
    note "FAILED   $(torch_of "$PY") cannot see the GPU (a CPU-only build, or a driver too\
 old for its CUDA: driver ${DRIVER:-unknown}; see PY= at the top of this script)"
    printf '%s\n' "${SUMMARY[@]}"
    exit 1
fi

step "CUDA unit tests (pytest -m cuda)" "$UNIT_LIMIT" "$PY" -m pytest -q tests -m cuda -rs

CHAPTER_ROWS=()
for notebook in chapters/[0-9][0-9]_*.ipynb; do
    chapter=$(basename "$notebook" .ipynb)
    STEP_LOG=$(mktemp)
    step "chapter $chapter (GPU profile)" "$CHAPTER_LIMIT" \
        env PYTHONPATH="$PWD/tests/offline" "$PY" bench/run_chapters.py --bench --profile gpu \
        "$notebook"
    status=$?
    wall=$(sed -n 's/^  ok in \([0-9.]*\) s wall.*/\1/p' "$STEP_LOG" | tail -1)
    rm -f "$STEP_LOG"
    unset STEP_LOG
    if (( status == 3 )); then
        CHAPTER_ROWS+=("$chapter  skipped (no time left)")
    elif [ -n "$wall" ]; then
        verdict=$(awk -v w="$wall" -v g="$GOAL_S" 'BEGIN { print (w <= g) ? "within" : "OVER" }')
        CHAPTER_ROWS+=("$chapter  ${wall} s  ${verdict} the ${GOAL_S} s goal")
    elif (( status == 124 || status == 137 )); then
        CHAPTER_ROWS+=("$chapter  stopped at its ${CHAPTER_LIMIT} s limit: OVER the ${GOAL_S} s goal")
    else
        CHAPTER_ROWS+=("$chapter  FAILED (exit $status): no time to report")
    fi
done

echo
echo "=== summary: $((SECONDS - START)) s in all (limit ${TOTAL} s) ==="
printf '%s\n' "${SUMMARY[@]}"
echo
echo "chapters against the ${GOAL_S} s goal (wall time, kernel start included):"
printf '  %s\n' "${CHAPTER_ROWS[@]}"
[ -f bench/results-gpu.md ] && { echo; cat bench/results-gpu.md; }
echo
if (( FAILED )); then echo "GPU check: FAILED (see above)"; else echo "GPU check: passed"; fi
exit $FAILED
