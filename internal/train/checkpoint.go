package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/results"
)

// CheckpointFile is the name of a run's checkpoint inside its directory.
const CheckpointFile = results.CheckpointFile

// ModelFile holds a finished run's final state, in the checkpoint format.
const ModelFile = results.ModelFile

// ErrCheckpoint reports a checkpoint that cannot be resumed: damaged,
// written by an older dropexp, of another run, or at odds with the run's
// metrics. The file is kept; --restart discards it on purpose.
var ErrCheckpoint = errors.New("checkpoint cannot be resumed")

// ErrDataChanged reports a resume whose data set is not the one the run was
// trained on (other images, another size, other labels).
var ErrDataChanged = errors.New("the data set is not the one the run was trained on")

// checkpointMagic starts every checkpoint file; the SHA-256 of everything
// after the header line follows it, so one flipped bit anywhere is found.
const checkpointMagic = "dropexp checkpoint 2 sha256 "

// checkpoint is everything a run needs to continue exactly where it stopped:
// the model, the solver, every random source, the data position, and the
// metrics and running loss so far.
type checkpoint struct {
	Config          []byte // resolved config.yaml
	Identity        string // the run's identity; a resume must match it
	IdentityText    string // what the identity hashes, to show how another run differs
	DataFingerprint string // of the data trained on
	TrainSize       int    // images, to say how the data changed
	TestSize        int
	Iteration       int
	Params          map[string][]float32
	History         map[string][]float32
	BNMean          map[string][]float32
	BNVar           map[string][]float32
	Epoch, Pos      int
	Sampler         []byte
	Augmenter       []byte
	Rows            []results.Metric
	Timing          []results.Timing
	LossSum         float64
	LossN           int
	TrainSecs       float64 // training time so far, for images/s
	WallSecs        float64 // wall time of earlier sessions

	// Diagnostics is the diagnostics' mask stream and records so far (nil when off).
	Diagnostics []byte
}

// encodeCheckpoint returns the file content of c: the header line with the
// payload's SHA-256, then the gob payload.
func encodeCheckpoint(c *checkpoint) ([]byte, error) {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(c); err != nil {
		return nil, fmt.Errorf("encoding checkpoint: %w", err)
	}
	sum := sha256.Sum256(payload.Bytes())
	out := make([]byte, 0, len(checkpointMagic)+65+payload.Len())
	out = append(out, checkpointMagic...)
	out = append(out, hex.EncodeToString(sum[:])...)
	out = append(out, '\n')
	return append(out, payload.Bytes()...), nil
}

// decodeCheckpoint checks the header and checksum of a checkpoint file's
// content and decodes it.
func decodeCheckpoint(path string, data []byte) (*checkpoint, error) {
	header, payload, ok := bytes.Cut(data, []byte("\n"))
	hexSum, isCk := strings.CutPrefix(string(header), checkpointMagic)
	switch {
	case !ok || !isCk:
		if strings.HasPrefix(string(data), checkpointMagic[:len("dropexp checkpoint")]) {
			return nil, fmt.Errorf("%w: %s: damaged header (the file is kept)", ErrCheckpoint, path)
		}
		return nil, fmt.Errorf("%w: %s has no checksum header: written by a dropexp before checksums, or damaged (the file is kept)", ErrCheckpoint, path)
	case len(hexSum) != 64:
		return nil, fmt.Errorf("%w: %s: damaged header (the file is kept)", ErrCheckpoint, path)
	}
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != hexSum {
		return nil, fmt.Errorf("%w: %s is damaged: its checksum does not match its content (the file is kept)", ErrCheckpoint, path)
	}
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %s does not decode (%v; the file is kept)", ErrCheckpoint, path, err)
	}
	return &c, nil
}

// save captures the trainer's state. It refuses to write weights, momentum
// or BatchNorm statistics that are not finite: a checkpoint is always one a
// run can go on from.
func (tr *trainer) save(path string, st *loopState) error {
	if what := tr.notFinite(); what != "" {
		return fmt.Errorf("%w: %s not finite", ErrDiverged, what)
	}
	id := tr.id
	c := checkpoint{Config: id.resolved, Identity: id.identity, IdentityText: id.text, DataFingerprint: id.fingerprint,
		TrainSize: tr.data.Train.Len(), TestSize: tr.data.Test.Len(),
		Iteration: tr.iter, Params: map[string][]float32{}, History: map[string][]float32{},
		BNMean: map[string][]float32{}, BNVar: map[string][]float32{}, Rows: st.rows, Timing: st.timing,
		LossSum: st.lossSum, LossN: st.lossN, TrainSecs: st.trainTime.Seconds(), WallSecs: st.wall()}
	for i, p := range tr.net.Params {
		c.Params[p.Name] = p.Data()
		c.History[p.Name] = tr.solver.History()[i]
	}
	for name, s := range tr.net.BN {
		c.BNMean[name], c.BNVar[name] = s.Mean, s.Var
	}
	c.Epoch, c.Pos = tr.order.Position()
	var err error
	if c.Sampler, err = tr.sampler.MarshalBinary(); err != nil {
		return err
	}
	if c.Augmenter, err = tr.aug.pcg.MarshalBinary(); err != nil {
		return err
	}
	if c.Diagnostics, err = tr.diag.MarshalBinary(); err != nil {
		return err
	}
	data, err := encodeCheckpoint(&c)
	if err != nil {
		return err
	}
	// Atomic: the previous checkpoint stays until this one is complete.
	return results.WriteFileAtomic(path, data)
}

// notFinite names the first state of the trainer that holds a NaN or an
// infinity, or returns "".
func (tr *trainer) notFinite() string {
	for i, p := range tr.net.Params {
		if !finite(p.Data()) {
			return "weights of " + p.Name
		}
		if !finite(tr.solver.History()[i]) {
			return "momentum of " + p.Name
		}
	}
	for name, s := range tr.net.BN {
		if !finite(s.Mean) || !finite(s.Var) {
			return "BatchNorm statistics of " + name
		}
	}
	return ""
}

func finite(xs []float32) bool {
	for _, x := range xs {
		// x-x is NaN for NaN and ±Inf alike, and 0 otherwise.
		if x-x != 0 {
			return false
		}
	}
	return true
}

// loadCheckpoint reads and verifies a checkpoint; a missing file is (nil, nil).
func loadCheckpoint(path string) (*checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeCheckpoint(path, data)
}

// check reports why checkpoint c cannot continue the run of cfg on data:
// another identity or data set, or bookkeeping that does not add up (an
// iteration that disagrees with the metrics rows or the data position).
func check(path string, c *checkpoint, cfg config.Run, data *dataset.Split, id runID) error {
	if c.Identity != id.identity {
		if c.DataFingerprint != id.fingerprint {
			return mismatch(nil, "%w: %s was trained on %d training and %d test images with fingerprint %s; the data now loaded are %d and %d images with fingerprint %s (the data at dataset.path changed, or dataset.path, the limits or the subset now select other images; point dataset.path at the original data to resume)",
				ErrDataChanged, path, c.TrainSize, c.TestSize, short(c.DataFingerprint), data.Train.Len(), data.Test.Len(), short(id.fingerprint))
		}
		diff := DiffLines(c.IdentityText, id.text)
		return mismatch(diff, "%w: %s belongs to another run (identity %s, this run %s). Differences (- checkpoint, + now):\n%s",
			ErrConfigMismatch, path, short(c.Identity), short(id.identity), strings.Join(diff, "\n"))
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s (the file is kept)", ErrCheckpoint, path, fmt.Sprintf(format, args...))
	}
	if c.Iteration < 0 || c.Iteration >= cfg.Train.Iterations {
		return bad("iteration %d outside 0..%d", c.Iteration, cfg.Train.Iterations-1)
	}
	every := cfg.Train.EvalEvery
	if len(c.Rows) != c.Iteration/every || len(c.Timing) != len(c.Rows) {
		return bad("%d metrics rows at iteration %d, want one per %d iterations (%d)", len(c.Rows), c.Iteration, every, c.Iteration/every)
	}
	for i, r := range c.Rows {
		if r.Iteration != (i+1)*every || c.Timing[i].Iteration != r.Iteration {
			return bad("metrics row %d is of iteration %d, want %d", i+1, r.Iteration, (i+1)*every)
		}
	}
	if c.LossN != c.Iteration%every {
		return bad("the running loss counts %d iterations since the last evaluation, want %d", c.LossN, c.Iteration%every)
	}
	n := data.Train.Len()
	if c.Epoch < 0 || c.Pos < 0 || c.Pos >= n || c.Epoch*n+c.Pos != c.Iteration*cfg.Train.BatchSize {
		return bad("data position epoch %d, image %d does not follow from %d iterations of %d images of a %d-image set", c.Epoch, c.Pos, c.Iteration, cfg.Train.BatchSize, n)
	}
	for name, m := range map[string]map[string][]float32{"weights": c.Params, "momentum": c.History, "BatchNorm means": c.BNMean, "BatchNorm variances": c.BNVar} {
		for p, v := range m {
			if !finite(v) {
				return bad("%s of %s are not finite", name, p)
			}
		}
	}
	if math.IsNaN(c.LossSum) || math.IsInf(c.LossSum, 0) {
		return bad("the running loss is not finite")
	}
	return nil
}

// checkMetrics reports whether the metrics.csv in the run directory
// belongs with checkpoint c: it must hold the checkpoint's rows, and after
// them at most rows the run wrote past the checkpoint before it stopped.
func checkMetrics(metricsPath, ckPath string, c *checkpoint) error {
	disk, err := results.ReadMetrics(metricsPath)
	if errors.Is(err, fs.ErrNotExist) {
		disk = nil
	} else if err != nil {
		return fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	same := func(a, b results.Metric) bool {
		eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
		return a.Iteration == b.Iteration && eq(a.LR, b.LR) && eq(a.TrainLoss, b.TrainLoss) && eq(a.TestLoss, b.TestLoss) && eq(a.TestAcc, b.TestAcc)
	}
	for i, r := range c.Rows {
		if i >= len(disk) || !same(disk[i], r) {
			got := "ends"
			if i < len(disk) {
				got = fmt.Sprintf("has %+v", disk[i])
			}
			return fmt.Errorf("%w: %s (iteration %d) and %s disagree: row %d of the checkpoint is %+v, metrics.csv %s there; they are not of one run (was one of them replaced?); the files are kept",
				ErrCheckpoint, ckPath, c.Iteration, metricsPath, i+1, r, got)
		}
	}
	for _, r := range disk[len(c.Rows):] {
		if r.Iteration <= c.Iteration {
			return fmt.Errorf("%w: %s has a row of iteration %d that %s (iteration %d) does not; they are not of one run; the files are kept",
				ErrCheckpoint, metricsPath, r.Iteration, ckPath, c.Iteration)
		}
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// restore puts a checkpoint's state into the trainer; check has accepted it.
func (tr *trainer) restore(path string, c *checkpoint, st *loopState) error {
	fill := func(what, name string, dst, src []float32) error {
		if len(src) != len(dst) {
			return fmt.Errorf("%w: %s: %s %s has %d values, the model %d (the file is kept)", ErrCheckpoint, path, what, name, len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
	for i, p := range tr.net.Params {
		if err := fill("parameter", p.Name, p.Data(), c.Params[p.Name]); err != nil {
			return err
		}
		if err := fill("momentum of", p.Name, tr.solver.History()[i], c.History[p.Name]); err != nil {
			return err
		}
	}
	for name, s := range tr.net.BN {
		if err := fill("BatchNorm mean", name, s.Mean, c.BNMean[name]); err != nil {
			return err
		}
		if err := fill("BatchNorm variance", name, s.Var, c.BNVar[name]); err != nil {
			return err
		}
	}
	tr.iter = c.Iteration
	tr.order.Seek(c.Epoch, c.Pos)
	if err := tr.sampler.UnmarshalBinary(c.Sampler); err != nil {
		return fmt.Errorf("%w: %s: dropout sampler state: %v", ErrCheckpoint, path, err)
	}
	if err := tr.aug.pcg.UnmarshalBinary(c.Augmenter); err != nil {
		return fmt.Errorf("%w: %s: augmentation state: %v", ErrCheckpoint, path, err)
	}
	if err := tr.diag.UnmarshalBinary(c.Diagnostics); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCheckpoint, path, err)
	}
	st.rows, st.timing, st.lossSum, st.lossN = c.Rows, c.Timing, c.LossSum, c.LossN
	st.trainTime = secs(c.TrainSecs)
	st.wallBefore = secs(c.WallSecs)
	return nil
}
