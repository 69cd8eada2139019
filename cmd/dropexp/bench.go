package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/bench"
	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/tile"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	o := bench.Options{}
	var variant, kernelSet string
	var asJSON, layers, peak bool
	cmd := &cobra.Command{
		Use:   "bench [--model M] [--batch N] [--threads T] [--layers | --peak] [--json]",
		Short: "Measure training and evaluation images/s, peak RSS and allocation per iteration on synthetic data",
		Long: `Measure training and evaluation images/s, peak RSS and allocation per
iteration of a network on synthetic data.

--peak measures the machine's single-precision multiply-add throughput on
--threads threads (a register-only FMA loop), the ceiling the layers are
read against. --layers times every op of a training step (forward, input
gradient, weight gradient, element-wise) and gives each convolution and
fully connected pass its GFLOP/s and fraction of that measured peak,
counting the FLOPs a direct convolution computes (so a faster algorithm
can show more than 100 %).`,
		Example: `  dropexp bench --model resnet20 --threads 2
  dropexp bench --peak --threads 2
  dropexp bench --model resnet20 --layers --iters 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if peak {
				g := bench.Peak(o.Threads, 5, 200*time.Millisecond)
				if asJSON {
					return json.NewEncoder(out).Encode(map[string]any{"threads": o.Threads, "peak_gflop_s": g})
				}
				fmt.Fprintf(out, "peak %.1f GFLOP/s on %d threads (FP32 multiply-add, %d lanes)\n", g, o.Threads, tile.Lanes())
				return nil
			}
			v, err := experiment.ParseVariant(variant)
			if err != nil {
				return err
			}
			o.Variant = v
			if o.Kernels, err = experiment.ParseKernels(kernelSet); err != nil {
				return err
			}
			if o.Batch == 0 {
				net, err := model.Lookup(o.Model)
				if err != nil {
					return err
				}
				o.Batch = net.Batch
			}
			if layers {
				r, err := bench.RunLayers(o, bench.Peak(o.Threads, 5, 200*time.Millisecond))
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(out).Encode(r)
				}
				return r.Write(out)
			}
			r, err := bench.Run(o)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "convnet-quick", "network: "+strings.Join(model.Names(), ", "))
	f.IntVar(&o.Batch, "batch", 0, "batch size (default: the one of the network's protocol)")
	f.IntVar(&o.Iters, "iters", 10, "timed iterations per block")
	f.IntVar(&o.Warmup, "warmup", 3, "untimed warm-up iterations")
	f.IntVar(&o.Blocks, "blocks", 3, "timed blocks (the median is reported)")
	f.IntVar(&o.Threads, "threads", 2, "worker threads")
	f.StringVar(&variant, "variant", "standard", "dropout variant")
	f.Float64Var(&o.Ratio, "dropout", 0.3, "dropout ratio")
	f.StringVar(&kernelSet, "kernels", "direct", "kernel set: "+strings.Join(config.KernelSets(), ", "))
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	f.BoolVar(&layers, "layers", false, "time every op of a training step, with GFLOP/s and the fraction of the measured peak")
	f.BoolVar(&peak, "peak", false, "measure the machine's FP32 multiply-add peak on --threads threads")
	cmd.MarkFlagsMutuallyExclusive("layers", "peak")
	return cmd
}
