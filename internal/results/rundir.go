package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/experiment"
)

// A run directory records the identity of the run in it (see
// config.Run.Identity) twice: in the first lines of config.yaml, as YAML
// comments that loading the file ignores,
//
//	# identity: 64 hex digits
//	# data_fingerprint: 64 hex digits
//
// and in summary.json as "identity" and "data_fingerprint". Tools that group
// runs read either; they agree in every directory dropexp writes.
const (
	IdentityComment    = "# identity: "
	FingerprintComment = "# data_fingerprint: "
)

// The layout of a sweep directory, which the run commands share with package
// sweep: the run directories live in SWEEP/runs, their locks in SWEEP/locks.
const (
	SweepRunsDir  = "runs"
	SweepLocksDir = "locks"
	SweepIndex    = "index.json"
)

// CheckpointFile is the name of a run's checkpoint inside its directory.
const CheckpointFile = "checkpoint.gob"

// ModelFile holds a finished run's final state, in the checkpoint format;
// only a run that reached its last iteration writes it.
const ModelFile = "model.gob"

// WriteConfig atomically writes a run's config.yaml: the identity header,
// then the resolved config yaml.
func WriteConfig(path string, yaml []byte, identity, fingerprint string) error {
	var b bytes.Buffer
	b.WriteString(IdentityComment + identity + "\n")
	b.WriteString(FingerprintComment + fingerprint + "\n")
	b.WriteString("# The identity is the SHA-256 of the keys below that can change the run's\n" +
		"# numbers (all but " + experiment.NotIdentityText() + ")\n" +
		"# and of the data fingerprint, a SHA-256 of the loaded images, labels and classes.\n")
	b.Write(yaml)
	return WriteFileAtomic(path, b.Bytes())
}

// Recorded is what a run directory says about the run in it.
type Recorded struct {
	Dir             string
	Identity        string   // from config.yaml's header; "" if the directory has none (empty, or a run of a dropexp before identities)
	DataFingerprint string   // likewise
	Config          []byte   // config.yaml as written; nil if absent
	Summary         *Summary // nil if summary.json is absent or unreadable
	SummaryErr      error    // why summary.json could not be read, if it exists
	Checkpoint      bool     // checkpoint.gob exists
	Model           bool     // model.gob exists: the run reached its last iteration
	// Iterations is config.yaml's train.iterations and LastRow the
	// iteration of metrics.csv's last row (0: unknown, or no row): a run
	// whose last row is at its last iteration has finished training.
	Iterations, LastRow int
}

// Empty reports whether the directory holds no run at all (it may not exist).
func (r Recorded) Empty() bool {
	return r.Config == nil && r.Summary == nil && r.SummaryErr == nil && !r.Checkpoint && !r.Model
}

// Final reports whether the run there is over: finished or diverged, as
// summary.json says, or finished as model.gob or the last row of
// metrics.csv says whatever summary.json says. Such a directory is never
// trained again.
func (r Recorded) Final() bool {
	return r.summaryFinal() || r.trained()
}

func (r Recorded) summaryFinal() bool {
	return r.Summary != nil && (r.Summary.Status == StatusFinished || r.Summary.Status == StatusDiverged)
}

// trained reports whether the files beside summary.json say the run
// reached its last iteration: its final model, or a last metrics row at
// its last iteration with no checkpoint to go on from. A process killed
// after writing that row but before the model leaves the checkpoint, and
// resuming from it computes the last steps again to the same bytes and
// writes the model.
func (r Recorded) trained() bool {
	return r.Model || (!r.Checkpoint && r.Iterations > 0 && r.LastRow >= r.Iterations)
}

// Damaged returns an error naming summary.json and the command that
// rebuilds it when the file cannot be read, or is missing or says the run
// is unfinished although the other files of a started run say otherwise;
// nil when it can be trusted (or the run has not started).
func (r Recorded) Damaged() error {
	file := filepath.Join(r.Dir, SummaryFile)
	fix := "the run is not trained again; rebuild the file from " + MetricsFile + ", " + ModelFile + " and " + ConfigFile + " with: dropexp repair " + r.Dir
	why := ModelFile + " is there"
	if !r.Model {
		why = fmt.Sprintf("the last row of %s is at its last iteration, %d", MetricsFile, r.Iterations)
	}
	switch {
	case r.SummaryErr != nil:
		return fmt.Errorf("%s cannot be read (%s); %s", file, strings.TrimPrefix(unwrapResults(r.SummaryErr), file+": "), fix)
	case r.Summary == nil && r.trained():
		return fmt.Errorf("%s is missing although the run finished (%s); %s", file, why, fix)
	case r.Summary == nil && r.Checkpoint:
		return fmt.Errorf("%s is missing beside the run's %s; %s", file, CheckpointFile, fix)
	case r.Summary != nil && !r.summaryFinal() && r.trained():
		return fmt.Errorf("%s says %s although the run finished (%s); %s", file, r.Summary.Status, why, fix)
	}
	return nil
}

// RemoveStaleCheckpoint removes the checkpoint of a run that finished (a
// process killed between writing its final summary and removing the
// checkpoint leaves one) and reports whether it did; a diverged run keeps
// its last good checkpoint. Only the holder of the run's lock may call it.
func (r Recorded) RemoveStaleCheckpoint() (bool, error) {
	if !r.Checkpoint || r.Summary == nil || r.Summary.Status != StatusFinished || r.Damaged() != nil {
		return false, nil
	}
	if err := os.Remove(filepath.Join(r.Dir, CheckpointFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("results: removing the checkpoint of a finished run: %w", err)
	}
	return true, nil
}

// unwrapResults drops the "results: " prefix of this package's errors,
// which a message that names the file already says.
func unwrapResults(err error) string {
	return strings.TrimPrefix(err.Error(), "results: ")
}

// Holds reports whether the directory holds the run of one of the
// identities ids (a run's identity and those it recorded before, see
// config.Run.Identities).
func (r Recorded) Holds(ids ...string) bool {
	return r.Identity != "" && slices.Contains(ids, r.Identity)
}

// ReadRecorded reads the identity, config, summary and checkpoint presence
// of the run directory dir. A missing directory is an empty one.
func ReadRecorded(dir string) (Recorded, error) {
	rec := Recorded{Dir: dir}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// Nothing there (a path under a file cannot be a directory either;
		// creating the directory then says what is wrong).
		return rec, nil
	}
	cfg, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	switch {
	case err == nil:
		rec.Config = cfg
		rec.Identity, rec.DataFingerprint = parseHeader(cfg)
	case !errors.Is(err, fs.ErrNotExist):
		return rec, fmt.Errorf("results: %w", err)
	}
	if s, err := ReadSummary(filepath.Join(dir, SummaryFile)); err == nil {
		rec.Summary = &s
		if rec.Identity != "" && s.Identity != "" && s.Identity != rec.Identity {
			// Written by one run, the two always agree: a directory where
			// they do not was edited or mixed up by hand.
			rec.Identity = "inconsistent: " + ConfigFile + " and " + SummaryFile + " name different identities"
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		rec.SummaryErr = err
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		rec.Checkpoint = true
	}
	if _, err := os.Stat(filepath.Join(dir, ModelFile)); err == nil {
		rec.Model = true
	}
	if rec.Config != nil {
		rec.Iterations = configIterations(rec.Config)
		rec.LastRow = lastRow(filepath.Join(dir, MetricsFile))
	}
	return rec, nil
}

// configIterations returns train.iterations of a config.yaml, 0 if it does not read.
func configIterations(cfg []byte) int {
	var c struct {
		Train struct {
			Iterations int `yaml:"iterations"`
		} `yaml:"train"`
	}
	if yaml.Unmarshal(cfg, &c) != nil {
		return 0
	}
	return c.Train.Iterations
}

// lastRow returns the iteration of the last row of a metrics.csv, 0 if it has none or does not read.
func lastRow(path string) int {
	rows, err := ReadMetrics(path)
	if err != nil || len(rows) == 0 {
		return 0
	}
	return rows[len(rows)-1].Iteration
}

// ReadIdentity returns the identity and data fingerprint recorded in a
// config.yaml, "" for a file without them.
func ReadIdentity(configFile string) (identity, fingerprint string, err error) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		return "", "", fmt.Errorf("results: %w", err)
	}
	id, fp := parseHeader(data)
	return id, fp, nil
}

func parseHeader(cfg []byte) (identity, fingerprint string) {
	sc := bufio.NewScanner(bytes.NewReader(cfg))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#") {
			break
		}
		if v, ok := strings.CutPrefix(line, IdentityComment); ok {
			identity = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, FingerprintComment); ok {
			fingerprint = strings.TrimSpace(v)
		}
	}
	return identity, fingerprint
}

// ShortIdentity is the part of an identity (its first 8 hex digits) that
// Place appends to a run's name when the name holds another run.
func ShortIdentity(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// suffixRE matches the identity suffix Place adds to a taken name.
var suffixRE = regexp.MustCompile(`-[0-9a-f]{8}$`)

// PlainName returns a run directory's name without the identity suffix
// Place may have added: the name its run would have had, which names its lock.
func PlainName(dirName string) string { return suffixRE.ReplaceAllString(dirName, "") }

// Candidates returns the directories under root that may hold a run whose
// plain name is name: root/name and every root/name-XXXXXXXX, in that order.
func Candidates(root, name string) []string {
	out := []string{filepath.Join(root, name)}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name(), name); ok && e.IsDir() && suffixRE.MatchString(rest) && len(rest) == 9 {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	return out
}

// Placement is where a run goes.
type Placement struct {
	Dir      string   // the run directory; it may not exist yet
	Recorded Recorded // what Dir holds now (empty, or the run of this identity)
	// Taken is set when the plain name holds another run: that run's
	// directory, which this run leaves alone.
	Taken *Recorded
}

// Place returns the directory under root for the run of identity id whose
// plain name is name (e.g. standard-p0.3-layer-s1): the candidate that holds
// it already, else root/name if that holds no run, else root/name-SHORT
// (SHORT the first 8 hex digits of id). A directory holding another run is
// never chosen, so no command can overwrite a run of another config.
//
// A directory holding one of the identities old (those the run recorded
// before, see config.Run.Identities) holds the run too.
func Place(root, name, id string, old ...string) (Placement, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return Placement{}, fmt.Errorf("results: run name %q is not a single directory name", name)
	}
	var plain *Recorded
	for _, dir := range Candidates(root, name) {
		rec, err := ReadRecorded(dir)
		if err != nil {
			return Placement{}, err
		}
		if rec.Holds(append([]string{id}, old...)...) {
			return Placement{Dir: dir, Recorded: rec}, nil
		}
		if plain == nil {
			plain = &rec
		}
	}
	if plain.Empty() {
		return Placement{Dir: plain.Dir, Recorded: *plain}, nil
	}
	dir := filepath.Join(root, name+"-"+ShortIdentity(id))
	rec, err := ReadRecorded(dir)
	if err != nil {
		return Placement{}, err
	}
	if !rec.Empty() {
		// Two identities sharing 32 bits, or a directory made by hand.
		return Placement{}, fmt.Errorf("results: %s and %s both hold runs of other configs; move one of them away", plain.Dir, dir)
	}
	return Placement{Dir: dir, Recorded: rec, Taken: plain}, nil
}

// LockFile returns the lock file of the run whose plain name is name under
// root (see LockPath) and creates its directory.
func LockFile(root, name string) (string, error) {
	path := LockPath(root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("results: creating the lock directory: %w", explain(err))
	}
	return path, nil
}

// LockPath returns the lock file of the run whose plain name is name under
// root: a sweep's SWEEP/locks/NAME.lock when root is a sweep's runs
// directory, else root/.locks/NAME.lock. root is taken with its symbolic
// links resolved, so every alias of a directory names the one lock its
// real path has, and a sweep's runs directory reached through another
// name is still the sweep's.
func LockPath(root, name string) string {
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	if filepath.Base(root) == SweepRunsDir {
		sweep := filepath.Dir(root)
		if fileExists(filepath.Join(sweep, SweepIndex)) || fileExists(filepath.Join(sweep, SweepLocksDir)) {
			return SweepLock(sweep, name)
		}
	}
	return TrainLock(root, name)
}

// TrainLock is the lock file of the run whose plain name is name under the
// results root root (not a sweep's): root/.locks/NAME.lock.
func TrainLock(root, name string) string { return filepath.Join(root, ".locks", name+".lock") }

// SweepLock is the lock file of the run whose plain name is name in the
// sweep directory dir: dir/locks/NAME.lock.
func SweepLock(dir, name string) string { return filepath.Join(dir, SweepLocksDir, name+".lock") }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// RemoveTemps removes the temporary files that atomic writes interrupted by
// a kill left in dir (.NAME.tmp*), and returns their names. Only the
// process that holds the run's lock may call it: another one's temporary
// file may be in use.
func RemoveTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var removed []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("results: removing a left-over temporary file: %w", err)
			}
			removed = append(removed, n)
		}
	}
	return removed, nil
}
