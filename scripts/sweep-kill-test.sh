#!/usr/bin/env bash
# Kills a smoke sweep with SIGKILL three times at random moments, reruns it
# to completion, and checks that no finished run was recomputed (its
# metrics.csv and summary.json are byte- and mtime-identical to when it first
# finished) and none was lost (every run of the grid finished).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/dropexp}
dir=$(mktemp -d /tmp/sweep-kill.XXXX)
go run ./scripts/synthdata --out "$dir/data" --train 400 --test 100 >/dev/null
flags=(--config configs/sweeps/table1.yaml --out "$dir/sweep" --seeds 1,2 --ratios 0.3,0.1 --jobs 2
	--set "dataset.path=$dir/data" --set train.batch_size=20 --set train.iterations=40
	--set "train.lr_steps=[{at: 30, lr: 0.0001}]" --set train.eval_every=10 --set train.checkpoint_every=5)
snapshot() { # finished run -> sha256 and mtime of its results
	for s in "$dir"/sweep/runs/*/summary.json; do
		[ -e "$s" ] || continue
		grep -q '"status": "finished"' "$s" || continue
		d=$(dirname "$s")
		echo "$(basename "$d") $(sha256sum "$d/metrics.csv" "$s" | cut -c1-16 | tr '\n' ' ') $(stat -c %Y.%N "$d/metrics.csv" | cut -c1-30)"
	done | sort
}
for k in 1 2 3; do
	"$BIN" sweep "${flags[@]}" >"$dir/kill$k.log" 2>&1 &
	pid=$!
	delay=$(awk -v s=$RANDOM 'BEGIN{srand(s); printf "%.1f", 6 + rand()*10}')
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	snapshot >"$dir/after-kill$k.txt"
	echo "kill $k after ${delay}s: $(wc -l <"$dir/after-kill$k.txt") runs finished so far"
done
before=$dir/after-kill3.txt
"$BIN" sweep "${flags[@]}" >"$dir/final.log" 2>&1
snapshot >"$dir/final.txt"
total=$("$BIN" sweep "${flags[@]}" --list 2>/dev/null | grep -c ' finished ' || true)
grid=$("$BIN" sweep "${flags[@]}" --list 2>/dev/null | grep -cE '^ +[0-9]+ ' || true)
echo "grid: $grid runs; finished: $total"
tail -n 3 "$dir/final.log"
# Every run finished before the last kill must be untouched.
if ! diff <(cat "$before") <(grep -F -f <(cut -d' ' -f1 "$before") "$dir/final.txt"); then
	echo "FAIL: a finished run was recomputed or changed" >&2
	exit 1
fi
if [ "$total" != "$grid" ]; then
	echo "FAIL: $((grid - total)) runs did not finish" >&2
	exit 1
fi
echo "PASS: $(wc -l <"$before") runs finished before the last kill were not recomputed; all $grid runs finished"
