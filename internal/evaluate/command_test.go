package evaluate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RunCommand is dropexp eval without cobra: --data goes in as the first
// dataset.path override (a --set of it after wins), the files are written
// and named, and errors say they are eval's.
func TestRunCommand(t *testing.T) {
	f := newFixture(t, 3, false)
	for _, tc := range []struct {
		name    string
		o       CommandOptions
		data    string // what was evaluated
		wantErr string
	}{
		{name: "own test set", o: CommandOptions{Options: Options{Run: f.run}}, data: "the cifar10 test set at " + f.data},
		{name: "--data", o: CommandOptions{Options: Options{Run: f.run}, Data: f.other}, data: "the cifar10 test set at " + f.other},
		{name: "--set after --data", o: CommandOptions{Options: Options{Run: f.run, Sets: []string{"dataset.path=" + f.data}}, Data: f.other}, data: "the cifar10 test set at " + f.data},
		{name: "not a run", o: CommandOptions{Options: Options{Run: t.TempDir()}}, wantErr: "eval: "},
	} {
		var out, log bytes.Buffer
		o := tc.o
		o.Stdout, o.Log = &out, &log
		err := RunCommand(o)
		if tc.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want one starting %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, dir, ok := strings.Cut(out.String(), "\nwrote "+EvalFile+" and "+ConfusionFile+" in ")
		dir = strings.TrimSuffix(dir, "\n")
		if !ok || !strings.Contains(out.String(), tc.data) {
			t.Errorf("%s: output does not name %q and the files written:\n%s", tc.name, tc.data, out.String())
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, EvalFile)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
