//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --config names a file: a FIFO (which blocked), a device (/dev/zero grew
// without end) or a file too big to be a config is refused before it is
// read, naming the file.
func TestLoadRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "run.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileBytes)+"\nmodel: convnet-quick\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ file, want string }{
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{dir, "is a directory"},
		{big, "want at most 4194304"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases, struct{ file, want string }{"/dev/zero", "is a character device"})
	}
	for _, tc := range cases {
		done := make(chan error, 1)
		go func() {
			_, err := Load(tc.file, nil, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("Load(%s): %v, want an error naming the file: %q", tc.file, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Load(%s) hangs", tc.file)
		}
	}
}
