package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/results"
)

// CommandOptions are what dropexp sweep is given: its flags, which of them
// were given (an override left out keeps the sweep file's value), and where
// it writes.
type CommandOptions struct {
	File              string   // --config: the sweep file; "": Base and Axes alone
	Base              string   // --base
	BaseGiven         bool     // --base was given (with File, it replaces the file's base)
	Axes              []string // --axis KEY=V1,V2
	Ratios            []string // --ratios
	RatiosGiven       bool
	Seeds             []int64 // --seeds
	SeedsGiven        bool
	Sets              []string // --set
	Env               []string // the environment, for DROPEXP_ overrides
	Out               string   // --out; "": results/NAME
	Index             string   // --index
	IndexGiven        bool
	Jobs, Cores       int // --jobs, --cores; 0: the defaults
	MaxRuns           int // --max-runs
	List              bool
	AllowKernelChange bool
	Emit              string     // --emit slurm|k8s; "": train the runs
	Exe               string     // --exe
	Job               JobOptions // the job array's --cpus, --mem, ... (with Emit)
	Stdout, Stderr    io.Writer
}

// RunCommand expands the sweep o describes and lists its runs, writes its
// job array, or trains them.
func RunCommand(ctx context.Context, o CommandOptions) error {
	if o.Jobs < 0 || o.Cores < 0 {
		return fmt.Errorf("sweep: --jobs %d, --cores %d: give a positive number, or 0 for the default (jobs: one per core; cores: all of this machine's)", o.Jobs, o.Cores)
	}
	var spec *Spec
	var err error
	if o.MaxRuns < 1 {
		return fmt.Errorf("sweep: --max-runs %d: give a positive number of runs", o.MaxRuns)
	}
	ov := Overrides{Set: o.Sets, Env: o.Env, MaxRuns: o.MaxRuns}
	switch {
	case o.File != "":
		if spec, err = ReadSpec(o.File); err != nil {
			return err
		}
		if o.BaseGiven {
			spec.Base = o.Base
		}
		ov.Axes = o.Axes
	case o.BaseGiven || len(o.Axes) > 0:
		if spec, err = NewSpec(o.Base, o.Axes); err != nil {
			return err
		}
	default:
		return fmt.Errorf("sweep: give a sweep file (--config configs/sweeps/table1.yaml) or a base config and axes (--base configs/demo.yaml --axis train.lr=0.001,0.01)")
	}
	if o.RatiosGiven {
		ov.Ratios = o.Ratios
	}
	if o.SeedsGiven {
		ov.Seeds = o.Seeds
	}
	runs, err := Expand(spec, ov)
	if err != nil {
		return err
	}
	for _, m := range Warnings(runs) {
		fmt.Fprintf(o.Stderr, "warning: %s\n", m)
	}
	out := o.Out
	if out == "" {
		out = filepath.Join("results", spec.Name)
	}
	var indices []int
	if o.IndexGiven {
		if indices, err = ParseIndices(o.Index, len(runs), spec.Source()); err != nil {
			return err
		}
	}
	switch {
	case o.List:
		return List(o.Stdout, out, spec, runs, indices)
	case o.Emit != "":
		job := o.Job
		job.Args = o.forwarded()
		return Emit(o.Stdout, o.Emit, o.Exe, out, spec, runs, job)
	}
	opt := Options{Dir: out, Jobs: o.Jobs, Cores: o.Cores, Log: o.Stderr, Indices: indices, AllowKernelChange: o.AllowKernelChange}
	rep, err := Execute(ctx, spec, runs, opt)
	if err != nil {
		return err
	}
	rep.WriteSummary(o.Stderr)
	if err := rep.Err(); err != nil {
		return fmt.Errorf("%w; details in %s", err, filepath.Join(out, IndexFile))
	}
	return nil
}

// forwarded are the flags that change the grid, which every task of a job array must repeat.
func (o CommandOptions) forwarded() []string {
	var args []string
	if o.BaseGiven {
		// As given: Slurm tasks start in this directory, pods in the image's working directory.
		args = append(args, "--base", o.Base)
	}
	if o.RatiosGiven {
		args = append(args, "--ratios", strings.Join(o.Ratios, ","))
	}
	if o.SeedsGiven {
		s := make([]string, len(o.Seeds))
		for i, v := range o.Seeds {
			s[i] = fmt.Sprint(v)
		}
		args = append(args, "--seeds", strings.Join(s, ","))
	}
	for _, s := range o.Sets {
		args = append(args, "--set", s)
	}
	for _, a := range o.Axes {
		args = append(args, "--axis", a)
	}
	return args
}

// List prints each run of the grid (or only those of indices, if any) with
// its status in the sweep directory, and brings the directory's index.json
// up to date: a process killed while training cannot, and its index would
// go on saying running.
func List(w io.Writer, dir string, spec *Spec, runs []Run, indices []int) error {
	states := Scan(dir, runs)
	for i, r := range runs {
		if indices != nil && !slices.Contains(indices, i) {
			continue
		}
		st := states[i]
		name := r.Name
		if st.Dir != "" && filepath.Base(st.Dir) != r.Name {
			name = filepath.Base(st.Dir)
		}
		line := fmt.Sprintf("%4d  %-11s %s", r.Index, st.Status, name)
		if st.Status == Finished && st.Summary != nil {
			line += fmt.Sprintf("  test_acc %.4f", st.Summary.FinalTestAcc)
		}
		if st.Detail != "" {
			line += "  (" + strings.SplitN(st.Detail, "\n", 2)[0] + ")"
		}
		if st.Note != "" {
			line += "  [" + st.Note + "]"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%d runs in %s (iteration, losses and ETA of each: dropexp status %s)\n", len(runs), dir, dir)
	if _, err := os.Stat(filepath.Join(dir, IndexFile)); err == nil {
		if err := WriteIndex(dir, spec, runs, states); err != nil {
			fmt.Fprintf(w, "(could not update %s: %v)\n", filepath.Join(dir, IndexFile), err)
		}
	}
	return nil
}

// Emit writes the job array file of kind (slurm or k8s) for the grid runs
// into the sweep directory out, tasks running exe, and says on w how to
// submit it.
func Emit(w io.Writer, kind, exe, out string, spec *Spec, runs []Run, job JobOptions) error {
	if len(runs) == 0 {
		return fmt.Errorf("sweep: the grid of %s is empty; nothing to emit", spec.Source())
	}
	var name, content string
	switch kind {
	case "slurm":
		var err error
		if spec.File != "" {
			if job.Config, err = filepath.Abs(spec.File); err != nil {
				return err
			}
		}
		if job.Out, err = filepath.Abs(out); err != nil {
			return err
		}
		if job.Workdir, err = os.Getwd(); err != nil {
			return err
		}
		if job.Exe = exe; job.Exe == "" {
			if job.Exe, err = os.Executable(); err != nil {
				return fmt.Errorf("sweep: finding this binary for the job script: %w (pass --exe)", err)
			}
		}
		name = SlurmFile
		if content, err = SlurmScript(spec.Name, len(runs), job); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(out, "slurm"), 0o755); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
	case "k8s":
		// Paths as the pod sees them: the config relative to the image's
		// working directory, the sweep directory on the mounted claim.
		job.Config = filepath.ToSlash(spec.File)
		if wd, err := os.Getwd(); err == nil && spec.File != "" {
			if rel, err := filepath.Rel(wd, spec.File); err == nil && !strings.HasPrefix(rel, "..") {
				job.Config = filepath.ToSlash(rel)
			}
		}
		job.Out = strings.TrimRight(job.Mount, "/") + "/" + filepath.Base(filepath.Clean(out))
		if job.Exe = exe; job.Exe == "" {
			job.Exe = "dropexp"
		}
		name = K8sFile
		var err error
		if content, err = K8sJob(spec.Name, len(runs), job); err != nil {
			return err
		}
	default:
		return fmt.Errorf("sweep: --emit %q: want slurm or k8s", kind)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	path := filepath.Join(out, name)
	if err := results.WriteFileAtomic(path, []byte(content)); err != nil {
		return err
	}
	if err := WriteIndex(out, spec, runs, Scan(out, runs)); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %d runs, one per task\n", path, len(runs))
	if kind == "slurm" {
		fmt.Fprintf(w, "submit with: sbatch %s\nthen: dropexp report --in %s\n", ShellQuote(path), ShellQuote(out))
	} else {
		fmt.Fprintf(w, "apply with: kubectl apply -f %s\n", ShellQuote(path))
	}
	return nil
}
