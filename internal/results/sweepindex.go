package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SweepIndexOf is the content of a sweep directory's index.json (written
// by package sweep, read by the report and status): the grid and each
// run's status, of type S (package sweep's Status; string for a reader
// that only shows it).
type SweepIndexOf[S ~string] struct {
	Sweep   string          `json:"sweep"`  // the sweep's name
	Config  string          `json:"config"` // the sweep config file
	Updated time.Time       `json:"updated"`
	Counts  map[S]int       `json:"counts"` // runs per status
	Runs    []SweepEntry[S] `json:"runs"`
}

// SweepEntry is one run of index.json.
type SweepEntry[S ~string] struct {
	Index    int    `json:"index"`
	Name     string `json:"name"` // the run's plain name, which names its lock
	Dir      string `json:"dir"`  // relative to the sweep directory; NAME-XXXXXXXX when NAME holds a run of another config
	Dataset  string `json:"dataset"`
	Variant  string `json:"variant"`
	Ratio    string `json:"ratio,omitempty"`
	Gradient string `json:"gradient"`
	Seed     int64  `json:"seed"`
	// Axes are the run's values of the key axes (any other swept run config key).
	Axes map[string]string `json:"axes,omitempty"`
	// Base is the run config file the run starts from, absolute; "" is the
	// embedded demo config, nil an index of a dropexp that did not record
	// it. The report shows each run's differences from it.
	Base *string `json:"base"`
	// Identity is the identity its run directory records (config.yaml and
	// summary.json), or the one it will record once its data are loaded;
	// absent for a run not started by a process that loaded its data.
	Identity string   `json:"identity,omitempty"`
	Status   S        `json:"status"`
	TestAcc  *float64 `json:"test_acc,omitempty"` // final test accuracy of a finished run
	Detail   string   `json:"detail,omitempty"`
	Note     string   `json:"note,omitempty"` // why the run went to a directory of another name
}

// ReadSweepIndex reads SWEEPDIR/index.json.
func ReadSweepIndex[S ~string](dir string) (SweepIndexOf[S], error) {
	var ix SweepIndexOf[S]
	path := filepath.Join(dir, SweepIndex)
	data, err := os.ReadFile(path)
	if err != nil {
		return ix, fmt.Errorf("results: %w", err)
	}
	if err := json.Unmarshal(data, &ix); err != nil {
		return ix, fmt.Errorf("results: %s: %w", path, err)
	}
	return ix, nil
}
