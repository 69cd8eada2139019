//go:build !unix

package results

// Lock is a no-op where flock does not exist: concurrent processes on one
// run are then the user's to avoid.
type Lock struct{}

// TryLock always succeeds.
func TryLock(string) (*Lock, bool, error) { return &Lock{}, true, nil }

// Unlock does nothing.
func (*Lock) Unlock() {}
