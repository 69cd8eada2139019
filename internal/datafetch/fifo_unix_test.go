//go:build unix

package datafetch

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"
)

// TestVerifyFIFO checks that a FIFO in place of a file is refused by name
// instead of hanging verify in the open.
func TestVerifyFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "a.bin"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	_, sum := payload(10)
	err := Verify(Source{Name: "x", Files: []File{{Name: "a.bin", URL: "http://h/a.bin", MD5: sum}}}, dir, &bytes.Buffer{})
	checkErr(t, err, filepath.Join(dir, "a.bin")+" is a named pipe (FIFO), not a regular file")
}
