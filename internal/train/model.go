package train

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/model"
	"github.com/dropexp/dropexp/internal/threads"
)

// evalSet runs set through the evaluation graph net in batches of batch
// images, normalised by prep, and returns the summed loss and the number
// classified right; count, if not nil, gets each image's label and
// predicted class. The trainer's evaluation and Model.Evaluate are this
// one loop, so a finished model scores what its run's last row says.
func evalSet(net *model.Net, prep *preprocessor, set *dataset.Set, batch int, count func(label, pred int)) (sumLoss float64, correct int, err error) {
	x, y := net.Input()
	idx := make([]int, 0, batch)
	for lo := 0; lo < set.Len(); lo += batch {
		idx = idx[:0]
		for i := lo; i < min(lo+batch, set.Len()); i++ {
			idx = append(idx, i)
		}
		prep.fill(x, y, set, idx, nil)
		if err := net.Run(); err != nil {
			return 0, 0, err
		}
		sumLoss += net.Loss.Sum()
		correct += net.Loss.Correct()
		if count != nil {
			if err := predictions(net, set, idx, count); err != nil {
				return 0, 0, err
			}
		}
	}
	return sumLoss, correct, nil
}

// predictions passes the label and predicted class (the first largest
// logit, as the loss counts it) of each image idx of the last batch to
// count, and checks that they agree with the loss's count of right ones.
func predictions(net *model.Net, set *dataset.Set, idx []int, count func(label, pred int)) error {
	shape := net.Logits.Shape()
	logits, ok := net.Logits.Value().Data().([]float32)
	if !ok || len(shape) != 2 || len(logits) != shape[0]*shape[1] || shape[0] < len(idx) {
		return fmt.Errorf("evaluation: the network's logits are not a batch×classes float32 matrix (shape %v)", shape)
	}
	k := shape[1]
	right := 0
	for r, i := range idx {
		row := logits[r*k : (r+1)*k]
		pred := 0
		for j, v := range row {
			if v > row[pred] {
				pred = j
			}
		}
		label := int(set.Labels[i])
		if pred == label {
			right++
		}
		count(label, pred)
	}
	if right != net.Loss.Correct() {
		return fmt.Errorf("evaluation: %d images classified right by the logits, %d by the loss", right, net.Loss.Correct())
	}
	return nil
}

// Model is a finished run's network, ready to evaluate: the weights and
// BatchNorm statistics of its model.gob, and the input normalisation of
// the training set it was trained on.
type Model struct {
	net   *model.Net
	prep  *preprocessor
	batch int

	C, H, W   int    // the image shape it takes
	Classes   int    // the number of classes it tells apart
	Iteration int    // the iteration its weights are of
	Data      string // fingerprint of the data it was trained on
}

// LoadModel reads the model.gob at path of the run of cfg; trainSet is
// that run's training set (after its limit), whose statistics normalise
// the input as in training. A missing file is an error wrapping
// fs.ErrNotExist.
func LoadModel(path string, cfg config.Run, trainSet *dataset.Set) (*Model, error) {
	c, err := loadCheckpoint(path)
	if err == nil && c == nil {
		err = fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	opt := graphOptions(cfg, threads.Resolve(cfg.Threads), trainSet)
	opt.Train = false // the run's evaluation graph, kernel set included
	net, err := model.Build(opt, nil)
	if err != nil {
		return nil, err
	}
	fill := func(what, name string, dst, src []float32) error {
		if len(src) != len(dst) {
			return fmt.Errorf("%s: %s %s has %d values, the network %d (a model of another config or data set)", path, what, name, len(src), len(dst))
		}
		copy(dst, src)
		return nil
	}
	var errs []error
	for _, p := range net.Params {
		errs = append(errs, fill("parameter", p.Name, p.Data(), c.Params[p.Name]))
	}
	for name, s := range net.BN {
		errs = append(errs, fill("BatchNorm mean", name, s.Mean, c.BNMean[name]), fill("BatchNorm variance", name, s.Var, c.BNVar[name]))
	}
	if err := errors.Join(errs...); err != nil {
		net.Close()
		return nil, err
	}
	return &Model{net: net, prep: newPreprocessor(cfg.Dataset.Preprocess, trainSet), batch: cfg.Train.BatchSize,
		C: trainSet.C, H: trainSet.H, W: trainSet.W, Classes: len(trainSet.Classes), Iteration: c.Iteration, Data: c.DataFingerprint}, nil
}

// Evaluate runs set through the network without dropout, in the run's
// batches, and returns the summed loss; count gets each image's label and
// predicted class. set must have the model's image shape and labels
// below its class count.
func (m *Model) Evaluate(set *dataset.Set, count func(label, pred int)) (sumLoss float64, err error) {
	if set.C != m.C || set.H != m.H || set.W != m.W {
		return 0, fmt.Errorf("images of %d×%d×%d, the model takes %d×%d×%d", set.C, set.H, set.W, m.C, m.H, m.W)
	}
	sumLoss, _, err = evalSet(m.net, m.prep, set, m.batch, count)
	return sumLoss, err
}

// Close releases the network.
func (m *Model) Close() { m.net.Close() }
