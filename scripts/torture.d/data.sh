# Hostile and ill-fitting data against the dropexp binary: cases for
# scripts/torture.sh, which sources this file and calls each case_* function;
# a case returns 0 when dropexp behaved. Each case runs in a directory of
# its own under $TORTURE_TMP, under `timeout` (an open FIFO would hang) and
# with its peak memory measured where GNU time is installed.
#
# Needs: bash, coreutils (truncate, timeout), tar, gzip, go (for
# scripts/synthdata) and python3 for the one case that writes real large
# PNGs (skipped without it). Run on its own:
#
#   bash -c 'source scripts/torture.d/data.sh; data_all'
#
# Variables: DROPEXP (the binary, default bin/dropexp), TORTURE_TMP (default
# a new temporary directory), DATA_TIMEOUT (seconds a case may take, 120).

: "${DROPEXP:=bin/dropexp}"
: "${DATA_TIMEOUT:=120}"
: "${TORTURE_TMP:=$(mktemp -d)}"

# data_dir NAME: a fresh directory for case NAME.
data_dir() {
	local d="$TORTURE_TMP/data-$1"
	rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# data_run DIR ARGS...: run dropexp ARGS with stdout+stderr in DIR/out and
# the peak RSS (kB) in DIR/rss; the exit status is dropexp's (124: timeout).
data_run() {
	local d=$1
	shift
	if [ -x /usr/bin/time ]; then
		timeout "$DATA_TIMEOUT" /usr/bin/time -o "$d/rss" -f %M "$DROPEXP" "$@" >"$d/out" 2>&1
	else
		echo 0 >"$d/rss"
		timeout "$DATA_TIMEOUT" "$DROPEXP" "$@" >"$d/out" 2>&1
	fi
}

# data_expect_fail DIR WANT...: the last run failed (not by timeout), and
# its output holds every WANT.
data_expect_fail() {
	local d=$1 rc
	rc=$(cat "$d/rc")
	shift
	if [ "$rc" = 124 ]; then
		echo "  timed out after ${DATA_TIMEOUT}s (hung on a FIFO?)" >&2
		return 1
	fi
	if [ "$rc" = 0 ]; then
		echo "  exit 0, want an error; output:" >&2
		sed 's/^/    /' "$d/out" >&2
		return 1
	fi
	data_expect_output "$d" "$@"
}

# data_expect_output DIR WANT...: the last run's output holds every WANT.
data_expect_output() {
	local d=$1 w
	shift
	for w in "$@"; do
		if ! grep -qF -- "$w" "$d/out"; then
			echo "  output lacks \"$w\"; it was:" >&2
			sed 's/^/    /' "$d/out" >&2
			return 1
		fi
	done
}

# data_expect_rss DIR MB: the last run's peak RSS stayed below MB.
data_expect_rss() {
	local kb
	kb=$(tail -n 1 "$1/rss" 2>/dev/null || echo 0)
	if [ "${kb:-0}" -gt $(($2 * 1024)) ]; then
		echo "  peak RSS $((kb / 1024)) MB, want below $2 MB" >&2
		return 1
	fi
}

# data_info DIR NAME PATH: `dropexp data info NAME --dir PATH`, status in DIR/rc.
data_info() {
	data_run "$1" data info "$2" --dir "$3"
	echo $? >"$1/rc"
}

# data_train DIR SETS...: a one-iteration ConvNet-Quick run on the data the
# sets name, status in DIR/rc.
data_train() {
	local d=$1
	shift
	local args=(train --config configs/convnet-quick-cifar10.yaml --out "$d/runs"
		--set train.iterations=2 --set train.eval_every=1 --set train.lr_steps= --set threads=1)
	local s
	for s in "$@"; do args+=(--set "$s"); done
	data_run "$d" "${args[@]}"
	echo $? >"$d/rc"
}

# data_synth DIR SETS: small synthetic data sets (scripts/synthdata) in DIR.
data_synth() {
	go run ./scripts/synthdata --out "$1" --sets "$2" --train 100 --test 20 >/dev/null
}

# data_png_header W H: a PNG that claims W×H RGB pixels and holds none.
data_png_header() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys, zlib
w, h = int(sys.argv[1]), int(sys.argv[2])
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b""))
EOF
}

# data_png_flat W H: a real W×H PNG of one colour (small on disk).
data_png_flat() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys, zlib
w, h = int(sys.argv[1]), int(sys.argv[2])
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
row = b"\x00" + b"\x40\x80\xc0" * w
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(row * h, 9)) + chunk(b"IEND", b""))
EOF
}

# --- cases -------------------------------------------------------------

# A FIFO named like an image: refused by name, never opened (no hang).
case_data_fifo_image() {
	local d
	d=$(data_dir fifo_image)
	data_synth "$d/set" imagefolder || return 1
	mkfifo "$d/set/train/cat/9999.png" || return 1
	data_info "$d" imagefolder "$d/set"
	data_expect_fail "$d" "train/cat/9999.png is a named pipe (FIFO), not a regular file"
}

# A FIFO in place of a CIFAR batch, and a batch linked to /dev/zero.
case_data_fifo_cifar() {
	local d
	d=$(data_dir fifo_cifar)
	data_synth "$d/set" cifar10 || return 1
	rm "$d/set/cifar-10-batches-bin/data_batch_2.bin" && mkfifo "$d/set/cifar-10-batches-bin/data_batch_2.bin" || return 1
	data_info "$d" cifar10 "$d/set"
	data_expect_fail "$d" "data_batch_2.bin is a named pipe (FIFO)" || return 1
	rm "$d/set/cifar-10-batches-bin/data_batch_2.bin" && ln -s /dev/zero "$d/set/cifar-10-batches-bin/data_batch_2.bin" || return 1
	data_info "$d" cifar10 "$d/set"
	data_expect_fail "$d" "data_batch_2.bin is a character device"
}

# The archive path itself a FIFO.
case_data_fifo_archive() {
	local d
	d=$(data_dir fifo_archive)
	mkfifo "$d/set.tar.xz" || return 1
	data_info "$d" imagefolder "$d/set.tar.xz"
	data_expect_fail "$d" "set.tar.xz is a named pipe (FIFO)"
}

# An image linked to /dev/zero, which would never end.
case_data_devzero_image() {
	local d
	d=$(data_dir devzero_image)
	data_synth "$d/set" imagefolder || return 1
	ln -s /dev/zero "$d/set/test/dog/zero.png" || return 1
	data_info "$d" imagefolder "$d/set"
	data_expect_fail "$d" "test/dog/zero.png is a character device"
}

# The tester's case: 30 real 4096×4096 PNGs (48 MiB each decoded) beside
# 32×32 test images took 2.3 GB before the size error. Every header is
# read first, so the error comes with almost nothing allocated.
case_data_large_pngs() {
	command -v python3 >/dev/null || { echo "  skipped: no python3" >&2; return 0; }
	local d i
	d=$(data_dir large_pngs)
	data_synth "$d/set" imagefolder || return 1
	data_png_flat 4096 4096 >"$d/big.png" || return 1
	for i in $(seq -w 1 30); do cp "$d/big.png" "$d/set/train/airplane/big$i.png"; done
	data_info "$d" imagefolder "$d/set"
	data_expect_fail "$d" "train/airplane/big01.png: image is 4096×4096 (width×height), want 32×32 like" "all images must have one size" || return 1
	data_expect_rss "$d" 300
}

# Headers claiming more pixels than the machine has: refused before any
# image is decoded, with what it needs and what there is.
case_data_memory_images() {
	command -v python3 >/dev/null || { echo "  skipped: no python3" >&2; return 0; }
	local d avail n i
	d=$(data_dir memory_images)
	avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) # kB
	n=$((avail / 49152 * 2 + 2))                             # 4096×4096×3 = 48 MiB each: twice what there is
	mkdir -p "$d/set/train/a" "$d/set/test/a"
	data_png_header 4096 4096 >"$d/h.png" || return 1
	for i in $(seq 1 "$n"); do ln "$d/h.png" "$d/set/train/a/$i.png"; done
	cp "$d/h.png" "$d/set/test/a/1.png"
	data_info "$d" imagefolder "$d/set"
	data_expect_fail "$d" "not enough memory" "images of 4096×4096" "MemAvailable" || return 1
	data_expect_rss "$d" 500
}

# CIFAR batches whose sizes (sparse files: no disk used) add up to more
# than the machine has: refused from the sizes, before reading.
case_data_memory_cifar() {
	local d avail rec
	d=$(data_dir memory_cifar)
	data_synth "$d/set" cifar10 || return 1
	avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	rec=$((avail * 1024 / 3073 * 2))
	truncate -s $((rec * 3073)) "$d/set/cifar-10-batches-bin/data_batch_1.bin" || return 1
	data_info "$d" cifar10 "$d/set"
	data_expect_fail "$d" "not enough memory" "records of 32×32×3 needs" || return 1
	data_expect_rss "$d" 200
}

# An official-looking CIFAR-10 (sparse batches of 10,000 records) with one
# batch short by a record: a damaged copy, an error naming the file.
case_data_cifar_short_batch() {
	local d f
	d=$(data_dir cifar_short_batch)
	mkdir -p "$d/cifar-10-batches-bin"
	for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
		truncate -s 30730000 "$d/cifar-10-batches-bin/$f.bin" || return 1
	done
	truncate -s $((9999 * 3073)) "$d/cifar-10-batches-bin/data_batch_3.bin"
	data_info "$d" cifar10 "$d"
	data_expect_fail "$d" "data_batch_3.bin holds 9999 records, want the official 10000" "re-extract cifar-10-binary.tar.gz"
}

# An empty batch file is an error; custom counts are a warning.
case_data_cifar_empty_batch() {
	local d
	d=$(data_dir cifar_empty_batch)
	data_synth "$d/set" cifar10 || return 1
	data_train "$d" dataset.name=cifar10 "dataset.path=$d/set" train.batch_size=10
	[ "$(cat "$d/rc")" = 0 ] || { echo "  custom counts did not train:" >&2; cat "$d/out" >&2; return 1; }
	data_expect_output "$d" "warning: cifar10: " "not the official CIFAR-10" || return 1
	: >"$d/set/cifar-10-batches-bin/data_batch_3.bin"
	data_info "$d" cifar10 "$d/set"
	data_expect_fail "$d" "data_batch_3.bin is empty (0 records)"
}

# A cifar-10-binary.tar.gz that expands past the official archive's size
# (two 98 MB members of zeros, 200 kB packed): refused as it expands.
case_data_gzip_bomb() {
	local d
	d=$(data_dir gzip_bomb)
	mkdir -p "$d/src/cifar-10-batches-bin"
	truncate -s $((32000 * 3073)) "$d/src/cifar-10-batches-bin/data_batch_1.bin" "$d/src/cifar-10-batches-bin/data_batch_2.bin" || return 1
	tar -C "$d/src" -czf "$d/cifar-10-binary.tar.gz" cifar-10-batches-bin || return 1
	data_info "$d" cifar10 "$d/cifar-10-binary.tar.gz"
	data_expect_fail "$d" "expands past its format's size" "compression bomb" || return 1
	data_expect_rss "$d" 600
}

# train.batch_size larger than the (limited) training set is an error
# before training, and so is dataset.crop_pad as large as the image.
case_data_batch_too_large() {
	local d
	d=$(data_dir batch_too_large)
	data_synth "$d/set" cifar10 || return 1
	data_train "$d" dataset.name=cifar10 "dataset.path=$d/set" dataset.train_limit=50 train.batch_size=64
	data_expect_fail "$d" "train.batch_size: 64 is larger than the training set of 50 images" "raise dataset.train_limit" || return 1
	data_train "$d" dataset.name=cifar10 "dataset.path=$d/set" train.batch_size=10 dataset.crop_pad=32
	data_expect_fail "$d" "dataset.crop_pad: 32 is not smaller than the 32×32 (width×height) images" || return 1
	[ ! -d "$d/runs" ] || [ -z "$(ls -A "$d/runs")" ] || { echo "  a run directory was left behind" >&2; return 1; }
}

# A limited run on a class-sorted image folder trains on every class (the
# first N images were all of the first class), and says so.
case_data_stratified_limit() {
	local d
	d=$(data_dir stratified_limit)
	data_synth "$d/set" imagefolder || return 1
	data_train "$d" dataset.name=imagefolder "dataset.path=$d/set" dataset.train_limit=30 dataset.test_limit=10 train.batch_size=10
	[ "$(cat "$d/rc")" = 0 ] || { echo "  run failed:" >&2; cat "$d/out" >&2; return 1; }
	data_expect_output "$d" "data: loading imagefolder from" "120 files" \
		"train: 30 images (stratified subset of 100), 10 classes × 3" "test: 10 images (stratified subset of 20), 10 classes × 1"
}

# data_cases lists the case functions of this file.
data_cases() { declare -F | awk '$3 ~ /^case_data_/ {print $3}'; }

# data_all runs every case and returns the number that failed.
data_all() {
	local c failed=0
	for c in $(data_cases); do
		if "$c"; then echo "ok   $c"; else echo "FAIL $c"; failed=$((failed + 1)); fi
	done
	return "$failed"
}
