//go:build unix

package status

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/results"
)

// RunCommand is dropexp status without cobra: one report, or a watch that
// ends when nothing runs, redrawn only on a terminal.
func TestRunCommand(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), fixture{summary: results.StatusFinished, metrics: []results.Metric{{Iteration: 1000, TrainLoss: 0.5, TestLoss: 0.6, TestAcc: 0.8}}})
	for _, tc := range []struct {
		name    string
		o       CommandOptions
		want    []string
		not     string
		wantErr string
	}{
		{name: "once", o: CommandOptions{Dir: root}, want: []string{"1 run: 1 finished", "\na    finished  1000/1000"}, not: "== "},
		{name: "watch off a terminal", o: CommandOptions{Dir: root, Watch: true, Interval: time.Hour}, want: []string{"== ", "nothing running; watch ends\n"}, not: "\x1b["},
		{name: "watch on a terminal", o: CommandOptions{Dir: root, Watch: true, Interval: time.Hour, TTY: true}, want: []string{"\x1b[H\x1b[2J"}},
		{name: "watch too often", o: CommandOptions{Dir: root, Watch: true, Interval: time.Millisecond}, wantErr: "--interval"},
		{name: "no such directory", o: CommandOptions{Dir: filepath.Join(root, "nope")}, wantErr: "run director"},
	} {
		var buf bytes.Buffer
		o := tc.o
		o.Stdout = &buf
		err := RunCommand(t.Context(), o)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: output lacks %q:\n%q", tc.name, w, buf.String())
			}
		}
		if tc.not != "" && strings.Contains(buf.String(), tc.not) {
			t.Errorf("%s: output has %q:\n%q", tc.name, tc.not, buf.String())
		}
	}
}
