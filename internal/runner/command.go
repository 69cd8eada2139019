package runner

import (
	"context"
	"fmt"
	"io"

	"github.com/dropexp/dropexp/internal/config"
)

// TrainOptions are what dropexp train is given: its flags, the
// environment, and where it writes.
type TrainOptions struct {
	File        string   // --config; "": the embedded demo config
	Out         string   // --out: the key out
	Resume      string   // --resume: the run directory to continue
	ResumeGiven bool     // --resume was given (even as "")
	Sets        []string // --set key=value
	Env         []string // the environment, for DROPEXP_ overrides
	Mode        Mode     // --restart, --allow-kernel-change
	Stdout      io.Writer
	Stderr      io.Writer
}

// TrainCommand trains what o describes: the run of a config, the demo
// (no --config, no variant set), or the resume of a run directory.
func TrainCommand(ctx context.Context, o TrainOptions) error {
	sets := o.Sets
	if o.Out != "" {
		sets = append(sets, "out="+o.Out)
	}
	w := o.Stdout
	if o.ResumeGiven && o.Resume == "" {
		return fmt.Errorf("--resume \"\": give the run directory to continue, e.g. --resume results/standard-p0.3-layer-s1")
	}
	if o.Resume != "" {
		cfg, err := resumeConfig(o.Resume, o.File, sets, o.Env)
		if err != nil {
			return err
		}
		warn(o.Stderr, cfg.Warnings())
		_, err = Resume(ctx, o.Resume, cfg, o.Mode, w, o.Stderr)
		return err
	}
	cfg, err := config.Load(o.File, sets, o.Env)
	if err != nil {
		return err
	}
	warn(o.Stderr, cfg.Warnings())
	if o.File == "" && !VariantSet(sets, o.Env) {
		if o.Mode.Restart || o.Mode.AllowKernelChange {
			return fmt.Errorf("--restart, --allow-kernel-change: the demo trains four runs; give --resume DIR with the flag for the one it is meant for")
		}
		return Demo(ctx, cfg, w, o.Stderr)
	}
	_, err = One(ctx, cfg, o.Mode, w, o.Stderr)
	return err
}

// warn prints a config's warnings before it trains.
func warn(w io.Writer, warnings []string) {
	for _, m := range warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

// resumeConfig is the config a resume continues with: --config if given,
// else the run directory's own config.yaml, with the overrides on top.
func resumeConfig(dir, file string, sets, env []string) (config.Run, error) {
	if file != "" {
		return config.Load(file, sets, env)
	}
	return ConfigOf(dir, sets, env)
}

// RepairOptions are what dropexp repair is given.
type RepairOptions struct {
	Dir    string // the run directory whose summary.json is rebuilt
	Stdout io.Writer
}

// RepairCommand rebuilds the summary.json of o.Dir (see Repair).
func RepairCommand(o RepairOptions) error {
	_, err := Repair(o.Dir, o.Stdout)
	return err
}
