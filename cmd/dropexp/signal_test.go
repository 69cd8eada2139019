//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// The first SIGTERM while the data are still loading ends the process at
// once (there is nothing to checkpoint yet); it used to wait for the load,
// which here never ends: the data set is a FIFO nobody writes to.
func TestSignalWhileLoadingData(t *testing.T) {
	dir, file := tinyRun(t)
	fifo := filepath.Join(dir, "slow.tar")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MAIN_TEST_ARGS="+strings.Join([]string{"train", "--config", file,
		"--set", "dataset.name=imagefolder", "--set", "dataset.path=" + fifo}, "\n"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Opening the FIFO for writing returns once the child has opened it to
	// read: then it is loading, its signal handler long installed.
	opened := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		opened <- w
	}()
	var err error
	select {
	case w := <-opened:
		defer w.Close()
	case err := <-done:
		os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0) // frees the opener
		t.Fatalf("dropexp ended before it read the data: %v\n%s", err, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang, not a speed limit: before the fix it never exits
		cmd.Process.Kill()
		<-done
		t.Fatalf("dropexp did not exit on SIGTERM while loading data; stderr:\n%s", stderr.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("exit: %v, want status %d", err, 128+int(syscall.SIGTERM))
	}
	if !strings.Contains(stderr.String(), "before training started: nothing to checkpoint yet; exiting") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
