package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dropexp/dropexp/internal/results"
)

// CheckpointFile is the name of a run's checkpoint inside its directory.
const CheckpointFile = "checkpoint.gob"

// ModelFile holds a finished run's final state, in the checkpoint format.
const ModelFile = "model.gob"

// checkpoint is everything a run needs to continue exactly where it stopped:
// the model, the solver, every random source, the data position, and the
// metrics and running loss so far.
type checkpoint struct {
	Config     []byte // resolved config.yaml; a resume must match it
	Iteration  int
	Params     map[string][]float32
	History    map[string][]float32
	BNMean     map[string][]float32
	BNVar      map[string][]float32
	Epoch, Pos int
	Sampler    []byte
	Augmenter  []byte
	Rows       []results.Metric
	Timing     []results.Timing
	LossSum    float64
	LossN      int
	TrainSecs  float64 // training time so far, for images/s
	WallSecs   float64 // wall time of earlier sessions
}

// save captures the trainer's state.
func (tr *trainer) save(path string, resolved []byte, st *loopState) error {
	c := checkpoint{Config: resolved, Iteration: tr.iter, Params: map[string][]float32{}, History: map[string][]float32{},
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
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	// Atomic: the previous checkpoint stays until this one is complete.
	return results.WriteFileAtomic(path, buf.Bytes())
}

// loadCheckpoint reads a checkpoint; a missing file is (nil, nil).
func loadCheckpoint(path string) (*checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: corrupt checkpoint (%v); delete it to restart the run from scratch", path, err)
	}
	return &c, nil
}

// restore puts a checkpoint's state into the trainer.
func (tr *trainer) restore(path string, c *checkpoint, st *loopState) error {
	fill := func(what, name string, dst, src []float32) error {
		if len(src) != len(dst) {
			return fmt.Errorf("%s: %s %s has %d values, the model %d (checkpoint of another model?)", path, what, name, len(src), len(dst))
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
		return fmt.Errorf("%s: dropout sampler state: %w", path, err)
	}
	if err := tr.aug.pcg.UnmarshalBinary(c.Augmenter); err != nil {
		return fmt.Errorf("%s: augmentation state: %w", path, err)
	}
	st.rows, st.timing, st.lossSum, st.lossN = c.Rows, c.Timing, c.LossSum, c.LossN
	st.trainTime = secs(c.TrainSecs)
	st.wallBefore = secs(c.WallSecs)
	return nil
}
