package sweep

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
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

// ShellQuote quotes s for a POSIX shell, for commands printed to be pasted.
func ShellQuote(s string) string { return shellQuote(s) }

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sbatchQuote quotes s for an #SBATCH line, which sbatch splits itself:
// in double quotes when it holds anything but plain characters. check
// has refused the characters those quotes cannot carry.
func sbatchQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return `"` + s + `"`
}

// printable reports the first character of s that a job file cannot
// carry on one line: control characters (a newline starts a command),
// line and paragraph separators (line breaks to YAML 1.1 readers) and
// invisible format characters; ok if there is none.
func printable(s string) (bad rune, ok bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, false
	}
	for _, r := range s {
		if r != ' ' && !unicode.IsPrint(r) {
			return r, false
		}
	}
	return 0, true
}

// Slurm's own spellings of the values that go into #SBATCH lines.
var (
	slurmMem       = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	slurmTime      = regexp.MustCompile(`^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$`)
	slurmPartition = regexp.MustCompile(`^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$`)
	// A Kubernetes object name (RFC 1123 subdomain), as a claim's is.
	k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// check refuses job options a scheduler would misread or a shell would
// run: every value on one line of printable characters, the #SBATCH
// values in the spelling Slurm takes, paths without the quote and
// backslash #SBATCH quoting cannot carry, and a claim that is a
// Kubernetes name.
func (o JobOptions) check(kind, sweep string) error {
	var errs []error
	fields := []struct{ name, value string }{
		{"the sweep name", sweep}, {"--exe", o.Exe}, {"--config", o.Config}, {"--out", o.Out}, {"--workdir", o.Workdir},
		{"--mem", o.Mem}, {"--time", o.Time}, {"--partition", o.Partition}, {"--image", o.Image}, {"--claim", o.Claim}, {"--mount", o.Mount},
	}
	for _, a := range o.Args {
		fields = append(fields, struct{ name, value string }{"the argument " + strconv.Quote(a), a})
	}
	for _, f := range fields {
		if r, ok := printable(f.value); !ok {
			errs = append(errs, fmt.Errorf("%s %q holds the character %U, which a job file cannot carry; use printable characters only", f.name, f.value, r))
		}
	}
	spelled := func(flag, value string, re *regexp.Regexp, example string) {
		if value != "" && !re.MatchString(value) {
			errs = append(errs, fmt.Errorf("%s %q: not in Slurm's spelling, e.g. %s", flag, value, example))
		}
	}
	spelled("--mem", o.Mem, slurmMem, "--mem 4G")
	switch kind {
	case "slurm":
		spelled("--time", o.Time, slurmTime, "--time 2:00:00 or --time 1-12:00:00")
		spelled("--partition", o.Partition, slurmPartition, "--partition gpu")
		for _, f := range []struct{ name, value string }{{"--out", o.Out}, {"the working directory", o.Workdir}} {
			if strings.ContainsAny(f.value, `"\`) {
				errs = append(errs, fmt.Errorf("%s %q holds a double quote or a backslash, which an #SBATCH line cannot carry; choose a directory without them", f.name, f.value))
			}
		}
	case "k8s":
		if !k8sName.MatchString(o.Claim) || len(o.Claim) > 253 {
			errs = append(errs, fmt.Errorf("--claim %q is not a Kubernetes name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit", o.Claim))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sweep --emit %s: %w", kind, errors.Join(errs...))
	}
	return nil
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
// array; each task's output goes to OUT/slurm/JOBID_TASK.out. It refuses
// options that would not stay on their line or in their quotes.
func SlurmScript(sweep string, n int, o JobOptions) (string, error) {
	if err := o.check("slurm", sweep); err != nil {
		return "", err
	}
	var b strings.Builder
	array := fmt.Sprintf("0-%d", n-1)
	if o.Parallelism > 0 {
		array += fmt.Sprintf("%%%d", o.Parallelism)
	}
	cpus := max(o.CPUs, 1)
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Slurm job array of dropexp sweep %s: %d runs, one per task, written by\n", sweep, n)
	fmt.Fprintf(&b, "# `dropexp sweep --emit slurm`. Submit with `sbatch %s`; rerunning a task\n", shellQuote(o.Out+"/"+SlurmFile))
	fmt.Fprintf(&b, "# skips a finished run. Afterwards: dropexp report --in %s\n", shellQuote(o.Out))
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
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", sbatchQuote(o.Workdir))
	// % starts a file name pattern in --output (%A, %a); %% is a plain %.
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", sbatchQuote(strings.ReplaceAll(o.Out, "%", "%%")+"/slurm/%A_%a.out"))
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
	return b.String(), nil
}

// The Kubernetes Indexed Job K8sJob writes, in the order of its fields.
type (
	k8sJob struct {
		APIVersion string  `yaml:"apiVersion"`
		Kind       string  `yaml:"kind"`
		Metadata   k8sMeta `yaml:"metadata"`
		Spec       k8sSpec `yaml:"spec"`
	}
	k8sMeta struct {
		Name   string            `yaml:"name,omitempty"`
		Labels map[string]string `yaml:"labels"`
	}
	k8sSpec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          int    `yaml:"completions"`
		Parallelism          int    `yaml:"parallelism"`
		BackoffLimitPerIndex int    `yaml:"backoffLimitPerIndex"`
		MaxFailedIndexes     int    `yaml:"maxFailedIndexes"`
		Template             struct {
			Metadata k8sMeta `yaml:"metadata"`
			Spec     k8sPod  `yaml:"spec"`
		} `yaml:"template"`
	}
	k8sPod struct {
		RestartPolicy string         `yaml:"restartPolicy"`
		Containers    []k8sContainer `yaml:"containers"`
		Volumes       []k8sVolume    `yaml:"volumes"`
	}
	k8sContainer struct {
		Name       string   `yaml:"name"`
		Image      string   `yaml:"image"`
		WorkingDir string   `yaml:"workingDir"`
		Command    []string `yaml:"command,flow"`
		Args       []string `yaml:"args,flow"`
		Resources  struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []k8sMount `yaml:"volumeMounts"`
	}
	k8sMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	}
	k8sVolume struct {
		Name string `yaml:"name"`
		PVC  struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	}
)

// K8sJob returns a Kubernetes Indexed Job running the n runs of sweep, one
// pod per completion index, all sharing the sweep directory on a volume.
// The YAML is written by the YAML encoder, so no value leaves its field; it
// refuses options that would not stay on their comment line.
func K8sJob(sweep string, n int, o JobOptions) (string, error) {
	if err := o.check("k8s", sweep); err != nil {
		return "", err
	}
	par := o.Parallelism
	if par <= 0 {
		par = n
	}
	cpus := max(o.CPUs, 1)
	args := []string{"sweep"}
	if o.Config != "" {
		args = append(args, "--config", o.Config)
	}
	// JOB_COMPLETION_INDEX is set by the Job controller; $(...) is expanded by Kubernetes.
	args = append(args, "--out", o.Out, "--index", "$(JOB_COMPLETION_INDEX)", "--jobs", "1", "--cores", fmt.Sprint(cpus))
	args = append(args, o.Args...)
	res := map[string]string{"cpu": fmt.Sprint(cpus)}
	if o.Mem != "" {
		mem := o.Mem
		if strings.HasSuffix(mem, "G") || strings.HasSuffix(mem, "M") || strings.HasSuffix(mem, "T") {
			mem += "i" // Slurm's 4G is Kubernetes' 4Gi
		}
		res["memory"] = mem
	}
	labels := map[string]string{"app": "dropexp", "sweep": sweep}
	job := k8sJob{APIVersion: "batch/v1", Kind: "Job", Metadata: k8sMeta{Name: jobName(sweep), Labels: labels}}
	job.Spec = k8sSpec{
		CompletionMode: "Indexed", Completions: n, Parallelism: par,
		// A failed run is retried once and does not stop the others (Kubernetes >= 1.29).
		BackoffLimitPerIndex: 1, MaxFailedIndexes: n,
	}
	job.Spec.Template.Metadata = k8sMeta{Labels: labels}
	c := k8sContainer{Name: "dropexp", Image: o.Image, WorkingDir: o.Workdir, Command: []string{o.Exe}, Args: args,
		VolumeMounts: []k8sMount{{Name: "sweep", MountPath: o.Mount}}}
	c.Resources.Requests, c.Resources.Limits = res, res
	v := k8sVolume{Name: "sweep"}
	v.PVC.ClaimName = o.Claim
	job.Spec.Template.Spec = k8sPod{RestartPolicy: "Never", Containers: []k8sContainer{c}, Volumes: []k8sVolume{v}}

	var b strings.Builder
	fmt.Fprintf(&b, `# Kubernetes Indexed Job of dropexp sweep %[1]s: %[2]d runs, one per completion
# index, written by `+"`dropexp sweep --emit k8s`"+`. The image must hold dropexp and,
# under its working directory, the sweep config, its base configs and the data;
# the claim %[3]s (ReadWriteMany) holds the sweep directory and is shared by all
# pods. Apply with `+"`kubectl apply -f %[4]s`"+`; a rerun skips finished runs.
# Afterwards copy %[5]s off the volume and run dropexp report --in DIR.
`, sweep, n, o.Claim, K8sFile, o.Out)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(job); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
