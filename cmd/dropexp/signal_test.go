//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// TestMain runs main itself in a child process of the test binary when
// MAIN_TEST_ARGS is set (its arguments, separated by newlines), so the
// signal handling of main can be tested.
func TestMain(m *testing.M) {
	if args := os.Getenv("MAIN_TEST_ARGS"); args != "" {
		os.Args = append([]string{"dropexp"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The first SIGTERM before training has started (the data are loading:
// the load log's first line is out) ends the process at once with status
// 143, nothing trained. It used to let the load finish and train up to a
// checkpoint at iteration 0.
func TestSignalWhileLoadingData(t *testing.T) {
	dir, file := tinyRun(t)
	big := filepath.Join(dir, "big")
	if err := datasettest.WriteCIFAR10(big, 20000, 100, 1); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAIN_TEST_ARGS="+strings.Join([]string{"train", "--config", file,
		"--set", "dataset.path=" + big}, "\n"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "data: loading") { // after the log's timestamp
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("exit: %v, want status %d", err, 128+int(syscall.SIGTERM))
	}
	if !strings.Contains(log.String(), "before training started: nothing to checkpoint yet; exiting") {
		t.Errorf("stderr:\n%s", log.String())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "results", "*", "checkpoint.gob")); len(m) > 0 {
		t.Errorf("a run trained after the signal: %v", m)
	}
}
