package progress

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// StampLayout is the timestamp that starts every line of a log that is not a terminal.
const StampLayout = "2006-01-02 15:04:05"

// Log returns w itself when w is a terminal, where a person watches the
// output as it comes, and otherwise a writer that starts every line with
// the local time (StampLayout), so a batch job's log says when each run
// started, evaluated and finished. It is safe for concurrent use.
func Log(w io.Writer) io.Writer {
	if isTerminal(w) {
		return w
	}
	return &stampWriter{w: w, now: time.Now, atStart: true}
}

// IsTerminal reports whether w is a terminal (a live bar and redrawn screens make sense there).
func IsTerminal(w io.Writer) bool { return isTerminal(w) }

// stampWriter prefixes each line with the time at which its first byte was written.
type stampWriter struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	atStart bool // the next byte starts a line
	buf     []byte
}

func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for rest := p; len(rest) > 0; {
		if s.atStart {
			s.buf = s.now().AppendFormat(s.buf, StampLayout)
			s.buf = append(s.buf, ' ')
			s.atStart = false
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			s.buf = append(s.buf, rest...)
			break
		}
		s.buf = append(s.buf, rest[:i+1]...)
		rest = rest[i+1:]
		s.atStart = true
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
