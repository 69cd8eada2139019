//go:build unix

package results

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock is an exclusive lock on one run, held while a process trains it, so
// that two processes (two sweeps sharing a directory, a Slurm array and a
// local rerun, a sweep and a `train --resume`) never train the same run at
// once. flock locks belong to the open file, so the kernel drops them when
// the process dies.
type Lock struct{ f *os.File }

// TryLock takes the lock file at path without waiting; ok is false if
// another holder has it.
func TryLock(path string) (l *Lock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("results: lock: %w", explain(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("results: lock %s: %w", path, err)
	}
	return &Lock{f}, true, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() { l.f.Close() }
