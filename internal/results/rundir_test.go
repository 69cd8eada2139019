package results

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	idA = "aaaaaaaa11111111111111111111111111111111111111111111111111111111"
	idB = "bbbbbbbb22222222222222222222222222222222222222222222222222222222"
	idC = "aaaaaaaa33333333333333333333333333333333333333333333333333333333" // shares idA's short form
)

// putRun writes a run directory recording identity id with the given status ("" for no summary).
func putRun(t *testing.T, dir, id, status string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteConfig(filepath.Join(dir, ConfigFile), []byte("model: convnet-quick\n"), id, "ff"); err != nil {
		t.Fatal(err)
	}
	if status != "" {
		if err := WriteSummary(filepath.Join(dir, SummaryFile), Summary{Status: status, Identity: id}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlace(t *testing.T) {
	root := t.TempDir()
	name := "standard-p0.3-layer-s1"
	plain := filepath.Join(root, name)
	place := func(id string) Placement {
		t.Helper()
		p, err := Place(root, name, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := place(idA); p.Dir != plain || !p.Recorded.Empty() || p.Taken != nil {
		t.Errorf("free name: %+v", p)
	}
	putRun(t, plain, idA, StatusFinished)
	if p := place(idA); p.Dir != plain || !p.Recorded.Final() {
		t.Errorf("its own finished run: %+v", p)
	}
	p := place(idB)
	if p.Dir != plain+"-bbbbbbbb" || p.Taken == nil || p.Taken.Dir != plain || !p.Recorded.Empty() {
		t.Errorf("name taken: %+v", p)
	}
	putRun(t, p.Dir, idB, StatusInterrupted)
	if p := place(idB); p.Dir != plain+"-bbbbbbbb" || p.Recorded.Summary.Status != StatusInterrupted {
		t.Errorf("its own suffixed run: %+v", p)
	}
	// The plain name freed again: B's run stays where it is.
	if err := os.RemoveAll(plain); err != nil {
		t.Fatal(err)
	}
	if p := place(idB); p.Dir != plain+"-bbbbbbbb" {
		t.Errorf("after the plain directory went: %s", p.Dir)
	}
	// Both the name and the suffixed name taken: an error, never a guess.
	putRun(t, plain, idB+"x", StatusFinished)
	putRun(t, plain+"-aaaaaaaa", idC, StatusFinished)
	if _, err := Place(root, name, idA); err == nil || !strings.Contains(err.Error(), "both hold runs of other configs") {
		t.Errorf("both names taken: %v", err)
	}
	if _, err := Place(root, "a/b", idA); err == nil {
		t.Errorf("a name with a slash placed")
	}
	want := []string{plain, plain + "-aaaaaaaa", plain + "-bbbbbbbb"}
	if got := Candidates(root, name); !slices.Equal(got, want) {
		t.Errorf("Candidates = %q, want %q", got, want)
	}
}

// A directory holds a run when it has any of its files; one whose
// config.yaml and summary.json name different identities holds none.
func TestReadRecorded(t *testing.T) {
	root := t.TempDir()
	if r, err := ReadRecorded(filepath.Join(root, "none")); err != nil || !r.Empty() {
		t.Errorf("missing directory: %+v %v", r, err)
	}
	d := filepath.Join(root, "ck")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, CheckpointFile), []byte("x"), 0o644)
	if r, _ := ReadRecorded(d); r.Empty() || !r.Checkpoint || r.Identity != "" {
		t.Errorf("checkpoint only: %+v", r)
	}
	d = filepath.Join(root, "mixed")
	putRun(t, d, idA, StatusFinished)
	WriteSummary(filepath.Join(d, SummaryFile), Summary{Status: StatusFinished, Identity: idB})
	if r, _ := ReadRecorded(d); r.Holds(idA) || r.Holds(idB) {
		t.Errorf("inconsistent directory holds a run: %+v", r.Identity)
	}
	d = filepath.Join(root, "ok")
	putRun(t, d, idA, "")
	id, fp, err := ReadIdentity(filepath.Join(d, ConfigFile))
	if err != nil || id != idA || fp != "ff" {
		t.Errorf("ReadIdentity = %q %q %v", id, fp, err)
	}
}

func TestPlainName(t *testing.T) {
	for in, want := range map[string]string{
		"standard-p0.3-layer-s1":            "standard-p0.3-layer-s1",
		"standard-p0.3-layer-s1-0123abcd":   "standard-p0.3-layer-s1",
		"svhn-plain-layer-s12345678":        "svhn-plain-layer-s12345678",
		"plain-layer-s1-0123ABCD":           "plain-layer-s1-0123ABCD",
		"augmented-p0.1q0.0002-layer-s3-ff": "augmented-p0.1q0.0002-layer-s3-ff",
	} {
		if got := PlainName(in); got != want {
			t.Errorf("PlainName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Temporary files of killed atomic writes go; everything else stays.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{".metrics.csv.tmp123", ".checkpoint.gob.tmp9", "metrics.csv", ".hidden", "notes.tmp"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	removed, err := RemoveTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{".checkpoint.gob.tmp9", ".metrics.csv.tmp123"}) {
		t.Errorf("removed %q", removed)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("left %d files, want 3", len(entries))
	}
}

func TestLockFile(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if p, err := LockFile(filepath.Join(root, "results"), "x"); err != nil || p != filepath.Join(root, "results", ".locks", "x.lock") {
		t.Errorf("plain results root: %q %v", p, err)
	}
	sweep := filepath.Join(root, "sw")
	os.MkdirAll(filepath.Join(sweep, SweepRunsDir), 0o755)
	os.WriteFile(filepath.Join(sweep, SweepIndex), []byte("{}"), 0o644)
	if p, err := LockFile(filepath.Join(sweep, SweepRunsDir), "x"); err != nil || p != filepath.Join(sweep, SweepLocksDir, "x.lock") {
		t.Errorf("sweep: %q %v", p, err)
	}
	l, ok, err := TryLock(filepath.Join(sweep, SweepLocksDir, "x.lock"))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, _ := TryLock(filepath.Join(sweep, SweepLocksDir, "x.lock")); ok {
		t.Errorf("a held lock was taken again")
	}
	l.Unlock()
	if l, ok, _ := TryLock(filepath.Join(sweep, SweepLocksDir, "x.lock")); !ok {
		t.Errorf("a released lock could not be taken")
	} else {
		l.Unlock()
	}
}

// Every alias of a sweep's runs directory (a symbolic link to it, or to the
// sweep) names the sweep's lock, and an alias of a results root its lock.
func TestLockPathResolvesSymlinks(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sweep := filepath.Join(root, "sw")
	os.MkdirAll(filepath.Join(sweep, SweepRunsDir), 0o755)
	os.WriteFile(filepath.Join(sweep, SweepIndex), []byte("{}"), 0o644)
	plain := filepath.Join(root, "results")
	os.MkdirAll(plain, 0o755)
	for _, l := range [][2]string{{"alias", filepath.Join(sweep, SweepRunsDir)}, {"swalias", sweep}, {"resalias", plain}} {
		if err := os.Symlink(l[1], filepath.Join(root, l[0])); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	want := filepath.Join(sweep, SweepLocksDir, "x.lock")
	for _, alias := range []string{
		filepath.Join(root, "alias"),
		filepath.Join(root, "swalias", SweepRunsDir),
	} {
		if p, err := LockFile(alias, "x"); err != nil || p != want {
			t.Errorf("LockFile(%s) = %q, %v; want the sweep's %s", alias, p, err, want)
		}
	}
	if p := LockPath(filepath.Join(root, "resalias"), "x"); p != TrainLock(plain, "x") {
		t.Errorf("LockPath(resalias) = %q; want %q", p, TrainLock(plain, "x"))
	}
}

// Damaged trusts summary.json unless the other files say the run finished
// although it says otherwise: its final model, or a last metrics row at the
// last iteration with no checkpoint to go on from (with one, a resume
// computes the last steps again to the same bytes).
func TestDamaged(t *testing.T) {
	interrupted := &Summary{Status: StatusInterrupted}
	for _, tc := range []struct {
		name string
		r    Recorded
		want string // "" = not damaged
	}{
		{"interrupted mid-run", Recorded{Summary: interrupted, Checkpoint: true, Iterations: 25, LastRow: 20}, ""},
		{"interrupted after its last row, with a checkpoint", Recorded{Summary: interrupted, Checkpoint: true, Iterations: 25, LastRow: 25}, ""},
		{"interrupted after its last row, no checkpoint", Recorded{Summary: interrupted, Iterations: 25, LastRow: 25}, "says interrupted although the run finished"},
		{"interrupted beside its model", Recorded{Summary: interrupted, Checkpoint: true, Model: true}, "model.gob is there"},
		{"no summary beside its model", Recorded{Model: true}, "is missing although the run finished"},
		{"no summary beside a checkpoint", Recorded{Checkpoint: true}, "is missing beside the run's checkpoint.gob"},
		{"unreadable summary", Recorded{SummaryErr: errors.New("unexpected end of JSON input")}, "cannot be read"},
		{"finished", Recorded{Summary: &Summary{Status: StatusFinished}, Model: true, Iterations: 25, LastRow: 25}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Dir = "run"
			err := tc.r.Damaged()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("damaged: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "dropexp repair run")):
				t.Errorf("error %v, want one containing %q and the repair command", err, tc.want)
			}
		})
	}
}
