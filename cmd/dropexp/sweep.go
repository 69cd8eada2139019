package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/internal/keys"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/sweep"
	"github.com/spf13/cobra"
)

func newSweepCmd() *cobra.Command {
	var (
		file, out, emit    string
		base               string
		ratios, sets, axes []string
		seeds              []int64
		jobs, cores        int
		maxRuns            int
		index              string
		list, allowKernels bool
		job                sweep.JobOptions
		exe                string
	)
	cmd := &cobra.Command{
		Use:   "sweep (--config FILE | --base CONFIG --axis KEY=V1,V2) [--axis KEY=V1,V2 ...] [--jobs N] [--out DIR]",
		Short: "Run a grid of variants, ratios, seeds, data sets or any config key; rerunning skips finished runs",
		Long: `Expand a sweep config (a base run config and the axes variant, ratio, q, seed,
gradient, dataset, and any run config key such as train.lr; see configs/sweeps/)
into named runs and train them into one sweep directory (default results/NAME):
DIR/runs/NAME/ per run, and DIR/index.json listing every run with its status.

--axis KEY=V1,V2 (repeatable) crosses the values of KEY with the rest of the
grid: a named axis (variant, ratio, q, seed, gradient, dataset; also spelled
dropout.variant, dropout.ratio, dropout.gradient) or any run config key (train.lr, train.batch_size, dropout.sites, ...; list values in
brackets: --axis dropout.sites=[conv2,conv3],[ip1]). It replaces the sweep
file's axis of that key or adds one. Without --config, --base CONFIG is the
run config every run starts from (default: the embedded demo config), and
runs take its variant, ratio, seed and gradient unless an axis sweeps them
(a swept variant takes the base config's ratio). Each value
is checked as --set checks it. Run names add the swept keys' values:
standard-p0.3-layer-s1-lr0.01.

Runs go --jobs at a time, each with cores/jobs threads. Rerunning the same
command skips finished runs of the same identity (config and data, as dropexp
train decides it; threads, out and dataset.path do not matter), resumes
unfinished, interrupted and failed ones, and never touches a run of another
config: a grid point whose name holds one trains into runs/NAME-XXXXXXXX and
the log and index.json say so. A failed or diverged run does not stop the
others; the command exits non-zero at the end if any run did not finish.

--index runs only some runs of the grid, in the order given: one (--index 7,
for job arrays), a range (8-11) or a list (20,39,13-15: the cells a question
needs first); they share one load of the data. --emit slurm|k8s writes
DIR/sweep.sbatch or DIR/sweep-job.yaml running the grid one run per task, and
runs nothing. --list prints the grid and each run's status (from the run
directories, without loading data) and rewrites DIR/index.json.

The run config keys (for --axis and --set):

` + keys.Help(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			trainsRuns.Store(true)
			if jobs < 0 || cores < 0 {
				return fmt.Errorf("sweep: --jobs %d, --cores %d: give a positive number, or 0 for the default (jobs: one per core; cores: all of this machine's)", jobs, cores)
			}
			var spec *sweep.Spec
			var err error
			if maxRuns < 1 {
				return fmt.Errorf("sweep: --max-runs %d: give a positive number of runs", maxRuns)
			}
			o := sweep.Overrides{Set: sets, Env: os.Environ(), MaxRuns: maxRuns}
			switch {
			case file != "":
				if spec, err = sweep.ReadSpec(file); err != nil {
					return err
				}
				if cmd.Flags().Changed("base") {
					spec.Base = base
				}
				o.Axes = axes
			case cmd.Flags().Changed("base") || len(axes) > 0:
				if spec, err = sweep.NewSpec(base, axes); err != nil {
					return err
				}
			default:
				return fmt.Errorf("sweep: give a sweep file (--config configs/sweeps/table1.yaml) or a base config and axes (--base configs/demo.yaml --axis train.lr=0.001,0.01)")
			}
			if cmd.Flags().Changed("ratios") {
				o.Ratios = ratios
			}
			if cmd.Flags().Changed("seeds") {
				o.Seeds = seeds
			}
			runs, err := sweep.Expand(spec, o)
			if err != nil {
				return err
			}
			warn(cmd.ErrOrStderr(), sweep.Warnings(runs))
			if out == "" {
				out = filepath.Join("results", spec.Name)
			}
			var indices []int
			if cmd.Flags().Changed("index") {
				if indices, err = sweep.ParseIndices(index, len(runs), spec.Source()); err != nil {
					return err
				}
			}
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			switch {
			case list:
				return listRuns(stdout, out, spec, runs, indices)
			case emit != "":
				job.Args = forwardedFlags(cmd, ratios, seeds, sets, axes, base)
				return emitJobs(stdout, emit, exe, out, spec, runs, job)
			}
			opt := sweep.Options{Dir: out, Jobs: jobs, Cores: cores, Log: stderr, Indices: indices, AllowKernelChange: allowKernels}
			rep, err := sweep.Execute(cmd.Context(), spec, runs, opt)
			if err != nil {
				return err
			}
			rep.WriteSummary(stderr)
			if err := rep.Err(); err != nil {
				return fmt.Errorf("%w; details in %s", err, filepath.Join(out, sweep.IndexFile))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "config", "", "sweep config file, e.g. configs/sweeps/table1.yaml")
	f.StringVar(&base, "base", "", "run config every run starts from: without --config the sweep's base (default: the embedded demo config), with it in place of the file's base")
	f.StringArrayVar(&axes, "axis", nil, "cross the values of a key with the grid: --axis train.lr=0.001,0.01 (any run config key, or variant, ratio, q, seed, gradient, dataset; repeatable)")
	f.StringVar(&out, "out", "", "sweep directory (default results/NAME, NAME from the sweep config)")
	f.StringSliceVar(&ratios, "ratios", nil, "replace axes.ratio: comma-separated p or p/q values, e.g. 0.3,0.1")
	f.Int64SliceVar(&seeds, "seeds", nil, "replace axes.seed, e.g. 1,2,3")
	f.StringArrayVar(&sets, "set", nil, "override a run config key in every run: --set train.iterations=100 (repeatable)")
	f.IntVar(&jobs, "jobs", 0, "runs trained at once; their threads share the cores (0: one per core, measured fastest)")
	f.IntVar(&cores, "cores", 0, "cores to share between the jobs (default: all of this machine's)")
	f.StringVar(&index, "index", "", "run only these runs of the grid, 0-based, in this order: I, a range I-J, or a list 20,39,13-15 (job arrays, a chosen order)")
	f.BoolVar(&list, "list", false, "print the grid with each run's status and run nothing")
	f.IntVar(&maxRuns, "max-runs", sweep.DefaultMaxRuns, "refuse a grid of more runs than this, before planning it")
	f.BoolVar(&allowKernels, "allow-kernel-change", false, "resume runs computed so far by another kernel set, dropexp or Go version (their numbers then match neither; summary.json records it)")
	f.StringVar(&emit, "emit", "", "write a job array instead of running: slurm (DIR/sweep.sbatch) or k8s (DIR/sweep-job.yaml)")
	f.StringVar(&exe, "exe", "", "dropexp binary the jobs run (default: this binary for slurm, dropexp for k8s)")
	f.IntVar(&job.CPUs, "cpus", 2, "with --emit: cores per task")
	f.StringVar(&job.Mem, "mem", "", "with --emit: memory per task, e.g. 4G (default: the cluster's)")
	f.IntVar(&job.Parallelism, "parallelism", 0, "with --emit: tasks at once (default: as many as the scheduler allows)")
	f.StringVar(&job.Time, "time", "", "with --emit slurm: time limit per task, e.g. 1:00:00")
	f.StringVar(&job.Partition, "partition", "", "with --emit slurm: partition")
	f.StringVar(&job.Image, "image", "dropexp:latest", "with --emit k8s: container image with dropexp, the configs and the data")
	f.StringVar(&job.Workdir, "workdir", "/dropexp", "with --emit k8s: working directory in the image (relative config and data paths start there)")
	f.StringVar(&job.Claim, "claim", "dropexp-results", "with --emit k8s: PersistentVolumeClaim (ReadWriteMany) holding the sweep directory")
	f.StringVar(&job.Mount, "mount", "/results", "with --emit k8s: where the claim is mounted")
	return cmd
}

// forwardedFlags are the flags that change the grid, which every task of a job array must repeat.
func forwardedFlags(cmd *cobra.Command, ratios []string, seeds []int64, sets, axes []string, base string) []string {
	var args []string
	if cmd.Flags().Changed("base") {
		// As given: Slurm tasks start in this directory, pods in the image's working directory.
		args = append(args, "--base", base)
	}
	if cmd.Flags().Changed("ratios") {
		args = append(args, "--ratios", strings.Join(ratios, ","))
	}
	if cmd.Flags().Changed("seeds") {
		s := make([]string, len(seeds))
		for i, v := range seeds {
			s[i] = fmt.Sprint(v)
		}
		args = append(args, "--seeds", strings.Join(s, ","))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	for _, a := range axes {
		args = append(args, "--axis", a)
	}
	return args
}

// listRuns prints each run of the grid (or only those of indices, if any) with
// its status in the sweep directory, and brings the directory's index.json
// up to date: a process killed while training cannot, and its index would
// go on saying running.
func listRuns(w io.Writer, dir string, spec *sweep.Spec, runs []sweep.Run, indices []int) error {
	states := sweep.Scan(dir, runs)
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
		if st.Status == sweep.Finished && st.Summary != nil {
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
	if _, err := os.Stat(filepath.Join(dir, sweep.IndexFile)); err == nil {
		if err := sweep.WriteIndex(dir, spec, runs, states); err != nil {
			fmt.Fprintf(w, "(could not update %s: %v)\n", filepath.Join(dir, sweep.IndexFile), err)
		}
	}
	return nil
}

// emitJobs writes the job array file for the scheduler and says how to submit it.
func emitJobs(w io.Writer, kind, exe, out string, spec *sweep.Spec, runs []sweep.Run, job sweep.JobOptions) error {
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
		name = sweep.SlurmFile
		if content, err = sweep.SlurmScript(spec.Name, len(runs), job); err != nil {
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
		name = sweep.K8sFile
		var err error
		if content, err = sweep.K8sJob(spec.Name, len(runs), job); err != nil {
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
	if err := sweep.WriteIndex(out, spec, runs, sweep.Scan(out, runs)); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %d runs, one per task\n", path, len(runs))
	if kind == "slurm" {
		fmt.Fprintf(w, "submit with: sbatch %s\nthen: dropexp report --in %s\n", sweep.ShellQuote(path), sweep.ShellQuote(out))
	} else {
		fmt.Fprintf(w, "apply with: kubectl apply -f %s\n", sweep.ShellQuote(path))
	}
	return nil
}
