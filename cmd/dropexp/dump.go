package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/runner"
	"github.com/dropexp/dropexp/internal/stepdump"
	"github.com/dropexp/dropexp/internal/train"
	"github.com/spf13/cobra"
)

// newDumpStepCmd is the hidden dump-step command: training steps written
// to disk for scripts/crosscheck.py (format: internal/stepdump).
func newDumpStepCmd() *cobra.Command {
	var file, out, iters, conv, from string
	var sets, cases []string
	var fullEvery int
	cmd := &cobra.Command{
		Use:    "dump-step --config FILE --iter K[,K2|-K2] --out DIR [--set key=value ...] [--case 'NAME: key=value ...' ...]",
		Short:  "Train up to iteration K and write steps to disk for an independent check",
		Hidden: true,
		Long: `dump-step trains the configured run exactly as dropexp train does (without
evaluation) and writes the listed iterations into DIR/step-NNNNNN: the weights,
momentum and BatchNorm statistics before and after the step, the batch, every
dropout site's forward and backward masks, the loss and every gradient
(raw little-endian float32 files and index.json; see internal/stepdump).

--iter takes iterations and ranges: 1,101 or 1-200. --full-every N writes the
weights and gradients of a range only every N steps (batches, masks and
losses always). --conv im2col turns the direct convolution off.

--from RUN/checkpoint.gob (or model.gob) continues that run's state instead
of training from the start; without --config the run's own config.yaml is
used (with --set on top, e.g. threads).

--case 'NAME: key=value ...' (repeatable) dumps several runs into DIR/NAME,
each with its own overrides on top of --config and --set, loading the data
once; the key conv=direct|im2col selects the convolution path per case.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required: the directory to write the dump into")
			}
			ks, err := stepdump.ParseIters(iters)
			if err != nil {
				return err
			}
			type job struct {
				dir  string
				sets []string
				conv string
			}
			jobs := []job{{dir: out, sets: sets, conv: conv}}
			if len(cases) > 0 {
				jobs = nil
				for _, c := range cases {
					name, rest, ok := strings.Cut(c, ":")
					name = strings.TrimSpace(name)
					if !ok || name == "" || strings.ContainsAny(name, `/\`) {
						return fmt.Errorf("--case %q: want 'NAME: key=value ...' with a NAME that is a plain directory name", c)
					}
					j := job{dir: filepath.Join(out, name), sets: append([]string(nil), sets...), conv: conv}
					for _, kv := range strings.Fields(rest) {
						if v, ok := strings.CutPrefix(kv, "conv="); ok {
							j.conv = v
							continue
						}
						j.sets = append(j.sets, kv)
					}
					jobs = append(jobs, j)
				}
			}
			loaded := map[config.Dataset]*dataset.Split{}
			for _, j := range jobs {
				if j.conv != "direct" && j.conv != "im2col" {
					return fmt.Errorf("--conv / conv=%q: want direct or im2col", j.conv)
				}
				var cfg config.Run
				var err error
				if from != "" && file == "" {
					cfg, err = runner.ConfigOf(filepath.Dir(from), j.sets, os.Environ())
				} else {
					cfg, err = config.Load(file, j.sets, os.Environ())
				}
				if err != nil {
					return err
				}
				data := loaded[cfg.Dataset]
				if data == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "loading %s %s\n", cfg.Dataset.Name, cfg.Dataset.Path)
					if data, err = train.LoadData(cfg); err != nil {
						return err
					}
					loaded[cfg.Dataset] = data
				}
				opt := stepdump.Options{Iters: ks, FullEvery: fullEvery, Im2col: j.conv == "im2col", From: from}
				if err := stepdump.Dump(cmd.Context(), cfg, data, j.dir, opt, cmd.ErrOrStderr()); err != nil {
					return fmt.Errorf("dump into %s: %w", j.dir, err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "YAML run config (default: the embedded demo)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the dump into")
	cmd.Flags().StringVar(&iters, "iter", "1", "iterations to dump: 1,101 or 1-200")
	cmd.Flags().IntVar(&fullEvery, "full-every", 1, "in a range, write weights and gradients every N steps only")
	cmd.Flags().StringVar(&from, "from", "", "continue from a run's checkpoint.gob or model.gob")
	cmd.Flags().StringVar(&conv, "conv", "direct", "convolution path: direct (where it applies) or im2col")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a config key: --set dropout.ratio=0.2 (repeatable)")
	cmd.Flags().StringArrayVar(&cases, "case", nil, "a run of its own: 'NAME: key=value ...' into DIR/NAME (repeatable)")
	return cmd
}
