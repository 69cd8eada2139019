//go:build !unix

package dataset

import "testing"

// mkfifo skips the test: this system has no named pipes.
func mkfifo(t *testing.T, name string) { t.Skip("no FIFOs here") }
