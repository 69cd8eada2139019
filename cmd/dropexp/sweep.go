package main

import (
	"os"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/keys"
	"github.com/dropexp/dropexp/internal/sweep"
	"github.com/spf13/cobra"
)

// newSweepCmd is dropexp sweep; runF, when not nil, gets the options in
// place of sweep.RunCommand (tests see what the flags parse to).
func newSweepCmd(runF func(*sweep.CommandOptions) error) *cobra.Command {
	o := &sweep.CommandOptions{}
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
train decides it; the keys
` + experiment.NotIdentityText() + `
do not matter), resumes unfinished, interrupted and failed ones, and never
touches a run of another config: a grid point whose name holds one trains
into runs/NAME-XXXXXXXX and the log and index.json say so. A failed or
diverged run does not stop the others; the command exits non-zero at the end
if any run did not finish.

--index runs only some runs of the grid, in the order given: one (--index 7,
for job arrays), a range (8-11) or a list (20,39,13-15: the cells a question
needs first); they share one load of the data. --emit slurm|k8s writes
DIR/sweep.sbatch or DIR/sweep-job.yaml running the grid one run per task, and
runs nothing. --list prints the grid and each run's status (from the run
directories, without loading data) and rewrites DIR/index.json.

The run config keys (for --axis and --set):

` + keys.Help(),
		Example: `  dropexp sweep --config configs/sweeps/table1.yaml --list     # the grid and each run's status
  dropexp sweep --axis train.lr=0.001,0.01 --set train.iterations=100   # the demo config at two learning rates
  dropexp sweep --base configs/convnet-quick-cifar10.yaml --axis variant=plain,forward \
      --axis ratio=0.3 --axis train.batch_size=50,100 --set dataset.path=data/cifar10
  dropexp sweep --config configs/sweeps/table1.yaml --ratios 0.3,0.1 --seeds 1,2,3 \
      --set dataset.path=data/cifar10
  dropexp sweep --config configs/sweeps/table1.yaml --jobs 1 --set train.iterations=500
  dropexp sweep --config configs/sweeps/table2.yaml --emit slurm --cpus 4 --time 20:00:00`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed := cmd.Flags().Changed
			o.BaseGiven, o.RatiosGiven, o.SeedsGiven, o.IndexGiven = changed("base"), changed("ratios"), changed("seeds"), changed("index")
			o.Env, o.Stdout, o.Stderr = os.Environ(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if runF != nil {
				return runF(o)
			}
			trainsRuns.Store(true)
			return sweep.RunCommand(cmd.Context(), *o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.File, "config", "", "sweep config file, e.g. configs/sweeps/table1.yaml")
	f.StringVar(&o.Base, "base", "", "run config every run starts from: without --config the sweep's base (default: the embedded demo config), with it in place of the file's base")
	f.StringArrayVar(&o.Axes, "axis", nil, "cross the values of a key with the grid: --axis train.lr=0.001,0.01 (any run config key, or variant, ratio, q, seed, gradient, dataset; repeatable)")
	f.StringVar(&o.Out, "out", "", "sweep directory (default results/NAME, NAME from the sweep config)")
	f.StringSliceVar(&o.Ratios, "ratios", nil, "replace axes.ratio: comma-separated p or p/q values, e.g. 0.3,0.1")
	f.Int64SliceVar(&o.Seeds, "seeds", nil, "replace axes.seed, e.g. 1,2,3")
	f.StringArrayVar(&o.Sets, "set", nil, "override a run config key in every run: --set train.iterations=100 (repeatable)")
	f.IntVar(&o.Jobs, "jobs", 0, "runs trained at once; their threads share the cores (0: one per core, measured fastest)")
	f.IntVar(&o.Cores, "cores", 0, "cores to share between the jobs (default: all of this machine's)")
	f.StringVar(&o.Index, "index", "", "run only these runs of the grid, 0-based, in this order: I, a range I-J, or a list 20,39,13-15 (job arrays, a chosen order)")
	f.BoolVar(&o.List, "list", false, "print the grid with each run's status and run nothing")
	f.IntVar(&o.MaxRuns, "max-runs", sweep.DefaultMaxRuns, "refuse a grid of more runs than this, before planning it")
	f.BoolVar(&o.AllowKernelChange, "allow-kernel-change", false, "resume runs computed so far by another kernel set, dropexp or Go version (their numbers then match neither; summary.json records it)")
	f.StringVar(&o.Emit, "emit", "", "write a job array instead of running: slurm (DIR/sweep.sbatch) or k8s (DIR/sweep-job.yaml)")
	f.StringVar(&o.Exe, "exe", "", "dropexp binary the jobs run (default: this binary for slurm, dropexp for k8s)")
	f.IntVar(&o.Job.CPUs, "cpus", 2, "with --emit: cores per task")
	f.StringVar(&o.Job.Mem, "mem", "", "with --emit: memory per task, e.g. 4G (default: the cluster's)")
	f.IntVar(&o.Job.Parallelism, "parallelism", 0, "with --emit: tasks at once (default: as many as the scheduler allows)")
	f.StringVar(&o.Job.Time, "time", "", "with --emit slurm: time limit per task, e.g. 1:00:00")
	f.StringVar(&o.Job.Partition, "partition", "", "with --emit slurm: partition")
	f.StringVar(&o.Job.Image, "image", "dropexp:latest", "with --emit k8s: container image with dropexp, the configs and the data")
	f.StringVar(&o.Job.Workdir, "workdir", "/dropexp", "with --emit k8s: working directory in the image (relative config and data paths start there)")
	f.StringVar(&o.Job.Claim, "claim", "dropexp-results", "with --emit k8s: PersistentVolumeClaim (ReadWriteMany) holding the sweep directory")
	f.StringVar(&o.Job.Mount, "mount", "/results", "with --emit k8s: where the claim is mounted")
	return cmd
}
