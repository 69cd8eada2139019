//go:build unix

package sweep

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// runLock is an exclusive lock on one run, held while a process trains it,
// so that two sweep processes sharing a directory (a Slurm array and a local
// rerun, say) never train the same run at once. flock locks belong to the
// open file, so the kernel drops them when the process dies.
type runLock struct{ f *os.File }

// tryLock takes the lock file at path without waiting; ok is false if
// another holder has it.
func tryLock(path string) (l *runLock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("sweep: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("sweep: lock %s: %w", path, err)
	}
	return &runLock{f}, true, nil
}

// unlock releases the lock.
func (l *runLock) unlock() { l.f.Close() }
