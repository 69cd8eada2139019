package results

import (
	"io"
	"sync/atomic"
)

// writeFault, when set, decides for each atomic write (by its target path)
// whether it fails: see SimulateWriteFailure.
var writeFault atomic.Pointer[func(path string) error]

// SimulateWriteFailure makes the atomic writes of this package fail as a
// full disk makes them fail, so that tests of its callers (training, sweeps)
// can check what a run leaves behind: for each write, fail is called with
// the target path, and a non-nil error it returns is what the write of the
// temporary file returns after half the bytes went out. The returned
// function ends the simulation. Production code never calls this.
func SimulateWriteFailure(fail func(path string) error) (restore func()) {
	writeFault.Store(&fail)
	return func() { writeFault.Store(nil) }
}

// faulty returns w, or a writer that fails as the simulation says for path.
func faulty(path string, w io.Writer) io.Writer {
	f := writeFault.Load()
	if f == nil {
		return w
	}
	if err := (*f)(path); err != nil {
		return failingWriter{w, err}
	}
	return w
}

// failingWriter writes half of each buffer, then fails with err.
type failingWriter struct {
	w   io.Writer
	err error
}

func (f failingWriter) Write(p []byte) (int, error) {
	n, _ := f.w.Write(p[:len(p)/2])
	return n, f.err
}
