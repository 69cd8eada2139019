#!/usr/bin/env bash
# Run a smoke sweep on a real Slurm cluster of one node, this machine
# (make slurm-test). Needs root and Debian (apt-get), no systemd: it installs
# slurm-wlm and munge, writes a slurm.conf for this host (no cgroups, no
# accounting database), starts munged, slurmctld and slurmd by hand, submits
# `dropexp sweep --emit slurm` as a job array, waits for it, submits it again
# (every task must find its run finished and skip it), runs dropexp report,
# prints the job states and stops the daemons, also on failure.
#
# Everything the cluster writes lives in a temporary directory; the sweep,
# the report, the daemon logs and this script's log go to $OUT/slurm-test/.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-results}
BIN=${BIN:-bin/dropexp}
TIMEOUT=${TIMEOUT:-900} # seconds to wait for each array
dest=$OUT/slurm-test
mkdir -p "$dest"
log=$dest/slurm-test.log
exec > >(tee "$log") 2>&1
echo "slurm-test: $(date -u +%FT%TZ) on $(hostname -s)"

if [ "$(id -u)" != 0 ]; then
	echo "slurm-test: must run as root (it installs packages and starts the Slurm daemons)" >&2
	exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
	echo "== installing slurm-wlm and munge"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
echo "slurm: $(slurmctld -V), munge: $(munged -V 2>&1 | head -1)"

work=$(mktemp -d /tmp/dropexp-slurm.XXXXXX)
pids=()
cleanup() {
	status=$?
	echo "== tearing down"
	if [ -n "${SLURM_CONF:-}" ] && command -v scancel >/dev/null; then
		scancel --quiet --name=dropexp-table1 2>/dev/null || true
	fi
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	mkdir -p "$dest/daemon-logs"
	cp "$work"/log/* "$dest/daemon-logs/" 2>/dev/null || true
	rm -rf "$work"
	echo "slurm-test: exit $status; log in $log"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10))
mkdir -p "$work"/{etc,state,spool,log,munge}

echo "== munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$work/munge/munge.key"
# As root munged wants --force; its files stay inside the work directory.
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
	--pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munge.seed" \
	--log-file="$work/log/munged.log" >>"$work/log/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.2; done
munge --socket="$work/munge/munge.socket" -n | unmunge --socket="$work/munge/munge.socket" >/dev/null
echo "munge works"

echo "== slurm.conf for $host ($cpus CPUs, ${mem} MB)"
export SLURM_CONF=$work/etc/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=dropexp
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/log/jobcomp.txt
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

echo "== starting slurmctld and slurmd"
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
sleep 1
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
	state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
	[ "$state" = idle ] && break
	sleep 1
done
if [ "$state" != idle ]; then
	echo "slurm-test: node $host is '${state:-unreachable}', not idle, after 60 s" >&2
	tail -n 20 "$work"/log/slurm*.log "$work"/log/*.out >&2 || true
	exit 1
fi
sinfo

echo "== smoke sweep as a job array"
data=$work/data
go run ./scripts/synthdata --out "$data" --sets cifar10 --train 500 --test 100
sweep=$dest/sweep
rm -rf "$sweep"
flags=(--seeds 1 --ratios 0.3,0.05 --set "dataset.path=$data" --set train.batch_size=50
	--set train.iterations=10 --set train.lr_steps= --set train.eval_every=5 --set train.checkpoint_every=5)
"$BIN" sweep --config configs/sweeps/table1.yaml --out "$sweep" --emit slurm --cpus 1 "${flags[@]}"
echo "--- $sweep/sweep.sbatch"
cat "$sweep/sweep.sbatch"
echo "---"

# submit runs the array once and prints each task's final state.
submit() {
	local job waited=0
	job=$(sbatch --parsable "$sweep/sweep.sbatch")
	echo "submitted job array $job"
	while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
		if ((waited >= TIMEOUT)); then
			echo "slurm-test: job $job still queued or running after $TIMEOUT s" >&2
			squeue -j "$job" >&2
			return 1
		fi
		sleep 5
		waited=$((waited + 5))
		squeue -h -j "$job" -o '%i %T' | tr '\n' ' '
		echo
	done
	echo "job $job done after ~$waited s; task states (scontrol):"
	# sacct needs slurmdbd; the controller keeps finished jobs for MinJobAge.
	scontrol -o show job "$job" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		print "  task " f["ArrayTaskId"] ": " f["JobState"] " exit " f["ExitCode"] " on " f["NodeList"]
	}'
	! scontrol -o show job "$job" | grep -v 'JobState=COMPLETED' | grep -q .
}
ok=0
submit || ok=1
echo "--- the first task's output"
cat "$(ls "$sweep"/slurm/*.out | head -1)"
echo "== the same array again: every task must skip its finished run"
submit || ok=1
# The log line is "TAG: already finished (RUN_DIR), skipped"; counted without the run directory.
grep -hE ': already finished \(.*\), skipped$' "$sweep"/slurm/*.out | sed -E 's/ \(.*\), skipped$/, skipped/; s/^[^:]*: //' | sort | uniq -c | sed 's/^/  /'

echo "== job completion records ($work/log/jobcomp.txt)"
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	print "  " f["JobId"] " " f["JobName"] f["Name"] " " f["JobState"] " exit " f["ExitCode"] }' "$work/log/jobcomp.txt" 2>/dev/null || true

echo "== report"
"$BIN" sweep --config configs/sweeps/table1.yaml --out "$sweep" --list "${flags[@]}"
"$BIN" report --in "$sweep" --out "$sweep/report"
runs=$(grep -c '"index":' "$sweep/index.json")
finished=$(grep -c '"status": "finished"' "$sweep/index.json")
echo "index.json: $finished of $runs runs finished"
[ "$finished" = "$runs" ] || ok=1
if [ $ok != 0 ]; then
	echo "slurm-test: FAILED (see above)" >&2
	exit 1
fi
echo "slurm-test: PASSED"
