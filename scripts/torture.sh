#!/usr/bin/env bash
# make torture: end-to-end cases of run management against the built binary
# on small synthetic data in the official formats (scripts/synthdata): a run
# is its identity, nothing is overwritten, checkpoints and data are checked
# before a resume, divergence, signals, sweeps. Ends with "N passed, M failed"
# and a non-zero status if any case failed.
#
# Add a case: write a function named case_SOMETHING below. It runs in its own
# directory (the current one) in a subshell with `set -e`, so any failing
# command fails it; say why with `die MESSAGE`. Helpers: run_yaml (a tiny
# run config), dx (the binary), expect_fail, has, same_tree, wait_for, flip.
# Or add a file to scripts/torture.d/ (see the runner at the end).
#
#   scripts/torture.sh [REGEX]    # only the cases whose name matches REGEX
#
# Environment: BIN (bin/dropexp), KEEP=1 keeps the work directory.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${BIN:-bin/dropexp}")
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/torture.XXXXXX)
DATA=$WORK/data
only=${1:-}

go run ./scripts/synthdata --out "$DATA" --train 200 --test 50 --sets cifar10,mnist >/dev/null || exit 1

dx() { "$BIN" "$@"; }
die() {
	echo "FAIL: $*" >&2
	exit 1
}

# run_yaml FILE [ITERATIONS]: ConvNet-Quick, standard 0.3, batch 10, one
# thread (so runs are bit-reproducible), evaluations every 10 iterations and
# a checkpoint every 5.
run_yaml() {
	cat >"$1" <<EOF
model: convnet-quick
threads: 1
out: results
dataset: {name: cifar10, path: $DATA}
dropout: {variant: standard, ratio: "0.3"}
train: {batch_size: 10, iterations: ${2:-20}, lr: 0.001, eval_every: 10, checkpoint_every: 5}
EOF
}

# expect_fail CMD...: CMD must exit non-zero; its output goes to ./out.
expect_fail() {
	if "$@" >out 2>&1; then
		cat out
		die "expected a failure: $*"
	fi
	if grep -qE '^panic:|goroutine [0-9]+ \[' out; then
		cat out
		die "it panicked: $*"
	fi
}
# has FILE TEXT: FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1" || {
	echo "--- $1:"
	cat "$1"
	die "$1 lacks: $2"
}; }
# same_tree DIR: prints a fingerprint (content and mtime of every file) of DIR.
same_tree() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r stat -c '%n %Y.%y %s' && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
# wait_for FILE [SECONDS]: until FILE exists.
wait_for() {
	local i
	for ((i = 0; i < ${2:-120} * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	die "timed out waiting for $1"
}
# flip FILE POS: flips the lowest bit of byte POS of FILE in place.
flip() {
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# interrupted DIR_OUT [ROWS]: a run of run.yaml into DIR_OUT stopped by
# SIGTERM after its first checkpoint (and once metrics.csv has ROWS rows);
# prints its run directory. (Background
# commands run "$BIN" itself, not dx, so that $! is dropexp's pid.)
interrupted() {
	local out=$1 rows=${2:-0} pid i
	"$BIN" train --config run.yaml --out "$out" >"$out.log" 2>&1 &
	pid=$!
	wait_for "$out/standard-p0.3-layer-s1/checkpoint.gob"
	for ((i = 0; i < 1200; i++)); do
		[ "$(wc -l <"$out/standard-p0.3-layer-s1/metrics.csv")" -gt "$rows" ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" || true
	grep -q '"status": "interrupted"' "$out/standard-p0.3-layer-s1/summary.json" || die "not interrupted: $(cat "$out.log")"
	echo "$out/standard-p0.3-layer-s1"
}
# reference: metrics.csv of an uninterrupted run of run.yaml.
reference() { dx train --config run.yaml --out ref >/dev/null 2>&1 && cat ref/standard-p0.3-layer-s1/metrics.csv; }

# --- cases -------------------------------------------------------------------

# Another train.lr or dataset.name into one --out: the finished run stays, the new one gets its own directory.
case_other_config_gets_own_directory() {
	run_yaml run.yaml
	dx train --config run.yaml >/dev/null 2>&1
	before=$(same_tree results/standard-p0.3-layer-s1)
	dx train --config run.yaml --set train.lr=0.002 >out 2>&1
	has out "results/standard-p0.3-layer-s1 holds a run of another config (- lr: 0.001, + lr: 0.002), left as it is"
	dx train --config run.yaml --set dataset.name=mnist >out 2>&1
	has out "holds a run of another config"
	[ "$(same_tree results/standard-p0.3-layer-s1)" = "$before" ] || die "the first run changed"
	n=$(ls -d results/standard-p0.3-layer-s1-* | wc -l)
	[ "$n" = 2 ] || die "want 2 more run directories, got $n"
	for d in results/standard-p0.3-layer-s1-*; do has "$d/summary.json" '"status": "finished"'; done
}

# Make demo's default out does not replace a CIFAR run of the same name.
case_demo_beside_a_cifar_run() {
	run_yaml run.yaml
	dx train --config run.yaml --set dropout.variant=plain >/dev/null 2>&1
	before=$(same_tree results/plain-layer-s1)
	dx train --set train.iterations=4 --set train.eval_every=2 --set train.lr_steps= \
		--set dataset.train_limit=100 --set dataset.test_limit=50 >out 2>&1
	has out "results/plain-layer-s1 holds a run of another config"
	[ "$(same_tree results/plain-layer-s1)" = "$before" ] || die "the CIFAR run changed"
	ls -d results/plain-layer-s1-* >/dev/null
}

# A finished run of the same identity (also with other threads, checkpoint_every or a copy of the data) is not trained again.
case_same_run_already_finished() {
	run_yaml run.yaml
	dx train --config run.yaml >/dev/null 2>&1
	before=$(same_tree results)
	cp -r "$DATA" copy
	for set in threads=2 train.checkpoint_every=3 "dataset.path=$PWD/copy" out=results; do
		dx train --config run.yaml --set "$set" >out 2>&1
		has out "already finished: results/standard-p0.3-layer-s1"
	done
	[ "$(same_tree results)" = "$before" ] || die "a finished run was touched"
}

# Train without --resume on an interrupted run resumes it, with the numbers of an uninterrupted run.
case_interrupted_run_resumes_itself() {
	run_yaml run.yaml 40
	want=$(reference)
	run=$(interrupted results)
	dx train --config run.yaml >out 2>&1
	has out "resuming the interrupted run from its checkpoint in $run"
	[ "$(cat "$run/metrics.csv")" = "$want" ] || die "resumed metrics.csv differs from the uninterrupted run"
	[ ! -e "$run/checkpoint.gob" ] || die "a finished run kept its checkpoint"
}

# A SIGKILLed run resumes (temporary files of the killed writes are removed) to the same numbers.
case_sigkill_and_resume() {
	run_yaml run.yaml 40
	want=$(reference)
	"$BIN" train --config run.yaml >log 2>&1 &
	pid=$!
	wait_for results/standard-p0.3-layer-s1/checkpoint.gob
	kill -9 $pid
	wait $pid || true
	touch results/standard-p0.3-layer-s1/.metrics.csv.tmp123 results/standard-p0.3-layer-s1/.checkpoint.gob.tmp9
	dx train --config run.yaml >out 2>&1
	has out "resuming the interrupted run"
	[ "$(cat results/standard-p0.3-layer-s1/metrics.csv)" = "$want" ] || die "metrics.csv differs after SIGKILL and resume"
	! ls -a results/standard-p0.3-layer-s1 | grep -q '\.tmp' || die "temporary files left"
}

# --restart trains an interrupted run again from iteration 0; a finished one is never restarted.
case_restart() {
	run_yaml run.yaml 40
	want=$(reference)
	run=$(interrupted results)
	dx train --config run.yaml --restart >out 2>&1
	has out "starting again from iteration 0 (--restart discards its checkpoint)"
	[ "$(cat "$run/metrics.csv")" = "$want" ] || die "restarted metrics.csv differs"
	expect_fail dx train --config run.yaml --restart
	has out "never overwritten"
}

# A flipped byte in checkpoint.gob is refused (15 trials), the file kept, and --restart named.
case_flipped_checkpoint_byte() {
	run_yaml run.yaml 40
	run=$(interrupted results)
	cp "$run/checkpoint.gob" good.gob
	metrics=$(sha256sum <"$run/metrics.csv")
	size=$(stat -c %s good.gob)
	for pos in 0 30 80 $((size - 1)) $(for i in $(seq 11); do echo $((RANDOM * 32768 % size + RANDOM % size)); done); do
		pos=$((pos % size))
		cp good.gob "$run/checkpoint.gob"
		flip "$run/checkpoint.gob" $pos
		cp "$run/checkpoint.gob" bad.gob
		expect_fail dx train --resume "$run"
		has out "checkpoint cannot be resumed"
		has out "dropexp train --resume $run --restart"
		cmp -s bad.gob "$run/checkpoint.gob" || die "byte $pos: the damaged checkpoint was not kept"
		[ "$(sha256sum <"$run/metrics.csv")" = "$metrics" ] || die "byte $pos: metrics.csv rewritten"
	done
	cp good.gob "$run/checkpoint.gob"
	dx train --resume "$run" >/dev/null 2>&1
	has "$run/summary.json" '"status": "finished"'
}

# Metrics rows and the checkpoint's iteration must agree.
case_metrics_disagree_with_checkpoint() {
	run_yaml run.yaml 60
	run=$(interrupted results 1)
	last=$(tail -n 1 "$run/metrics.csv")
	[ "$(wc -l <"$run/metrics.csv")" -ge 2 ] || die "no metrics row yet"
	sed -i '$d' "$run/metrics.csv"
	expect_fail dx train --resume "$run"
	has out "disagree"
	echo "$last" | sed 's/,0\.[0-9]*$/,0.999/' >>"$run/metrics.csv"
	expect_fail dx train --resume "$run"
	has out "disagree"
}

# The data set changed (200 -> 100 images, fewer than the saved position) or has other pixels: a clear error, no panic.
case_data_changed() {
	run_yaml run.yaml 40
	sed -i "s|path: $DATA|path: $PWD/d|" run.yaml
	go -C "$ROOT" run ./scripts/synthdata --out "$PWD/d" --train 200 --test 50 --sets cifar10 >/dev/null
	run=$(interrupted results)
	for args in "--train 100" "--train 200 --seed 7"; do
		rm -rf d
		go -C "$ROOT" run ./scripts/synthdata --out "$PWD/d" --test 50 --sets cifar10 $args >/dev/null
		expect_fail dx train --resume "$run"
		has out "the data set is not the one the run was trained on"
		has out "200 training and 50 test images"
		# Without --resume the same config on other data is another run.
		dx train --config run.yaml --set train.iterations=10 >/dev/null 2>&1
	done
}

# A run that diverges before its first evaluation has no final accuracy (null) and says why.
case_diverged_before_first_evaluation() {
	run_yaml run.yaml
	expect_fail dx train --config run.yaml --set train.lr=1e6 --set dropout.variant=plain
	has out "training diverged"
	s=results/plain-layer-s1/summary.json
	has $s '"status": "diverged"'
	has $s '"final_test_acc": null'
	has $s '"diverged_reason": "training loss is NaN"'
	dx train --config run.yaml --set train.lr=1e6 --set dropout.variant=plain >out 2>&1
	has out "already diverged"
}

# summary.json names the kernels that ran, as dropexp version does.
case_kernels_recorded() {
	run_yaml run.yaml
	dx train --config run.yaml >/dev/null 2>&1
	k=$(dx version | sed 's/^[^,]*, [^,]*, //; s/)$//') # dropexp V (GO, OS/ARCH, KERNELS)
	has results/standard-p0.3-layer-s1/summary.json "\"kernels\": \"$k\""
	id=$(sed -n 's/^# identity: //p' results/standard-p0.3-layer-s1/config.yaml)
	has results/standard-p0.3-layer-s1/summary.json "\"identity\": \"$id\""
}

# The first SIGTERM before training started (the data load) ends the process at once, nothing trained.
case_sigterm_while_loading() {
	run_yaml run.yaml
	go -C "$ROOT" run ./scripts/synthdata --out "$PWD/big" --train 20000 --test 100 --sets cifar10 >/dev/null
	"$BIN" train --config run.yaml --set dataset.path="$PWD/big" >out 2>&1 &
	pid=$!
	# The load log's first line: the data are loading.
	for ((i = 0; i < 1200; i++)); do
		grep -q 'data: loading' out && break # after the log's timestamp
		sleep 0.05
	done
	kill -TERM $pid
	rc=0
	wait $pid || rc=$?
	[ $rc = 143 ] || die "exit status $rc, want 143: $(cat out)"
	has out "nothing to checkpoint yet; exiting"
	[ ! -e results/standard-p0.3-layer-s1/checkpoint.gob ] || die "a run trained after the signal"
}

# A sweep skips finished runs by identity (other --jobs, a copy of the data); another config goes beside them.
case_sweep_skips_by_identity() {
	run_yaml run.yaml
	printf 'name: t\nbase: run.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	dx sweep --config sweep.yaml --out sw >/dev/null 2>&1
	before=$(same_tree sw/runs)
	before_plain=$(same_tree sw/runs/plain-layer-s1)
	before_std=$(same_tree sw/runs/standard-p0.3-layer-s1)
	cp -r "$DATA" copy
	dx sweep --config sweep.yaml --out sw --jobs 1 --set "dataset.path=$PWD/copy" >out 2>&1
	has out "2 runs: 2 finished (2 skipped)"
	[ "$(same_tree sw/runs)" = "$before" ] || die "a finished run was touched"
	dx sweep --config sweep.yaml --out sw --set train.lr=0.002 >out 2>&1
	has out "2 runs: 2 finished (2 ran)"
	has out "holds a run of another config (- lr: 0.001, + lr: 0.002), left as it is"
	[ "$(same_tree sw/runs/plain-layer-s1)$(same_tree sw/runs/standard-p0.3-layer-s1)" = "$before_plain$before_std" ] || die "a finished run was touched"
	[ "$(ls sw/runs | wc -l)" = 4 ] || die "want 4 run directories: $(ls sw/runs)"
	has sw/index.json '"note": "runs/plain-layer-s1 holds a run of another config; this run is in runs/plain-layer-s1-'
}

# --resume of a run in a sweep takes the sweep's lock of that run.
case_resume_takes_sweep_lock() {
	run_yaml run.yaml 40
	printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	dx sweep --config sweep.yaml --out sw --emit slurm >/dev/null
	run=$(interrupted sw/runs)
	# -o: flock itself holds the lock (not sleep), so killing it frees the lock.
	flock -o sw/locks/standard-p0.3-layer-s1.lock sleep 60 &
	holder=$!
	for ((i = 0; i < 100; i++)); do [ -n "$(pgrep -P $holder)" ] && break; sleep 0.1; done
	expect_fail dx train --resume "$run"
	has out "the run is being trained by another process"
	kill $(pgrep -P $holder) $holder
	wait $holder || true
	dx train --resume "$run" >/dev/null 2>&1
	has "$run/summary.json" '"status": "finished"'
}

# index.json of a killed sweep says running; --list shows and writes interrupted.
case_killed_sweep_index_interrupted() {
	run_yaml run.yaml 60
	printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	"$BIN" sweep --config sweep.yaml --out sw >log 2>&1 &
	pid=$!
	wait_for sw/runs/standard-p0.3-layer-s1/checkpoint.gob
	kill -9 $pid
	wait $pid || true
	has sw/index.json '"status": "running"'
	dx sweep --config sweep.yaml --out sw --list >out 2>&1
	has out "interrupted standard-p0.3-layer-s1"
	has sw/index.json '"status": "interrupted"'
}

# --index outside the grid and a sweep name with a path separator are errors.
case_sweep_bad_index_and_name() {
	run_yaml run.yaml
	printf 'name: t\nbase: run.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	for i in 2 -2; do
		expect_fail dx sweep --config sweep.yaml --out sw --index $i
		has out "--index $i: the grid of sweep.yaml has 2 runs, 0..1"
	done
	printf 'name: ../escape\nbase: run.yaml\naxes: {variant: [plain]}\n' >bad.yaml
	expect_fail dx sweep --config bad.yaml
	has out 'is not a single directory name'
	[ ! -e ../escape ] || die "wrote outside"
}

# A symbolic link to a sweep's runs directory (or to one of its runs) takes the sweep's lock of the run.
case_symlink_alias_takes_sweep_lock() {
	run_yaml run.yaml 40
	printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	dx sweep --config sweep.yaml --out sw --emit slurm >/dev/null
	run=$(interrupted sw/runs)
	ln -s sw/runs alias
	ln -s "$run" runlink
	flock -o sw/locks/standard-p0.3-layer-s1.lock sleep 60 &
	holder=$!
	for ((i = 0; i < 100; i++)); do [ -n "$(pgrep -P $holder)" ] && break; sleep 0.1; done
	before=$(same_tree sw/runs)
	expect_fail dx train --config run.yaml --out alias
	has out "is being trained by another process"
	expect_fail dx train --resume runlink
	has out "the run is being trained by another process"
	[ "$(same_tree sw/runs)" = "$before" ] || die "the run was touched while the sweep held its lock"
	kill $(pgrep -P $holder) $holder
	wait $holder || true
	dx train --config run.yaml --out alias >/dev/null 2>&1
	has "$run/summary.json" '"status": "finished"'
}

# A finished run whose summary.json is truncated or missing is never trained again; dropexp repair rebuilds it.
case_damaged_summary_never_retrained() {
	run_yaml run.yaml
	dx train --config run.yaml >/dev/null 2>&1
	run=results/standard-p0.3-layer-s1
	cp "$run/summary.json" good.json
	for damage in truncate missing running; do
		case $damage in
		truncate) head -c 40 good.json >"$run/summary.json" ;;
		missing) rm "$run/summary.json" ;;
		running) sed 's/"status": "finished"/"status": "running"/' good.json >"$run/summary.json" ;;
		esac
		before=$(same_tree "$run")
		expect_fail dx train --config run.yaml
		has out "$run/summary.json"
		has out "dropexp repair $run"
		expect_fail dx train --resume "$run"
		has out "dropexp repair $run"
		printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
		mkdir -p sw/runs && cp -r "$run" sw/runs/ && sbefore=$(same_tree sw/runs)
		expect_fail dx sweep --config sweep.yaml --out sw
		has out "dropexp repair sw/runs/standard-p0.3-layer-s1"
		[ "$(same_tree sw/runs)" = "$sbefore" ] || die "$damage: the sweep touched the finished run"
		rm -rf sw
		dx status results >out 2>&1 || true
		has out "finished"
		! grep -q "eta 0s" out || die "$damage: status shows eta 0s"
		[ "$(same_tree "$run")" = "$before" ] || die "$damage: the finished run was touched"
		dx repair "$run" >out 2>&1
		has out "wrote $run/summary.json: finished"
		for k in final_test_acc final_test_loss final_train_loss identity data_fingerprint train_size test_size; do
			has "$run/summary.json" "$(grep "\"$k\"" good.json)"
		done
		dx train --config run.yaml >out 2>&1
		has out "already finished: $run"
		dx repair "$run" >out 2>&1
		has out "nothing to repair"
		cp good.json "$run/summary.json"
	done
}

# status and report name a damaged file; report refuses metrics out of range, by file and row.
case_damaged_files_named() {
	run_yaml run.yaml
	dx train --config run.yaml >/dev/null 2>&1
	run=results/standard-p0.3-layer-s1
	head -c 40 "$run/summary.json" >s.json && cp "$run/summary.json" good.json && cp s.json "$run/summary.json"
	rm "$run/model.gob"
	sed -i '$d' "$run/metrics.csv" # no longer finished by any file: damaged
	dx status results >out 2>&1 || true
	has out "damaged"
	has out "$run/summary.json cannot be read"
	! grep -q "eta 0s" out || die "status shows eta 0s"
	expect_fail dx report --in results --out rep
	has out "$run/summary.json"
	! grep -q "no run directories" out || die "report says no run directories"
	cp good.json "$run/summary.json"
	echo "30,0.001,1.0,1.0,1.7" >>"$run/metrics.csv"
	expect_fail dx report --in results --out rep
	has out "$run/metrics.csv:3: test_acc 1.7 is outside [0, 1]"
	printf '\x00\x01garbage\n' >"$run/metrics.csv"
	expect_fail dx report --in results --out rep
	has out "$run/metrics.csv: not a metrics file"
	dx status results >out 2>&1 || true
	has out "could not read $run/metrics.csv: not a metrics file"
}

# Loose ends: seed out of range, --interval 0s, --resume "", stale report temporaries, negative --jobs/--cores, read-only --out hint.
case_loose_ends() {
	run_yaml run.yaml
	expect_fail dx train --config run.yaml --set seed=18446744073709551616
	has out "out of range"
	expect_fail dx train --config run.yaml --set seed=9223372036854775808
	has out "out of range"
	expect_fail dx train --resume ""
	has out '--resume "": give the run directory'
	[ ! -e results ] || die "--resume \"\" trained something"
	dx train --config run.yaml >/dev/null 2>&1
	expect_fail timeout 10 "$BIN" status --watch --interval 0s results
	has out "--interval 0s: give at least 1s"
	for f in .figure1.png.tmp123 .table1.md.tmp4; do touch -d '1 hour ago' "results/$f"; done
	dx report --in results >/dev/null 2>&1
	! ls -a results | grep -q '\.tmp' || die "stale report temporaries left: $(ls -a results)"
	printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	expect_fail dx sweep --config sweep.yaml --out sw --jobs -1
	has out "--jobs -1"
	expect_fail dx sweep --config sweep.yaml --out sw --cores -2
	has out "--cores -2"
	expect_fail dx report --in results --out run.yaml/sub
	has out "write the report elsewhere with --out DIR"
}

# A killed sweep's finished run loses its left-over checkpoint on the next pass.
case_finished_run_checkpoint_removed() {
	run_yaml run.yaml
	printf 'name: t\nbase: run.yaml\naxes: {variant: [standard], ratio: [0.3], seed: [1]}\n' >sweep.yaml
	dx sweep --config sweep.yaml --out sw >/dev/null 2>&1
	run=sw/runs/standard-p0.3-layer-s1
	cp "$run/model.gob" "$run/checkpoint.gob" # as a pass killed before removing it leaves
	dx sweep --config sweep.yaml --out sw >out 2>&1
	has out "removed the checkpoint"
	[ ! -e "$run/checkpoint.gob" ] || die "the finished run kept its checkpoint"
	has "$run/summary.json" '"status": "finished"'
}

# A resume under another OpenBLAS core (or an edited version) is refused naming both; --allow-kernel-change is recorded.
case_resume_other_kernels() {
	run_yaml run.yaml 40
	run=$(interrupted results)
	k=$(sed -n 's/.*"kernels": "\(.*\)".*/\1/p' "$run/summary.json")
	case "$k" in *", core "*) ;; *) die "kernels without the BLAS core: $k" ;; esac
	sed -i 's/"kernels": "[^"]*"/"kernels": "blas openblas, vector avx2, conv direct-avx2, core Elsewhere"/' "$run/summary.json"
	expect_fail dx train --resume "$run"
	has out "core Elsewhere"
	has out "$k"
	has out "--restart"
	has out "--allow-kernel-change"
	expect_fail dx train --config run.yaml
	has out "core Elsewhere"
	dx train --resume "$run" --allow-kernel-change >/dev/null 2>&1
	has "$run/summary.json" '"kernel_changes"'
	has "$run/summary.json" "core Elsewhere"
	has "$run/summary.json" '"status": "finished"'
}

# --- runner ------------------------------------------------------------------

# The cases above run in their own directory under set -e. Files in
# scripts/torture.d/ add theirs (case_* functions that return non-zero on
# failure, run from the repository root, their files under $TORTURE_TMP,
# the binary in $DROPEXP).
own=$(declare -F | awk '$3 ~ /^case_/ {print $3}')
export DROPEXP=$BIN TORTURE_TMP=$WORK
for f in scripts/torture.d/*.sh; do
	[ -e "$f" ] && source "$f"
done
all=$(declare -F | awk '$3 ~ /^case_/ {print $3}')

pass=0
failed=()
for c in $all; do
	[ -n "$only" ] && [[ ! $c =~ $only ]] && continue
	start=$SECONDS
	if grep -qx "$c" <<<"$own"; then
		mkdir -p "$WORK/$c"
		(
			cd "$WORK/$c" || exit 1
			set -e
			$c
		) >"$WORK/$c.log" 2>&1
	else
		(cd "$ROOT" && $c) >"$WORK/$c.log" 2>&1
	fi
	rc=$?
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "ok    ${c#case_} ($((SECONDS - start)) s)"
	else
		failed+=("$c")
		echo "FAIL  ${c#case_} ($((SECONDS - start)) s); log: $WORK/$c.log"
		tail -n 15 "$WORK/$c.log" | sed 's/^/      /'
	fi
done
echo "${pass} passed, ${#failed[@]} failed"
if [ ${#failed[@]} = 0 ] && [ -z "${KEEP:-}" ]; then
	rm -rf "$WORK"
fi
[ ${#failed[@]} = 0 ]
