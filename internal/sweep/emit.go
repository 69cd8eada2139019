package sweep

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The job files Emit writes into the sweep directory.
const (
	SlurmFile = "sweep.sbatch"   // a Slurm job array, one task per run
	K8sFile   = "sweep-job.yaml" // a Kubernetes Indexed Job, one completion index per run
)

// JobOptions describe a job array that runs a grid one run per task, each
// task calling `dropexp sweep --index I` on the shared sweep directory.
type JobOptions struct {
	Exe         string   // the dropexp binary as tasks see it
	Config      string   // the sweep config as tasks see it; "" for a sweep of --base and --axis alone (in Args)
	Out         string   // the sweep directory as tasks see it
	Workdir     string   // tasks' working directory: run configs' relative data paths start there
	Args        []string // flags every task repeats, e.g. --ratios 0.3 --set train.iterations=100
	CPUs        int      // cores per task (each task runs one run with that many threads)
	Mem         string   // memory per task in Slurm's spelling, e.g. 4G; "": the cluster's default
	Parallelism int      // tasks at once; 0: as many as the scheduler allows
	Time        string   // Slurm time limit per task, e.g. 2:00:00; "": the partition's default
	Partition   string   // Slurm partition; "": the default
	Image       string   // Kubernetes container image holding dropexp, the configs and the data
	Claim       string   // Kubernetes PersistentVolumeClaim that holds the sweep directory
	Mount       string   // where the claim is mounted in the container
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// jobName makes a scheduler-friendly job name of the sweep's name.
func jobName(sweep string) string {
	b := []byte("dropexp-" + strings.ToLower(sweep))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return strings.TrimRight(string(b[:min(len(b), 63)]), "-")
}

// SlurmScript returns an sbatch script running the n runs of sweep as a job
// array; each task's output goes to OUT/slurm/JOBID_TASK.out.
func SlurmScript(sweep string, n int, o JobOptions) string {
	var b strings.Builder
	array := fmt.Sprintf("0-%d", n-1)
	if o.Parallelism > 0 {
		array += fmt.Sprintf("%%%d", o.Parallelism)
	}
	cpus := max(o.CPUs, 1)
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Slurm job array of dropexp sweep %s: %d runs, one per task, written by\n", sweep, n)
	fmt.Fprintf(&b, "# `dropexp sweep --emit slurm`. Submit with `sbatch %s/%s`; rerunning a task\n", o.Out, SlurmFile)
	fmt.Fprintf(&b, "# skips a finished run. Afterwards: dropexp report --in %s\n", o.Out)
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", jobName(sweep))
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n")
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", cpus)
	if o.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.Mem)
	}
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
	}
	if o.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
	}
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", o.Workdir)
	fmt.Fprintf(&b, "#SBATCH --output=%s/slurm/%%A_%%a.out\n", o.Out)
	fmt.Fprintf(&b, "set -eu\n")
	args := []string{shellQuote(o.Exe), "sweep"}
	if o.Config != "" {
		args = append(args, "--config", shellQuote(o.Config))
	}
	args = append(args, "--out", shellQuote(o.Out),
		"--index", `"$SLURM_ARRAY_TASK_ID"`, "--jobs", "1", "--cores", fmt.Sprintf(`"${SLURM_CPUS_PER_TASK:-%d}"`, cpus))
	for _, a := range o.Args {
		args = append(args, shellQuote(a))
	}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(args, " "))
	return b.String()
}

// yq quotes s as a YAML (JSON) string.
func yq(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// K8sJob returns a Kubernetes Indexed Job running the n runs of sweep, one
// pod per completion index, all sharing the sweep directory on a volume.
func K8sJob(sweep string, n int, o JobOptions) string {
	par := o.Parallelism
	if par <= 0 {
		par = n
	}
	cpus := max(o.CPUs, 1)
	args := []string{"sweep"}
	if o.Config != "" {
		args = append(args, "--config", o.Config)
	}
	args = append(args, "--out", o.Out, "--index", "$(JOB_COMPLETION_INDEX)", "--jobs", "1", "--cores", fmt.Sprint(cpus))
	args = append(args, o.Args...)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = yq(a)
	}
	res := fmt.Sprintf("{cpu: %s}", yq(fmt.Sprint(cpus)))
	if o.Mem != "" {
		mem := o.Mem
		if strings.HasSuffix(mem, "G") || strings.HasSuffix(mem, "M") || strings.HasSuffix(mem, "T") {
			mem += "i" // Slurm's 4G is Kubernetes' 4Gi
		}
		res = fmt.Sprintf("{cpu: %s, memory: %s}", yq(fmt.Sprint(cpus)), yq(mem))
	}
	name := jobName(sweep)
	var b strings.Builder
	fmt.Fprintf(&b, `# Kubernetes Indexed Job of dropexp sweep %[1]s: %[2]d runs, one per completion
# index, written by `+"`dropexp sweep --emit k8s`"+`. The image must hold dropexp and,
# under its working directory, the sweep config, its base configs and the data;
# the claim %[15]s (ReadWriteMany) holds the sweep directory and is shared by all
# pods. Apply with `+"`kubectl apply -f %[4]s`"+`; a rerun skips finished runs.
# Afterwards copy %[5]s off the volume and run dropexp report --in DIR.
apiVersion: batch/v1
kind: Job
metadata:
  name: %[6]s
  labels: {app: dropexp, sweep: %[7]s}
spec:
  completionMode: Indexed
  completions: %[2]d
  parallelism: %[8]d
  # A failed run is retried once and does not stop the others (Kubernetes >= 1.29).
  backoffLimitPerIndex: 1
  maxFailedIndexes: %[2]d
  template:
    metadata:
      labels: {app: dropexp, sweep: %[7]s}
    spec:
      restartPolicy: Never
      containers:
        - name: dropexp
          image: %[9]s
          workingDir: %[10]s
          command: [%[11]s]
          # JOB_COMPLETION_INDEX is set by the Job controller; $(...) is expanded by Kubernetes.
          args: [%[12]s]
          resources:
            requests: %[13]s
            limits: %[13]s
          volumeMounts:
            - {name: sweep, mountPath: %[14]s}
      volumes:
        - name: sweep
          persistentVolumeClaim: {claimName: %[3]s}
`, sweep, n, yq(o.Claim), K8sFile, o.Out, yq(name), yq(sweep), par, yq(o.Image), yq(o.Workdir),
		yq(o.Exe), strings.Join(quoted, ", "), res, yq(o.Mount), o.Claim)
	return b.String()
}
