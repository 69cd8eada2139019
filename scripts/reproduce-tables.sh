#!/usr/bin/env bash
# Reproduce the paper's Table 1 and Table 2 and the figures (make reproduce-tables).
#
#   SCALE=smoke (default): both grids with tiny iteration counts on small
#     synthetic data sets in the official formats (scripts/synthdata), 2 seeds;
#     minutes on 2 cores. Checks the whole pipeline, not the paper's numbers.
#   SCALE=paper: the full protocols of docs/DESIGN.md §3 on the real data, 3 seeds;
#     days on 2 cores (see README).
#
# Results go to $OUT/smoke or $OUT/paper: table1/ and table2/ sweep
# directories and report/ with table{1,2}.{md,csv}, figure1.{png,svg} and
# accuracy_vs_ratio.{png,svg}. Rerunning skips finished runs.
#
# Environment: SCALE, OUT (results), BIN (bin/dropexp), JOBS (runs at once;
# default: smoke 2, paper the sweep's default), CIFAR10 (Table 1 data at paper
# scale: the JPEG archive beside the project, read as an image folder, else
# the base config's binary CIFAR-10).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-smoke}
OUT=${OUT:-results}
BIN=${BIN:-bin/dropexp}
CIFAR10=${CIFAR10:-data/cifar10-jpeg.tar.xz}
dir=$OUT/$SCALE

t1=() # flags of the Table 1 sweep
t2=() # flags of the Table 2 sweep
case $SCALE in
smoke)
	JOBS=${JOBS:-2}
	data=$dir/data
	if [ ! -f "$data/.complete" ]; then
		go run ./scripts/synthdata --out "$data" --train 1000 --test 200
		touch "$data/.complete"
	fi
	# ConvNet-Quick: 20 iterations of 50 images, the lr step at 16, two evaluations.
	t1=(--seeds 1,2 --set "dataset.path=$data" --set train.batch_size=50 --set train.iterations=20
		--set "train.lr_steps=[{at: 16, lr: 0.0001}]" --set train.eval_every=10 --set train.checkpoint_every=10)
	# ResNet-20: 8 iterations of 16 images, lr steps at 4 and 6, 100 test images.
	t2=(--seeds 1,2 --set "dataset.path=$data" --set dataset.test_limit=100 --set train.batch_size=16 --set train.iterations=8
		--set "train.lr_steps=[{at: 4, lr: 0.01}, {at: 6, lr: 0.001}]" --set train.eval_every=4 --set train.checkpoint_every=4)
	;;
paper)
	JOBS=${JOBS:-}
	if [ -e "$CIFAR10" ]; then
		t1=(--set dataset.name=imagefolder --set "dataset.path=$CIFAR10")
	fi
	# Table 2's base configs read data/NAME; fetch what is missing (md5-checked).
	for name in svhn cifar10 cifar100; do
		if [ ! -e "data/$name" ]; then
			"$BIN" data fetch "$name" || echo "reproduce-tables: could not fetch $name; its Table 2 runs will fail" >&2
		fi
	done
	;;
*)
	echo "reproduce-tables: SCALE=$SCALE: want smoke or paper" >&2
	exit 2
	;;
esac
jobs=()
if [ -n "$JOBS" ]; then jobs=(--jobs "$JOBS"); fi

status=0
start=$(date +%s)
echo "== Table 1 ($SCALE) into $dir/table1"
"$BIN" sweep --config configs/sweeps/table1.yaml --out "$dir/table1" "${jobs[@]}" "${t1[@]}" || status=1
echo "== Table 1 took $(($(date +%s) - start)) s"
ins=(--in "$dir/table1")

# Table 2 needs ResNet-20, its base configs and the SVHN and CIFAR-100
# loaders; until they all exist the grid does not expand and is skipped.
if why=$("$BIN" sweep --config configs/sweeps/table2.yaml --list "${t2[@]}" 2>&1 >/dev/null); then
	echo "== Table 2 ($SCALE) into $dir/table2"
	t2start=$(date +%s)
	"$BIN" sweep --config configs/sweeps/table2.yaml --out "$dir/table2" "${jobs[@]}" "${t2[@]}" || status=1
	echo "== Table 2 took $(($(date +%s) - t2start)) s"
	ins+=(--in "$dir/table2")
else
	echo "== Table 2 skipped: this dropexp cannot expand configs/sweeps/table2.yaml yet:"
	echo "$why" | sed 's/^/   /'
fi

echo "== Report into $dir/report"
"$BIN" report "${ins[@]}" --out "$dir/report" || status=1
echo "reproduce-tables: SCALE=$SCALE took $(($(date +%s) - start)) s (exit $status)"
exit $status
