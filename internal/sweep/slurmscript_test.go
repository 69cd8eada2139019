package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// scripts/slurm-test.sh (make slurm-test, which CI does not run: it needs
// root and a Slurm cluster) counts the second array's skipped runs by
// grepping the tasks' logs for the line a sweep prints when it skips a
// finished run. This keeps its pattern in step with that line.
func TestSlurmTestScriptMatchesTheSkipLine(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "slurm-test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`grep -hE '([^']*already finished[^']*)'`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/slurm-test.sh: no grep -hE '…already finished…' line counting the skipped runs")
	}
	pattern, err := regexp.Compile(string(m[1]))
	if err != nil {
		t.Fatalf("scripts/slurm-test.sh: pattern %q: %v", m[1], err)
	}

	s, runs := grid(t)
	dir := t.TempDir()
	mustWriteRun(t, filepath.Join(dir, RunsDir, runs[0].Name), runs[0].Config, results.StatusFinished, 0.61)
	var log bytes.Buffer
	opt := fakeOptions(dir, newFake())
	opt.Log = &log
	if _, err := Execute(context.Background(), s, runs[:1], opt); err != nil {
		t.Fatal(err)
	}
	var skipped int
	for _, line := range strings.Split(log.String(), "\n") {
		if pattern.MatchString(line) {
			skipped++
		}
	}
	if skipped != 1 {
		t.Errorf("scripts/slurm-test.sh's pattern %q matches %d lines of a sweep that skipped one finished run:\n%s", m[1], skipped, log.String())
	}
}
