package config

import (
	"path/filepath"
	"testing"

	"github.com/dropexp/dropexp/internal/results"
)

// The runs committed under results/ keep the identities they recorded: a
// key added to Run must leave every finished run findable, both read as
// written (Decode, as a resume or a mismatch check reads a run directory)
// and resolved again over today's defaults (Load, as a sweep or a train
// command that asks for the same run does).
func TestCommittedRunsKeepTheirIdentity(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "results", "*", "runs", "*"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		rec, err := results.ReadRecorded(dir)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Identity == "" {
			continue // a run of a build before identities
		}
		checked++
		saved, err := Decode(rec.Config)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if got := saved.Identity(rec.DataFingerprint); got != rec.Identity {
			t.Errorf("%s: identity of its config.yaml as written is %s, recorded %s", dir, got, rec.Identity)
		}
		loaded, err := Load(filepath.Join(dir, results.ConfigFile), nil, nil)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if got := loaded.Identity(rec.DataFingerprint); got != rec.Identity {
			t.Errorf("%s: identity of its config.yaml loaded over the defaults is %s, recorded %s:\n%s", dir, got, rec.Identity, loaded.IdentityText())
		}
	}
	// 73 when written; fewer means the glob no longer finds the runs.
	if checked < 70 {
		t.Errorf("%d committed runs with an identity found under results/*/runs/, want at least 70", checked)
	}
}
