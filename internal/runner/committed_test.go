package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/results"
)

// TestCommittedRunsKeepTheirIdentity reads every run committed under the
// repository's results/: the identity its config.yaml recorded is the one
// this dropexp computes from that config and data fingerprint, both read
// as written (as a resume reads a run directory) and resolved again over
// today's defaults (as a train or sweep command that asks for the same run
// does), and placing the run again finds its directory under its name,
// finished. If this fails, the identity format changed, or a key added to
// the config changed it, and every finished run would be trained again.
func TestCommittedRunsKeepTheirIdentity(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "results", "*", "runs", "*", results.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	checked, before := 0, 0
	for _, file := range files {
		dir := filepath.Dir(file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Decode(data)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		id, fp, err := results.ReadIdentity(file)
		if err != nil {
			t.Fatal(err)
		}
		if id == "" {
			before++ // trained before runs recorded identities
			continue
		}
		checked++
		if got := cfg.Identity(fp); got != id {
			t.Errorf("%s: identity %s, recorded %s\n%s", file, got, id, cfg.IdentityText())
		}
		loaded, err := config.Load(file, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", file, err)
		} else if got := loaded.Identity(fp); got != id {
			t.Errorf("%s: identity loaded over the defaults %s, recorded %s\n%s", file, got, id, loaded.IdentityText())
		}
		// A sweep adds the values of the keys it sweeps beyond the cell and
		// seed (…-s1-lr_schedule-cosine) to the name train gives.
		name := Name(cfg)
		if base := filepath.Base(dir); strings.HasPrefix(base, name+"-") {
			name = base
		}
		if name != filepath.Base(dir) {
			t.Errorf("%s: the run is named %s now", dir, name)
		}
		plan, err := PlanRun(filepath.Dir(dir), name, cfg, fp)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		// A run still training in this checkout (results are committed as
		// runs finish) is placed in its directory to be resumed.
		rec, err := results.ReadRecorded(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if plan.Dir != dir || (rec.Final() && plan.Action != Done) {
			t.Errorf("%s: placed in %s with action %v, want its own directory, finished", dir, plan.Dir, plan.Action)
		}
	}
	// 73 when written; fewer means the glob no longer finds the runs.
	if checked < 70 {
		t.Errorf("%d of the %d committed runs record an identity, want at least 70", checked, len(files))
	}
	t.Logf("%d committed runs checked, %d from before identities", checked, before)
}

// A run is the run of every spelling of its sites (default [], explicit,
// in any order): placing any of them finds it, finished, and no second
// directory is made. A run recorded by a dropexp that hashed the sites as
// spelled is still found by that spelling.
func TestSitesSpelledOtherwiseFindTheRun(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	spell := func(sites ...string) config.Run {
		cfg := config.Default()
		cfg.Dropout.Variant, cfg.Dropout.Ratio, cfg.Dropout.Sites = "standard", "0.3", sites
		return cfg
	}
	spellings := []config.Run{spell(), spell("conv2", "conv3", "ip1", "ip2"), spell("ip1", "ip2", "conv3", "conv2")}
	record := func(cfg config.Run, id string) (root, dir string) {
		root = t.TempDir()
		dir = filepath.Join(root, Name(cfg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		y, err := cfg.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := results.WriteConfig(filepath.Join(dir, results.ConfigFile), y, id, fp); err != nil {
			t.Fatal(err)
		}
		if err := results.WriteSummary(filepath.Join(dir, results.SummaryFile), results.Summary{Status: results.StatusFinished, Identity: id, DataFingerprint: fp}); err != nil {
			t.Fatal(err)
		}
		return root, dir
	}
	check := func(root, dir string, recorded, now config.Run) {
		t.Helper()
		plan, err := PlanRun(root, Name(now), now, fp)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Dir != dir || plan.Action != Done {
			t.Errorf("recorded %q, now %q: placed in %s with action %v, want %s finished", recorded.Dropout.Sites, now.Dropout.Sites, plan.Dir, plan.Action, dir)
		}
	}
	for _, recorded := range spellings {
		root, dir := record(recorded, recorded.Identity(fp))
		for _, now := range spellings {
			check(root, dir, recorded, now)
		}
		ids := recorded.Identities(fp)
		root, dir = record(recorded, ids[len(ids)-1]) // as sites were hashed before
		check(root, dir, recorded, recorded)
	}
}
