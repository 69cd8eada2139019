# dropexp: see README.md. `make demo` and `make test` work on a fresh machine.
GO      ?= go
BIN     := bin/dropexp
# OpenBLAS (Debian libopenblas-dev) makes training ~3x faster; without it the
# pure-Go gonum BLAS is used. `make deps` installs it.
OPENBLAS := $(shell ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' && echo yes)
TAGS    := $(if $(OPENBLAS),-tags openblas,)
# Go 1.26's experimental simd package gives the element-wise kernels AVX2
# bodies (internal/kernels/vec_simd.go); a plain `go build` uses the scalar
# loops, which compute the same bits.
SIMD    := $(shell GOEXPERIMENT=simd $(GO) list simd/archsimd >/dev/null 2>&1 && echo simd)
export GOEXPERIMENT := $(SIMD)
# An image folder (or .tar/.tar.xz of one) of CIFAR-10 for the table targets.
CIFAR10 ?= data/cifar10-jpeg.tar.xz
# The numbers are those of baseline amd64: GOAMD64=v3 lets the compiler fuse
# x*y + z into one FMA (arm64's always does), which changes training curves.
export GOAMD64 := v1
OUT     ?= results

# Where a researcher builds dropexp, as GOOS/GOARCH:GOEXPERIMENT: `make
# cross` builds cmd/dropexp and vets every package (tests too) for each.
# Each GOARCH is built with and without simd (whose vector bodies are
# amd64-only; elsewhere vec_none.go's scalar loops), each GOOS once, as
# every extra pair compiles the standard library and gorgonia afresh.
CROSS   ?= linux/arm64:$(SIMD) darwin/arm64: darwin/amd64:$(SIMD) windows/amd64:
# The numeric packages, whose tests `make cross` also runs as linux/arm64
# binaries under Debian's qemu-user-static when it is installed: the tiles'
# Go loops, the scalar kernels and the layers on a second architecture.
QEMU    := $(shell command -v qemu-aarch64-static 2>/dev/null)
NUMERIC := ./internal/tile/ ./internal/kernels/ ./internal/conv/ ./internal/dropout/ ./internal/layers/ ./internal/chain/ ./internal/winograd/ ./internal/pcg/
# Headless Chromium (Debian chromium) renders the HTML report in make html-check.
CHROMIUM := $(shell command -v chromium 2>/dev/null)
HTML_CHECK_OUT ?= $(OUT)/html-check

.PHONY: all build install test cross demo deps bench vet fmt table1 clean

all: build

build:
	$(GO) build $(TAGS) -o $(BIN) ./cmd/dropexp

# dropexp on the PATH: bin/dropexp, built as above, copied to $(GOBIN), or
# to the bin directory of the first GOPATH entry (~/go/bin) where go install
# puts programs. make install GOBIN=DIR installs elsewhere.
GOBIN   ?= $(shell $(GO) env GOBIN)
INSTALL_DIR := $(if $(GOBIN),$(GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin)
install: build
	mkdir -p '$(INSTALL_DIR)'
	install -m 0755 $(BIN) '$(INSTALL_DIR)/dropexp'
	@case ":$$PATH:" in *':$(INSTALL_DIR):'*) ;; *) echo "install: $(INSTALL_DIR) is not on your PATH; add it, e.g. export PATH=\"\$$PATH:$(INSTALL_DIR)\"";; esac

deps:
	@ldconfig -p | grep -q 'libopenblas\.so ' || { apt-get update -qq && apt-get install -y -qq libopenblas-dev; }

vet:
	$(GO) vet ./...

# The tests: vet, every package with the pure-Go BLAS, the numeric packages
# again with OpenBLAS when it is installed, the kernels without the vector
# bodies, the numeric packages with the tiles' Go loops in place of the
# assembly (-tags noasm, as on other GOARCHes), and the cross-builds.
test: vet
	$(GO) test ./...
	$(if $(OPENBLAS),$(GO) test -tags openblas ./internal/kernels/ ./internal/dropout/ ./internal/model/ ./internal/train/,)
	$(if $(SIMD),GOEXPERIMENT= $(GO) test ./internal/kernels/,)
	$(if $(SIMD),GOEXPERIMENT= $(GO) test -run 'ThreadInvariant|ThreadCount' ./internal/dropout/ ./internal/train/,)
	$(GO) test -tags noasm $(NUMERIC)
	$(if $(CHROMIUM),$(MAKE) --no-print-directory html-check,@echo "html-check: no chromium on PATH (Debian chromium): the HTML report is not rendered in a browser")
	$(MAKE) --no-print-directory cross

# A small generated report's index.html rendered in headless Chromium: the
# DOM it builds must hold the table cells and the figures
# (internal/report TestIndexHTMLInChromium); the report and a 1400x2000
# screenshot are left in $(HTML_CHECK_OUT).
.PHONY: html-check
html-check:
	@test -n "$(CHROMIUM)" || { echo "html-check: no chromium on PATH (Debian chromium)"; exit 1; }
	mkdir -p $(HTML_CHECK_OUT)
	DROPEXP_HTML_CHECK=1 DROPEXP_HTML_OUT=$(abspath $(HTML_CHECK_OUT)) DROPEXP_HTML_SHOT=$(abspath $(HTML_CHECK_OUT))/index.png \
	  $(GO) test -count=1 -run '^TestIndexHTMLInChromium$$' ./internal/report/
	@echo "html-check: $(HTML_CHECK_OUT)/index.html rendered; screenshot $(HTML_CHECK_OUT)/index.png"

# The CROSS builds and vets, then the numeric packages' tests for
# linux/arm64 under qemu-aarch64-static (skipped, saying so, without it).
cross:
	@for t in $(CROSS); do \
	  os=$${t%%/*}; a=$${t#*/}; arch=$${a%%:*}; x=$${a#*:}; \
	  echo "GOOS=$$os GOARCH=$$arch GOEXPERIMENT=$$x: go build ./cmd/dropexp && go vet ./..."; \
	  GOOS=$$os GOARCH=$$arch GOEXPERIMENT=$$x $(GO) build -o /dev/null ./cmd/dropexp || exit 1; \
	  GOOS=$$os GOARCH=$$arch GOEXPERIMENT=$$x $(GO) vet ./... || exit 1; \
	done
	$(if $(QEMU),GOARCH=arm64 $(GO) test -exec $(QEMU) $(NUMERIC),@echo "cross: no qemu-aarch64-static (Debian qemu-user-static): linux/arm64 tests not run")

# The embedded default (configs/demo.yaml): ConvNet-Quick on MNIST (from the
# GoMNIST Go module) with plain, standard, forward and backward dropout, a
# table of their final accuracy and losses, and a line reading it against
# the paper's Figure 1. Another seed: make demo DEMO_ARGS='--set seed=2'.
DEMO_ARGS ?=
demo: build
	$(BIN) train --out $(OUT)/demo $(DEMO_ARGS)

# Training and evaluation images/s, peak RSS and bytes allocated per
# iteration of both networks on synthetic data.
bench: build
	$(BIN) bench --model convnet-quick --threads 2
	$(BIN) bench --model convnet-quick --threads 1
	$(BIN) bench --model resnet20 --threads 2 --dropout 0.1 --iters 4

# Table 1 protocol (5000 iterations) on the JPEG CIFAR-10 for plain, standard
# 0.3 and forward 0.3; tens of minutes each.
table1: build
	for v in plain standard forward; do \
	  $(BIN) train --config configs/convnet-quick-cifar10.yaml --out $(OUT)/table1 \
	    --set dataset.name=imagefolder --set dataset.path=$(CIFAR10) --set dropout.variant=$$v || exit 1; \
	done

# Table 2 at a CPU budget (configs/sweeps/table2-budget.yaml) on the JPEG
# CIFAR-10: 21 ResNet-20 runs of 15 epochs with the gradient diagnostics,
# about 12 hours on 2 cores, then its report. A seed's standard and
# augmented runs at a ratio go side by side, so every comparison gains a
# seed as early as it can; rerunning resumes the grid and skips what finished.
TABLE2_ORDER := 1,4,2,5,3,6,0,8,11,9,12,10,13,7,15,18,16,19,17,20,14
.PHONY: table2-budget
table2-budget: build
	$(BIN) sweep --config configs/sweeps/table2-budget.yaml --set dataset.path=$(CIFAR10) \
	  --out $(OUT)/table2-budget-jpeg --index $(TABLE2_ORDER)
	$(BIN) report --in $(OUT)/table2-budget-jpeg --out $(OUT)/table2-budget-jpeg/report

# A kernel set against the default in training
# (configs/sweeps/kernels-SET.yaml): 4 ResNet-20 runs of the Table 2
# budget protocol, about 2.5 hours on 2 cores, for the cells (plain and
# standard 0.1, seeds 1 and 2) whose default-kernel runs make table2-budget
# trains.
# kernels-winograd-convnet: 6 ConvNet-Quick runs of the Table 1 protocol
# (plain and forward 0.3, seeds 1 to 3), about 30 minutes.
.PHONY: kernels-strided kernels-winograd kernels-winograd-convnet
kernels-strided kernels-winograd kernels-winograd-convnet: kernels-%: build
	$(BIN) sweep --config configs/sweeps/kernels-$*.yaml --set dataset.path=$(CIFAR10) \
	  --out $(OUT)/kernels-$*-jpeg

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# Speed against PyTorch (Debian python3-torch, run by /usr/bin/python3) on
# ConvNet-Quick and ResNet-20; ends with the two "train ratio" lines.
# ROUNDS=N (3), DROPEXP_THREADS=T (2) and NEIGHBOUR=N (0: N CPU-bound
# processes beside both sides) are passed through the environment;
# make bench-neighbour is the comparison beside one such process.
.PHONY: bench-compare bench-neighbour
bench-compare: build
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-torch; }
	PYTHON=/usr/bin/python3 bash scripts/bench_compare.sh

bench-neighbour:
	NEIGHBOUR=1 $(MAKE) --no-print-directory bench-compare

# Table 1 and Table 2 as sweeps, then the report (tables and figures) into
# $(OUT)/$(SCALE)/report. SCALE=smoke (default): tiny runs on synthetic data,
# minutes; SCALE=paper: the full protocols, days on 2 cores. Rerunning skips
# finished runs. See scripts/reproduce-tables.sh.
SCALE ?= smoke
.PHONY: reproduce-tables
reproduce-tables: build
	SCALE=$(SCALE) OUT=$(OUT) BIN=$(BIN) CIFAR10=$(CIFAR10) scripts/reproduce-tables.sh

# A single-node Slurm cluster on this machine (root, Debian): installs
# slurm-wlm and munge, runs a smoke Table 1 sweep as a job array and reports;
# the daemons are stopped at the end. Log: $(OUT)/slurm-test/slurm-test.log.
.PHONY: slurm-test
slurm-test: build
	OUT=$(OUT) BIN=$(BIN) scripts/slurm-test.sh

# Run management end to end against the built binary on small synthetic
# data: identities, never overwriting, resume checks, signals, sweeps.
# Ends with "N passed, M failed"; scripts/torture.sh REGEX runs some cases.
.PHONY: torture
torture: build
	BIN=$(BIN) bash scripts/torture.sh

# A smoke sweep SIGKILLed three times and rerun: no finished run recomputed, none lost.
.PHONY: sweep-kill-test
sweep-kill-test: build
	bash scripts/sweep-kill-test.sh

# dropexp's training steps against an independent PyTorch implementation
# (scripts/crosscheck.py; Debian python3-torch, python3-numpy,
# python3-matplotlib): every variant x gradient rule x convolution path x
# threads on ConvNet-Quick (three cases on the winograd kernel set;
# ResNet-20: all of them for forward and augmented, the others on one
# thread, direct; two cases each on the strided and the winograd kernel
# sets) at
# iterations 1 and 21, mask
# statistics over 100 steps and a 200-step ConvNet-Quick trajectory, on
# small synthetic CIFAR-10. CROSSCHECK_ARGS adds options (e.g. --data
# cifar10-jpeg.tar.xz --models convnet-quick --iters 1,101
# for the real data).
CROSSCHECK_ARGS ?=
.PHONY: crosscheck
crosscheck: build
	@/usr/bin/python3 -c 'import torch, numpy, matplotlib' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-torch python3-numpy python3-matplotlib; }
	/usr/bin/python3 scripts/crosscheck.py all --bin $(BIN) --work $(OUT)/crosscheck --iters 1,21 \
	  --cq-batch 20 --rn-batch 8 --quick resnet20 --mask-steps 100 --traj-steps 200 $(CROSSCHECK_ARGS)
