# Hostile names, flags and files against the dropexp binary: cases for
# scripts/torture.sh, which sources this file and calls each case_* function
# from the repository root; a case returns 0 when dropexp behaved. Each case
# works in a directory of its own under $TORTURE_TMP (where torture.sh puts
# its synthetic CIFAR-10 in data/).
#
# Variables: DROPEXP (the binary), TORTURE_TMP.

: "${DROPEXP:=bin/dropexp}"
: "${TORTURE_TMP:=$(mktemp -d)}"

# input_dir NAME: a fresh directory for case NAME.
input_dir() {
	local d="$TORTURE_TMP/input-$1"
	rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# input_fail WHY: say why a case failed, and fail.
input_fail() {
	echo "  $*" >&2
	return 1
}

# input_run_yaml FILE SITES: a tiny ConvNet-Quick run on the synthetic
# CIFAR-10 with dropout.sites SITES (YAML).
input_run_yaml() {
	cat >"$1" <<YAML
model: convnet-quick
threads: 1
out: results
dataset: {name: cifar10, path: $TORTURE_TMP/data}
dropout: {variant: standard, ratio: "0.3", sites: $2}
train: {batch_size: 10, iterations: 10, lr: 0.001, eval_every: 10, checkpoint_every: 5}
YAML
}

# A sweep name, --out, --partition, --mem and --claim carrying a newline and
# commands: refused, or quoted so that the job file runs nothing else.
case_input_job_files_injection() {
	local d
	d=$(input_dir jobs) || return 1
	(
		cd "$d" || exit 1
		input_run_yaml run.yaml '[conv2]'
		printf 'name: "x\\ntouch PWNED $(id>PWNED2)\\n#"\nbase: run.yaml\naxes: {variant: [plain]}\n' >bad.yaml
		if "$DROPEXP" sweep --config bad.yaml --emit slurm >out 2>&1; then input_fail "a sweep name with a newline was accepted"; exit 1; fi
		grep -q 'is not a single directory name' out || { cat out; input_fail "no message for the name"; exit 1; }
		for flag in --partition --mem; do
			if "$DROPEXP" sweep --base run.yaml --axis seed=1 --out sw --emit slurm "$flag" $'x\ntouch PWNED $(id>PWNED2)\n#' >out 2>&1; then
				input_fail "$flag with a newline was accepted"
				exit 1
			fi
		done
		if "$DROPEXP" sweep --base run.yaml --axis seed=1 --out sw --emit k8s --claim $'runs\n---\nkind: Pod' >out 2>&1; then
			input_fail "--claim with a newline was accepted"
			exit 1
		fi
		out='my sweep $(id>PWNED2) `touch PWNED3`'
		printf '#!/bin/sh\nexit 0\n' >stub && chmod +x stub
		"$DROPEXP" sweep --base run.yaml --axis seed=1 --out "$out" --emit slurm --exe "$PWD/stub" >/dev/null || exit 1
		bash -n "$out/sweep.sbatch" || { input_fail "bash -n $out/sweep.sbatch"; exit 1; }
		grep -qF "#SBATCH --output=\"$PWD/$out/slurm/%A_%a.out\"" "$out/sweep.sbatch" || { cat "$out/sweep.sbatch"; input_fail "--output is not one quoted token"; exit 1; }
		SLURM_ARRAY_TASK_ID=0 bash "$out/sweep.sbatch" || exit 1
		"$DROPEXP" sweep --base run.yaml --axis seed=1 --out "$out" --emit k8s >/dev/null || exit 1
		[ "$(grep -c '^kind:' "$out/sweep-job.yaml")" = 1 ] && ! grep -q '^---' "$out/sweep-job.yaml" || { cat "$out/sweep-job.yaml"; input_fail "not one YAML document"; exit 1; }
		if ls PWNED* "$out"/PWNED* >/dev/null 2>&1; then input_fail "a payload ran"; exit 1; fi
	)
}

# --config on a FIFO, a device, a directory or a huge file: refused at once.
case_input_config_not_regular() {
	local d f
	d=$(input_dir config) || return 1
	mkfifo "$d/fifo" || return 1
	truncate -s 10M "$d/big.yaml" || return 1
	for f in "$d/fifo" /dev/zero "$d" "$d/big.yaml"; do
		timeout 20 "$DROPEXP" train --config "$f" >"$d/out" 2>&1
		case $? in
		0) input_fail "--config $f was accepted"; return 1 ;;
		124) input_fail "--config $f hangs"; return 1 ;;
		esac
		grep -qE 'not a regular file|want at most' "$d/out" || { cat "$d/out"; input_fail "no reason given for $f"; return 1; }
	done
}

# dropout.sites default, explicit and reordered are one run: trained once.
case_input_sites_one_identity() {
	local d
	d=$(input_dir sites) || return 1
	(
		cd "$d" || exit 1
		input_run_yaml a.yaml '[]'
		input_run_yaml b.yaml '[conv2, conv3, ip1, ip2]'
		input_run_yaml c.yaml '[ip2, ip1, conv3, conv2]'
		"$DROPEXP" train --config a.yaml >out 2>&1 || { cat out; exit 1; }
		for f in b.yaml c.yaml; do
			"$DROPEXP" train --config $f >out 2>&1 || { cat out; exit 1; }
			grep -q 'already finished' out || { cat out; input_fail "$f trained again"; exit 1; }
		done
		[ "$(ls results | wc -l)" = 1 ] || { ls results; input_fail "want one run directory"; exit 1; }
	)
}

# A grid of 10^9 runs is refused at once, not planned.
case_input_huge_grid() {
	local d v
	d=$(input_dir grid) || return 1
	v=$(seq -s, 1 1000)
	if timeout 30 "$DROPEXP" sweep --axis "train.iterations=$v" --axis "train.batch_size=$v" --axis "train.eval_every=$v" --list >"$d/out" 2>&1; then
		input_fail "a grid of 10^9 runs was accepted"
		return 1
	fi
	grep -q 'more than 100000 runs' "$d/out" || { cat "$d/out"; input_fail "no reason given"; return 1; }
}

# A run directory copied to a name with markup: the report escapes it.
case_input_report_hostile_name() {
	local d
	d=$(input_dir report) || return 1
	(
		cd "$d" || exit 1
		input_run_yaml a.yaml '[conv2]'
		"$DROPEXP" train --config a.yaml >out 2>&1 || { cat out; exit 1; }
		cp -r results/standard-p0.3-layer-s1 "results/b\"><svg	onload=alert(1)>"
		"$DROPEXP" report --in results --out rep >out 2>&1 || { cat out; exit 1; }
		if grep -qiE '<svg[^>]*onload|<script' rep/index.html; then
			input_fail "index.html holds markup from a run name"
			exit 1
		fi
	)
}
