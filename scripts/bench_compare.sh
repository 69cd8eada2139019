#!/usr/bin/env bash
# Speed comparison: `dropexp bench` against the PyTorch reference
# (scripts/bench_pytorch.py) on ConvNet-Quick and ResNet-20, same batch, same
# standard-dropout ratio, synthetic data.
#
# For each model it runs ROUNDS rounds; a round runs dropexp (DROPEXP_THREADS
# threads) and then PyTorch with 1 and with 2 threads, keeping the better
# PyTorch run of the two ("best of 1 and 2 threads"). It prints a table of
# medians over the rounds and ends with exactly two lines:
#   convnet-quick train ratio: X.XX
#   resnet20 train ratio: X.XX
# (median dropexp train img/s / median PyTorch train img/s). A model that
# dropexp rejects gets "n/a (...)" instead of a number.
#
# NEIGHBOUR=N starts N CPU-bound processes (busy shell loops) beside both
# sides for the whole comparison, as on a machine shared with a build or a
# second sweep; they are stopped when the script ends.
#
# Before the two train lines it prints the eval ratios and each round's
# train ratio (dropexp over that round's best PyTorch), so the spread shows.
#
# Environment: ROUNDS (3), NEIGHBOUR (0), DROPEXP (bin/dropexp), DROPEXP_THREADS (2),
# PYTHON (/usr/bin/python3, the Debian python that sees python3-torch),
# ITERS_CONVNET (10), ITERS_RESNET (5) timed iterations per block, BLOCKS (3)
# timed blocks (median reported), WARMUP (3): the same for both sides,
# DROPOUT_CONVNET (0.3), DROPOUT_RESNET (0.1), KERNELS (dropexp's kernel set;
# empty: the default), LOG (a temp file: stderr of runs).
# Run `make bench-compare` (builds first) or this script from the repo root.
set -u

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DROPEXP=${DROPEXP:-bin/dropexp}
DROPEXP_THREADS=${DROPEXP_THREADS:-2}
KERNELS=${KERNELS:-}
PYTHON=${PYTHON:-/usr/bin/python3}
WARMUP=${WARMUP:-3}
BLOCKS=${BLOCKS:-3}
LOG=${LOG:-$(mktemp /tmp/bench_compare.XXXXXX.log)}
PYBENCH=scripts/bench_pytorch.py

die() { echo "bench_compare: $*" >&2; exit 2; }
[ -x "$DROPEXP" ] || die "$DROPEXP not found; run 'make build' first"
"$PYTHON" -c 'import torch' 2>/dev/null ||
  die "$PYTHON cannot import torch; apt-get install -y python3-torch"

# json_field FIELD  <<< one line of JSON  -> the value, or nothing
json_field() {
  "$PYTHON" -c '
import json, sys
try:
    v = json.loads(sys.stdin.read()).get(sys.argv[1])
except Exception:
    sys.exit(1)
if v is None:
    sys.exit(1)
print(v)' "$1"
}

# last_json: the last line of stdin that starts with "{"
last_json() { grep '^{' | tail -n 1; }

# median of the numbers given as arguments (nothing if none)
median() {
  [ $# -gt 0 ] || return 0
  "$PYTHON" -c 'import statistics, sys; print("%.1f" % statistics.median(map(float, sys.argv[1:])))' "$@"
}
maxof() {
  [ $# -gt 0 ] || return 0
  "$PYTHON" -c 'import sys; print("%.1f" % max(map(float, sys.argv[1:])))' "$@"
}

NEIGHBOUR=${NEIGHBOUR:-0}
HOGS=()
stop_hogs() { [ ${#HOGS[@]} -eq 0 ] || kill "${HOGS[@]}" 2>/dev/null; }
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < NEIGHBOUR; i++)); do
  bash -c 'while :; do :; done' &
  HOGS+=($!)
done

echo "bench_compare: $(nproc) cores, $NEIGHBOUR CPU-bound neighbours, load average:$(uptime | sed 's/.*load average://'); rounds=$ROUNDS; log $LOG" >&2

TABLE=()
RATIO_LINES=()
EVAL_LINES=()
ROUND_LINES=()
STATUS=0

for MODEL in convnet-quick resnet20; do
  if [ "$MODEL" = convnet-quick ]; then
    BATCH=100; ITERS=${ITERS_CONVNET:-10}; P=${DROPOUT_CONVNET:-0.3}
  else
    BATCH=128; ITERS=${ITERS_RESNET:-5}; P=${DROPOUT_RESNET:-0.1}
  fi
  D_TRAIN=(); D_EVAL=(); D_RSS=(); P_TRAIN=(); P_EVAL=(); P_RSS=(); P_THR=()
  D_FAIL=""
  R_RATIOS=()
  for ((r = 1; r <= ROUNDS; r++)); do
    DT=
    # dropexp
    if [ -z "$D_FAIL" ]; then
      echo "== round $r $MODEL: $DROPEXP bench --model $MODEL --batch $BATCH --iters $ITERS --warmup $WARMUP --blocks $BLOCKS --threads $DROPEXP_THREADS --dropout $P --kernels ${KERNELS:-direct} --json" >>"$LOG"
      OUT=$("$DROPEXP" bench --model "$MODEL" --batch "$BATCH" --iters "$ITERS" \
              --warmup "$WARMUP" --blocks "$BLOCKS" --threads "$DROPEXP_THREADS" --dropout "$P" --kernels "${KERNELS:-direct}" --json 2>>"$LOG")
      RC=$?
      LINE=$(printf '%s\n' "$OUT" | last_json)
      echo "$LINE" >>"$LOG"
      T=$(json_field train_img_s <<<"$LINE")
      if [ $RC -ne 0 ] || [ -z "$T" ]; then
        D_FAIL="dropexp bench exited $RC without a result for $MODEL"
        echo "bench_compare: $D_FAIL (see $LOG)" >&2
      else
        D_TRAIN+=("$T"); DT=$T
        E=$(json_field eval_img_s <<<"$LINE") && D_EVAL+=("$E")
        M=$(json_field peak_rss_mb <<<"$LINE") && D_RSS+=("$M")
        echo "  round $r dropexp  $MODEL: train $T img/s" >&2
      fi
    fi
    # PyTorch, best of 1 and 2 threads
    BEST=""; BEST_T=0
    for TH in 1 2; do
      echo "== round $r $MODEL: $PYTHON $PYBENCH --model $MODEL --batch $BATCH --iters $ITERS --warmup $WARMUP --blocks $BLOCKS --threads $TH --dropout $P" >>"$LOG"
      LINE=$("$PYTHON" "$PYBENCH" --model "$MODEL" --batch "$BATCH" --iters "$ITERS" \
               --warmup "$WARMUP" --blocks "$BLOCKS" --threads "$TH" --dropout "$P" 2>>"$LOG" | last_json)
      echo "$LINE" >>"$LOG"
      T=$(json_field train_img_s <<<"$LINE") || { echo "bench_compare: PyTorch run failed (see $LOG)" >&2; continue; }
      echo "  round $r pytorch  $MODEL threads $TH: train $T img/s" >&2
      if "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$T" "$BEST_T"; then
        BEST=$LINE; BEST_T=$T
      fi
    done
    if [ -n "$BEST" ]; then
      P_TRAIN+=("$BEST_T")
      E=$(json_field eval_img_s <<<"$BEST") && P_EVAL+=("$E")
      M=$(json_field peak_rss_mb <<<"$BEST") && P_RSS+=("$M")
      P_THR+=("$(json_field threads <<<"$BEST")")
      [ -z "$DT" ] || R_RATIOS+=("$("$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$DT" "$BEST_T")")
    fi
  done

  DM=$(median "${D_TRAIN[@]+"${D_TRAIN[@]}"}")
  PM=$(median "${P_TRAIN[@]+"${P_TRAIN[@]}"}")
  if [ -n "$DM" ]; then
    TABLE+=("$(printf '%-8s %-14s %8s %16s %15s %13s' dropexp "$MODEL" "$DROPEXP_THREADS" "$DM" \
      "$(median "${D_EVAL[@]+"${D_EVAL[@]}"}")" "$(maxof "${D_RSS[@]+"${D_RSS[@]}"}")")")
  fi
  if [ -n "$PM" ]; then
    THR=$(IFS=,; echo "${P_THR[*]}")
    TABLE+=("$(printf '%-8s %-14s %8s %16s %15s %13s' pytorch "$MODEL" "$THR" "$PM" \
      "$(median "${P_EVAL[@]+"${P_EVAL[@]}"}")" "$(maxof "${P_RSS[@]+"${P_RSS[@]}"}")")")
  fi

  DE=$(median "${D_EVAL[@]+"${D_EVAL[@]}"}")
  PE=$(median "${P_EVAL[@]+"${P_EVAL[@]}"}")
  if [ -n "$DE" ] && [ -n "$PE" ]; then
    EVAL_LINES+=("$MODEL eval ratio: $("$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$DE" "$PE")")
  fi
  [ ${#R_RATIOS[@]} -eq 0 ] || ROUND_LINES+=("$MODEL train ratio per round: ${R_RATIOS[*]}")
  if [ -n "$DM" ] && [ -n "$PM" ]; then
    RATIO_LINES+=("$MODEL train ratio: $("$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$DM" "$PM")")
  elif [ -z "$DM" ] && [ "$MODEL" = resnet20 ]; then
    RATIO_LINES+=("resnet20 train ratio: n/a (dropexp has no resnet20 yet)")
  elif [ -z "$DM" ]; then
    RATIO_LINES+=("$MODEL train ratio: n/a (dropexp bench failed, see $LOG)"); STATUS=1
  else
    RATIO_LINES+=("$MODEL train ratio: n/a (PyTorch run failed, see $LOG)"); STATUS=1
  fi
done

echo
printf '%-8s %-14s %8s %16s %15s %13s\n' impl model threads "train img/s med" "eval img/s med" "peak RSS MB"
for L in "${TABLE[@]+"${TABLE[@]}"}"; do echo "$L"; done
echo "(medians over $ROUNDS rounds; pytorch = best of 1 and 2 threads per round, threads column lists the winners; peak RSS = max over rounds:"
echo " dropexp: VmHWM of the bench process, training and evaluation graphs; pytorch: a separate training-only process, ~230 MB of it is libtorch itself)"
for L in "${ROUND_LINES[@]+"${ROUND_LINES[@]}"}" "${EVAL_LINES[@]+"${EVAL_LINES[@]}"}"; do echo "$L"; done
for L in "${RATIO_LINES[@]}"; do echo "$L"; done
exit $STATUS
