// Package evaluate scores a finished run's model (its model.gob) on the
// run's own test set or on the test set of another data set of the same
// image shape: accuracy, loss, per-class accuracy and the confusion
// matrix, as text and as two CSV files. The input is normalised with the
// statistics of the run's own training images, as in training, so on the
// run's test set the numbers are its last evaluation's.
package evaluate

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// The files an evaluation writes.
const (
	EvalFile      = "eval.csv"            // one row per class, then the row "all" with the loss
	ConfusionFile = results.ConfusionFile // images by true class (rows) and predicted class (columns)
)

// Options say which run to evaluate on which data, and where the files go.
type Options struct {
	Run string // run directory holding config.yaml, summary.json and model.gob
	// Sets override the data keys of the run's config (dataset.name,
	// dataset.path, dataset.test_limit, ...) to evaluate on other data;
	// none: the run's own test set.
	Sets []string
	// TrainPath is where the run's training data are now when they are no
	// longer at its config's dataset.path; "" reads them from there.
	TrainPath string
	// Out is the directory the CSV files go to; "": the run directory for
	// its own test set, RUN/eval-NAME-XXXXXXXX for other data (XXXXXXXX
	// from the data's fingerprint), so one evaluation never replaces another's.
	Out string
	Log io.Writer // loading messages; nil: silent
}

// Result is an evaluation.
type Result struct {
	Run       string   // the run directory
	Data      string   // what was evaluated, e.g. "the cifar10 test set at data/cifar10 (10000 images)"
	Iteration int      // the iteration the model's weights are of
	Classes   []string // class names, by label
	Loss      float64  // mean test loss
	Confusion [][]int  // images by true class and predicted class
	Out       string   // the directory of the CSV files ("" until written)
	own       bool     // evaluated on the run's own test set
}

// Images returns the number of images evaluated.
func (r Result) Images() int {
	n := 0
	for _, row := range r.Confusion {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Correct returns the number of images classified right.
func (r Result) Correct() int {
	n := 0
	for c := range r.Confusion {
		n += r.Confusion[c][c]
	}
	return n
}

// Accuracy returns the fraction of images classified right (as the
// trainer computes final_test_acc: right over images).
func (r Result) Accuracy() float64 { return float64(r.Correct()) / float64(r.Images()) }

// dataKey reports whether Sets may change key k: the data, never what the model is.
func dataKey(k string) bool { return strings.HasPrefix(k, "dataset.") }

// Evaluate evaluates the model of the finished run opt.Run; it writes no file (see Write).
func Evaluate(opt Options) (Result, error) {
	res := Result{Run: opt.Run}
	own := len(opt.Sets) == 0
	rec, err := results.ReadRecorded(opt.Run)
	if err != nil {
		return res, err
	}
	cfgFile := filepath.Join(opt.Run, results.ConfigFile)
	modelFile := filepath.Join(opt.Run, train.ModelFile)
	switch {
	case rec.Config == nil:
		return res, fmt.Errorf("%s has no %s: not a run directory (give the directory a run was written to, e.g. results/standard-p0.3-layer-s1)", opt.Run, results.ConfigFile)
	case rec.Summary == nil || rec.Summary.Status != results.StatusFinished:
		status := "without a summary.json"
		if rec.Summary != nil {
			status = string(rec.Summary.Status)
		}
		return res, fmt.Errorf("%s holds a run that is %s, not finished: only a finished run has the final model (%s) to evaluate (continue an interrupted run with: dropexp train --resume %s)", opt.Run, status, train.ModelFile, opt.Run)
	}
	for _, kv := range opt.Sets {
		if k, _, _ := strings.Cut(kv, "="); !dataKey(strings.TrimSpace(k)) {
			return res, fmt.Errorf("--set %s: eval changes only the data it evaluates on (dataset.name, dataset.path, dataset.test_limit, ...), not the model, which is the run's", kv)
		}
	}
	var trainSets []string
	if opt.TrainPath != "" {
		trainSets = []string{"dataset.path=" + opt.TrainPath}
	}
	cfg, err := config.Load(cfgFile, trainSets, nil)
	if err != nil {
		return res, err
	}
	// The model's input normalisation is a statistic of its training images.
	data, err := train.LoadDataLog(cfg, opt.Log)
	if err != nil {
		return res, fmt.Errorf("loading the run's data (dataset.name %s, dataset.path %q from %s; the input normalisation is computed from its training images): %w; if they have moved, give --train-data PATH", cfg.Dataset.Name, cfg.Dataset.Path, cfgFile, err)
	}
	if fp := dataset.Fingerprint(data); rec.DataFingerprint != "" && fp != rec.DataFingerprint {
		return res, fmt.Errorf("the data at dataset.path %q are not the ones the run in %s was trained on (fingerprint %s, the run's %s): its input normalisation would differ; give --train-data PATH of the original data", cfg.Dataset.Path, opt.Run, fp[:12], short(rec.DataFingerprint))
	}
	m, err := train.LoadModel(modelFile, cfg, data.Train)
	if errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("%s has no %s: the run finished before dropexp kept its final model; train its config again (dropexp train --config %s --out DIR) to have one", opt.Run, train.ModelFile, cfgFile)
	}
	if err != nil {
		return res, err
	}
	defer m.Close()
	res.Iteration = m.Iteration

	test, where := data.Test, cfg.Dataset
	evalCfg := cfg
	if !own {
		if evalCfg, err = config.Load(cfgFile, evalSets(opt.Sets), nil); err != nil {
			return res, err
		}
		where = evalCfg.Dataset
		other, err := train.LoadDataLog(evalCfg, opt.Log)
		if err != nil {
			return res, fmt.Errorf("dataset.name %s, dataset.path %q: %w", where.Name, where.Path, err)
		}
		test = other.Test
		if opt.Out == "" {
			opt.Out = filepath.Join(opt.Run, "eval-"+where.Name+"-"+dataset.Fingerprint(other)[:8])
		}
	}
	res.Data = fmt.Sprintf("the %s test set at %s (%d images)", where.Name, pathText(where.Name, where.Path), test.Len())
	if test.C != m.C || test.H != m.H || test.W != m.W {
		return res, fmt.Errorf("%s: its images are %d×%d×%d, and the model in %s takes %d×%d×%d (it was trained on %s); give data of that shape (--data PATH, --set dataset.name=NAME)",
			res.Data, test.C, test.H, test.W, modelFile, m.C, m.H, m.W, cfg.Dataset.Name)
	}
	if test.Len() == 0 {
		return res, fmt.Errorf("%s has no images to evaluate on", res.Data)
	}
	if n := slices.Max(test.Labels) + 1; int(n) > m.Classes {
		return res, fmt.Errorf("%s: its labels go up to %d (%d classes), and the model in %s tells %d classes apart (it was trained on %s); give data of its classes",
			res.Data, n-1, n, modelFile, m.Classes, cfg.Dataset.Name)
	}
	res.Classes = data.Train.Classes
	if len(test.Classes) == m.Classes {
		res.Classes = test.Classes
	}
	res.Confusion = make([][]int, m.Classes)
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, m.Classes)
	}
	sum, err := m.Evaluate(test, func(label, pred int) { res.Confusion[label][pred]++ })
	if err != nil {
		return res, fmt.Errorf("%s on %s: %w", modelFile, res.Data, err)
	}
	res.Loss = sum / float64(test.Len())
	res.Out = opt.Out
	if res.Out == "" {
		res.Out = opt.Run
	}
	return res, nil
}

// evalSets returns the overrides of the data to evaluate on: a data set
// named without a path is looked for where that data set is by default,
// not at the run's path of another data set.
func evalSets(sets []string) []string {
	name, path := false, false
	for _, kv := range sets {
		k, _, _ := strings.Cut(kv, "=")
		name = name || strings.TrimSpace(k) == "dataset.name"
		path = path || strings.TrimSpace(k) == "dataset.path"
	}
	if name && !path {
		return append([]string{"dataset.path="}, sets...)
	}
	return sets
}

// pathText names where data set name was read from path.
func pathText(name, path string) string {
	if d, err := dataset.Lookup(name); err == nil && path == "" && d.Module != "" {
		return "the Go module " + d.Module
	}
	if path == "" {
		return "its default place"
	}
	return path
}

func short(s string) string { return s[:min(len(s), 12)] }

// Write writes eval.csv and confusion.csv into r.Out (made if need be), each atomically.
func (r Result) Write() error {
	if err := os.MkdirAll(r.Out, 0o755); err != nil {
		return err
	}
	var ev bytes.Buffer
	w := csv.NewWriter(&ev)
	w.Write([]string{"class", "label", "images", "correct", "accuracy", "loss"})
	for c, name := range r.Classes {
		n, right := r.classCounts(c)
		w.Write([]string{name, strconv.Itoa(c), strconv.Itoa(n), strconv.Itoa(right), ratio(right, n), ""})
	}
	w.Write([]string{"all", "", strconv.Itoa(r.Images()), strconv.Itoa(r.Correct()), ratio(r.Correct(), r.Images()), strconv.FormatFloat(r.Loss, 'g', -1, 64)})
	w.Flush()
	if err := results.WriteFileAtomic(filepath.Join(r.Out, EvalFile), ev.Bytes()); err != nil {
		return err
	}
	return results.WriteConfusion(filepath.Join(r.Out, ConfusionFile), results.Confusion{Classes: r.Classes, Counts: r.Confusion})
}

// classCounts returns the images of class c and how many of them were classified right.
func (r Result) classCounts(c int) (n, right int) {
	for _, v := range r.Confusion[c] {
		n += v
	}
	return n, r.Confusion[c][c]
}

// ratio is right/n in full precision, empty when there are no images.
func ratio(right, n int) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(right)/float64(n), 'g', -1, 64)
}

// Text renders r for the terminal: the totals, per-class accuracy and the confusion matrix.
func (r Result) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at iteration %d on %s\n", r.Run, r.Iteration, r.Data)
	fmt.Fprintf(&b, "accuracy %.4f (%d of %d)  loss %.4f\n\n", r.Accuracy(), r.Correct(), r.Images(), r.Loss)
	names := make([]string, len(r.Classes))
	width := len("class")
	for i, c := range r.Classes {
		names[i] = printable(c)
		width = max(width, len(names[i]))
	}
	fmt.Fprintf(&b, "%-*s  %6s  %7s  %8s\n", width, "class", "images", "correct", "accuracy")
	for c, name := range names {
		n, right := r.classCounts(c)
		acc := "-"
		if n > 0 {
			acc = fmt.Sprintf("%.4f", float64(right)/float64(n))
		}
		fmt.Fprintf(&b, "%-*s  %6d  %7d  %8s\n", width, name, n, right, acc)
	}
	fmt.Fprintf(&b, "\nconfusion (rows: true class, columns: predicted class by label)\n%-*s", width, "")
	cell := 3
	for _, row := range r.Confusion {
		for _, v := range row {
			cell = max(cell, len(strconv.Itoa(v)))
		}
	}
	for c := range r.Classes {
		fmt.Fprintf(&b, " %*d", cell, c)
	}
	b.WriteString("\n")
	for c, row := range r.Confusion {
		fmt.Fprintf(&b, "%-*s", width, names[c])
		for _, v := range row {
			fmt.Fprintf(&b, " %*d", cell, v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// printable replaces what a terminal would act on in a class name (it
// comes from the data: an image folder's directory names).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}
