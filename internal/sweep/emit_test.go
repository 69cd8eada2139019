package sweep

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSlurmScript(t *testing.T) {
	got, err := SlurmScript("table1", 57, JobOptions{
		Exe: "/opt/bin/dropexp", Config: "/src/configs/sweeps/table1.yaml", Out: "/scratch/t1", Workdir: "/src",
		Args: []string{"--ratios", "0.3,0.1", "--set", "dataset.path=/data/my cifar"}, CPUs: 4, Mem: "4G", Parallelism: 8, Time: "1:00:00",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --job-name=dropexp-table1\n",
		"#SBATCH --array=0-56%8\n",
		"#SBATCH --cpus-per-task=4\n",
		"#SBATCH --mem=4G\n",
		"#SBATCH --time=1:00:00\n",
		"#SBATCH --chdir=/src\n",
		"#SBATCH --output=/scratch/t1/slurm/%A_%a.out\n",
		`exec /opt/bin/dropexp sweep --config /src/configs/sweeps/table1.yaml --out /scratch/t1 --index "$SLURM_ARRAY_TASK_ID" --jobs 1 --cores "${SLURM_CPUS_PER_TASK:-4}" --ratios 0.3,0.1 --set 'dataset.path=/data/my cifar'` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "--partition") {
		t.Errorf("partition line without a partition")
	}
	// #SBATCH lines count only before the first command.
	lines := strings.Split(got, "\n")
	firstCmd := -1
	for i, l := range lines {
		if l != "" && !strings.HasPrefix(l, "#") {
			firstCmd = i
			break
		}
	}
	for _, l := range lines[firstCmd:] {
		if strings.HasPrefix(l, "#SBATCH") {
			t.Errorf("#SBATCH after the first command: %q", l)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path-1.yaml": "plain/path-1.yaml",
		"a b":               "'a b'",
		"it's":              `'it'\''s'`,
		"":                  "''",
		"$HOME":             "'$HOME'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestK8sJob(t *testing.T) {
	got, err := K8sJob("Table 2", 54, JobOptions{
		Exe: "dropexp", Config: "configs/sweeps/table2.yaml", Out: "/results/table2", Workdir: "/dropexp",
		Args: []string{"--seeds", "1,2"}, CPUs: 2, Mem: "3G", Parallelism: 6, Image: "registry/dropexp:1", Claim: "runs", Mount: "/results",
	})
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct{ Name string }
		Spec       struct {
			CompletionMode       string `yaml:"completionMode"`
			Completions          int    `yaml:"completions"`
			Parallelism          int    `yaml:"parallelism"`
			BackoffLimitPerIndex int    `yaml:"backoffLimitPerIndex"`
			Template             struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Image      string
						WorkingDir string `yaml:"workingDir"`
						Command    []string
						Args       []string
						Resources  struct{ Requests, Limits map[string]string }
						Mounts     []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name string
						PVC  struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal([]byte(got), &job); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, got)
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || job.Metadata.Name != "dropexp-table-2" ||
		s.CompletionMode != "Indexed" || s.Completions != 54 || s.Parallelism != 6 || s.BackoffLimitPerIndex != 1 ||
		s.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("job: %+v", job)
	}
	if len(s.Template.Spec.Containers) != 1 || len(s.Template.Spec.Volumes) != 1 {
		t.Fatalf("pod: %+v", s.Template.Spec)
	}
	c, v := s.Template.Spec.Containers[0], s.Template.Spec.Volumes[0]
	wantArgs := "sweep --config configs/sweeps/table2.yaml --out /results/table2 --index $(JOB_COMPLETION_INDEX) --jobs 1 --cores 2 --seeds 1,2"
	if c.Image != "registry/dropexp:1" || c.WorkingDir != "/dropexp" || strings.Join(c.Command, " ") != "dropexp" || strings.Join(c.Args, " ") != wantArgs {
		t.Errorf("container: %+v", c)
	}
	if c.Resources.Requests["cpu"] != "2" || c.Resources.Limits["memory"] != "3Gi" {
		t.Errorf("resources: %+v", c.Resources)
	}
	if len(c.Mounts) != 1 || c.Mounts[0].Name != v.Name || c.Mounts[0].MountPath != "/results" || v.PVC.ClaimName != "runs" {
		t.Errorf("volume: %+v %+v", c.Mounts, v)
	}
}

// A sweep of --base and --axis has no file: its tasks repeat those flags instead.
func TestJobsWithoutASweepFile(t *testing.T) {
	o := JobOptions{Exe: "dropexp", Out: "/scratch/lr", Workdir: "/src", Args: []string{"--base", "configs/demo.yaml", "--axis", "train.lr=0.001,0.01"}}
	slurm, err := SlurmScript("demo-lr", 2, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := `exec dropexp sweep --out /scratch/lr --index "$SLURM_ARRAY_TASK_ID" --jobs 1 --cores "${SLURM_CPUS_PER_TASK:-1}" --base configs/demo.yaml --axis train.lr=0.001,0.01` + "\n"; !strings.Contains(slurm, want) {
		t.Errorf("slurm script lacks %q:\n%s", want, slurm)
	}
	o.Claim = "runs"
	k8s, err := K8sJob("demo-lr", 2, o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(k8sArgs(t, k8s), " "), "sweep --out /scratch/lr --index $(JOB_COMPLETION_INDEX) --jobs 1 --cores 1 --base configs/demo.yaml --axis train.lr=0.001,0.01"; got != want {
		t.Errorf("k8s job args %q, want %q:\n%s", got, want, k8s)
	}
}
