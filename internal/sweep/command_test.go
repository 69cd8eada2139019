package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RunCommand is dropexp sweep without cobra: it refuses bad options before
// it writes anything, lists the grid, and writes a job array whose tasks
// repeat exactly the grid's flags that were given.
func TestRunCommand(t *testing.T) {
	spec := writeSpec(t, "name: tiny\nbase: base.yaml\naxes: {variant: [plain, standard], ratio: [0.3], seed: [1, 2]}\n")
	for _, tc := range []struct {
		name    string
		o       CommandOptions
		wantErr string
		want    []string // in stdout
		not     string   // not in stdout
		file    string   // written into the sweep directory
		args    string   // the tasks' arguments end with these
	}{
		{name: "negative jobs", o: CommandOptions{File: spec.File, Jobs: -1, MaxRuns: 10}, wantErr: "--jobs -1, --cores 0: give a positive number"},
		{name: "no max runs", o: CommandOptions{File: spec.File}, wantErr: "--max-runs 0: give a positive number"},
		{name: "nothing to sweep", o: CommandOptions{MaxRuns: 10}, wantErr: "give a sweep file (--config"},
		{name: "index outside", o: CommandOptions{File: spec.File, MaxRuns: 10, Index: "9", IndexGiven: true, List: true}, wantErr: "--index 9: the grid of"},
		{name: "too many runs", o: CommandOptions{File: spec.File, MaxRuns: 3, List: true}, wantErr: "runs"},
		{name: "list", o: CommandOptions{File: spec.File, MaxRuns: 10, List: true},
			want: []string{"   0  pending     plain-layer-s1\n", "   3  pending     standard-p0.3-layer-s2\n", "4 runs in "}},
		{name: "list index", o: CommandOptions{File: spec.File, MaxRuns: 10, List: true, Index: "1", IndexGiven: true},
			want: []string{"   1  pending     standard-p0.3-layer-s1\n", "4 runs in "}, not: "plain"},
		{name: "seeds given", o: CommandOptions{File: spec.File, MaxRuns: 10, List: true, Seeds: []int64{5}, SeedsGiven: true},
			want: []string{"plain-layer-s5", "2 runs in "}},
		{name: "seeds not given", o: CommandOptions{File: spec.File, MaxRuns: 10, List: true, Seeds: []int64{5}},
			want: []string{"plain-layer-s1", "4 runs in "}},
		{name: "bad emit", o: CommandOptions{File: spec.File, MaxRuns: 10, Emit: "pbs"}, wantErr: `--emit "pbs": want slurm or k8s`},
		{name: "emit k8s", o: CommandOptions{File: spec.File, MaxRuns: 10, Emit: "k8s", Seeds: []int64{1}, SeedsGiven: true,
			Sets: []string{"train.iterations=20"}, Job: JobOptions{CPUs: 2, Image: "img", Workdir: "/w", Claim: "c", Mount: "/results"}},
			want: []string{"apply with: kubectl apply -f "}, file: K8sFile,
			args: "--jobs 1 --cores 2 --seeds 1 --set train.iterations=20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			o := tc.o
			o.Out = filepath.Join(t.TempDir(), "sweep")
			o.Stdout, o.Stderr = &stdout, &stderr
			err := RunCommand(context.Background(), o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				if _, err := os.Stat(o.Out); !os.IsNotExist(err) {
					t.Errorf("a refused sweep made its directory (%v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%q", w, stdout.String())
				}
			}
			if tc.not != "" && strings.Contains(stdout.String(), tc.not) {
				t.Errorf("stdout has %q:\n%s", tc.not, stdout.String())
			}
			if tc.file == "" {
				return
			}
			data, err := os.ReadFile(filepath.Join(o.Out, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if args := strings.Join(k8sArgs(t, string(data)), " "); !strings.HasSuffix(args, tc.args) {
				t.Errorf("the tasks' arguments %q do not end with %q", args, tc.args)
			}
			if _, err := os.Stat(filepath.Join(o.Out, IndexFile)); err != nil {
				t.Errorf("no %s beside the job file: %v", IndexFile, err)
			}
		})
	}
}
