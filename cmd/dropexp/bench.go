package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dropexp/dropexp/internal/bench"
	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/spf13/cobra"
)

func newBenchCmd() *cobra.Command {
	o := bench.Options{}
	var variant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench [--model M] [--batch N] [--threads T] [--json]",
		Short: "Measure training and evaluation images/s, peak RSS and allocation per iteration on synthetic data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := dropout.ParseVariant(variant)
			if err != nil {
				return err
			}
			o.Variant = v
			if o.Batch == 0 {
				net, err := model.Lookup(o.Model)
				if err != nil {
					return err
				}
				o.Batch = net.Batch
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
	f.BoolVar(&asJSON, "json", false, "print one JSON line")
	return cmd
}
