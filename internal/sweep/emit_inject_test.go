package sweep

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sArgs decodes a job file, which must hold exactly one YAML document,
// and returns its container's args.
func k8sArgs(t *testing.T, file string) []string {
	t.Helper()
	docs := k8sDocs(t, file)
	if len(docs) != 1 {
		t.Fatalf("%d YAML documents, want 1:\n%s", len(docs), file)
	}
	return docs[0].Spec.Template.Spec.Containers[0].Args
}

// k8sDocs decodes every YAML document of a job file.
func k8sDocs(t *testing.T, file string) []k8sJob {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(file))
	var docs []k8sJob
	for {
		var j k8sJob
		err := dec.Decode(&j)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("not YAML: %v\n%s", err, file)
		}
		docs = append(docs, j)
	}
}

// TestJobFilesRefuseInjection feeds hostile names, paths and flags to the
// job files: a value that would leave its line (a newline, a YAML line
// break) or is not in the scheduler's spelling is refused with the flag's
// name; every other value arrives as one argument, verbatim, and the
// script runs nothing else.
func TestJobFilesRefuseInjection(t *testing.T) {
	const payload = "x\ntouch PWNED $(id>PWNED2)\n#"
	const oneLine = "x $(id>PWNED2) `touch PWNED3`; touch PWNED4 #"
	base := func() JobOptions {
		return JobOptions{Exe: "dropexp", Config: "/src/sweep.yaml", Out: "/scratch/sw", Workdir: "/src",
			CPUs: 2, Image: "dropexp:1", Claim: "runs", Mount: "/results"}
	}
	for _, tc := range []struct {
		name  string
		sweep string
		edit  func(*JobOptions)
		want  string // the refusal, "" if the value is accepted
		kinds []string
	}{
		{name: "sweep name", sweep: payload, want: "the sweep name", kinds: []string{"slurm", "k8s"}},
		{name: "sweep name U+2028", sweep: "x\u2028kind: Pod", want: "U+2028", kinds: []string{"slurm", "k8s"}},
		{name: "out newline", edit: func(o *JobOptions) { o.Out = "/scratch/" + payload }, want: "--out", kinds: []string{"slurm", "k8s"}},
		{name: "out quote", edit: func(o *JobOptions) { o.Out = `/scratch/a"b` }, want: "--out", kinds: []string{"slurm"}},
		{name: "partition newline", edit: func(o *JobOptions) { o.Partition = payload }, want: "--partition", kinds: []string{"slurm"}},
		{name: "partition shell", edit: func(o *JobOptions) { o.Partition = "gpu $(id>PWNED2)" }, want: "--partition", kinds: []string{"slurm"}},
		{name: "mem newline", edit: func(o *JobOptions) { o.Mem = "4G\n" + payload }, want: "--mem", kinds: []string{"slurm", "k8s"}},
		{name: "mem shell", edit: func(o *JobOptions) { o.Mem = "4G $(id>PWNED2)" }, want: "--mem", kinds: []string{"slurm", "k8s"}},
		{name: "time", edit: func(o *JobOptions) { o.Time = "1:00:00 --wrap=id" }, want: "--time", kinds: []string{"slurm"}},
		{name: "claim newline", edit: func(o *JobOptions) { o.Claim = "runs\n---\nkind: Pod" }, want: "--claim", kinds: []string{"k8s"}},
		{name: "claim not a name", edit: func(o *JobOptions) { o.Claim = "runs}, {x: y" }, want: "--claim", kinds: []string{"k8s"}},
		{name: "arg newline", edit: func(o *JobOptions) { o.Args = []string{"--set", "dataset.path=" + payload} }, want: "argument", kinds: []string{"slurm", "k8s"}},
		// Accepted: printable values, quoted for the shell, sbatch and YAML.
		{name: "out with spaces and shell", edit: func(o *JobOptions) { o.Out = "/scratch/my sweep " + oneLine }, kinds: []string{"slurm", "k8s"}},
		{name: "workdir with spaces", edit: func(o *JobOptions) { o.Workdir = "/src/my " + oneLine }, kinds: []string{"slurm", "k8s"}},
		{name: "args", edit: func(o *JobOptions) { o.Args = []string{"--set", "dataset.path=" + oneLine, "--base", "it's.yaml"} }, kinds: []string{"slurm", "k8s"}},
		{name: "image and config", edit: func(o *JobOptions) { o.Image = `evil: {x: "y"} # z`; o.Config = "/src/" + oneLine }, kinds: []string{"slurm", "k8s"}},
		{name: "partitions and time", edit: func(o *JobOptions) { o.Partition, o.Time, o.Mem = "gpu,cpu", "1-12:00:00", "500M" }, kinds: []string{"slurm"}},
	} {
		for _, kind := range tc.kinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				o := base()
				if tc.edit != nil {
					tc.edit(&o)
				}
				sweep := cmp.Or(tc.sweep, "table1")
				var file string
				var err error
				if kind == "slurm" {
					file, err = SlurmScript(sweep, 3, o)
				} else {
					file, err = K8sJob(sweep, 3, o)
				}
				if tc.want != "" {
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("err = %v, want a refusal naming %s; file:\n%s", err, tc.want, file)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if kind == "k8s" {
					docs := k8sDocs(t, file)
					if len(docs) != 1 {
						t.Fatalf("%d YAML documents, want 1:\n%s", len(docs), file)
					}
					c := docs[0].Spec.Template.Spec.Containers[0]
					if c.Image != o.Image || c.WorkingDir != o.Workdir || docs[0].Spec.Template.Spec.Volumes[0].PVC.ClaimName != o.Claim ||
						!slices.Equal(c.Args[len(c.Args)-len(o.Args):], o.Args) || !slices.Contains(c.Args, o.Out) {
						t.Errorf("values changed on their way through YAML: %+v\n%s", c, file)
					}
					return
				}
				runSlurmScript(t, file, o)
			})
		}
	}
}

// runSlurmScript checks that a Slurm script parses (bash -n), that its
// #SBATCH lines are the expected ones with paths in one quoted token, and
// that running it as task 0 with a stub dropexp passes the stub exactly the
// intended arguments and creates no file.
func runSlurmScript(t *testing.T, script string, o JobOptions) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sweep.sbatch")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s\n%s", err, out, script)
	}
	for _, l := range strings.Split(script, "\n") {
		if v, ok := strings.CutPrefix(l, "#SBATCH --output="); ok && strings.ContainsAny(o.Out, " $`;#") && !(strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`)) {
			t.Errorf("--output with spaces is not one quoted sbatch token: %q", l)
		}
		if v, ok := strings.CutPrefix(l, "#SBATCH --chdir="); ok && strings.ContainsAny(o.Workdir, " $`;#") && v != `"`+o.Workdir+`"` {
			t.Errorf("--chdir with spaces is not one quoted sbatch token: %q", l)
		}
	}
	// The stub lives in a directory whose name needs quoting too.
	stubDir := filepath.Join(dir, "bin dir $(id>PWNED5)")
	if err := os.Mkdir(stubDir, 0o755); err != nil {
		t.Fatal(err)
	}
	argsFile := filepath.Join(dir, "args")
	stub := filepath.Join(stubDir, "dropexp")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$ARGS_FILE\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o.Exe = stub
	script, err = SlurmScript("table1", 3, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, path)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0", "ARGS_FILE="+argsFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the script: %v\n%s\n%s", err, out, script)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("running the script created %v in its directory:\n%s", entries, script)
	}
	for _, d := range []string{dir, stubDir} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "PWNED") {
				t.Errorf("running the script created %s:\n%s", e.Name(), script)
			}
		}
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("the stub did not run: %v\n%s", err, script)
	}
	want := []string{"sweep", "--config", o.Config, "--out", o.Out, "--index", "0", "--jobs", "1", "--cores", "2"}
	want = append(want, o.Args...)
	if args := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00"); !slices.Equal(args, want) {
		t.Errorf("the stub got %q, want %q:\n%s", args, want, script)
	}
	if bytes.Contains(got, []byte("uid=")) {
		t.Errorf("a command substitution ran: %q", got)
	}
}
