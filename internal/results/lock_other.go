//go:build !unix

package sweep

// runLock is a no-op where flock does not exist: concurrent sweep processes
// on one directory are then the user's to avoid.
type runLock struct{}

func tryLock(string) (*runLock, bool, error) { return &runLock{}, true, nil }

func (*runLock) unlock() {}
