package evaluate

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// fixture is a tiny CIFAR-10 run trained once for the tests of this
// package, beside its data and other data of the same and of another shape.
type fixture struct {
	run, data, other, mnist string
	sum                     results.Summary
}

func newFixture(t *testing.T, iterations int, cancel bool, sets ...string) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{run: filepath.Join(dir, "run"), data: filepath.Join(dir, "cifar"), other: filepath.Join(dir, "other"), mnist: filepath.Join(dir, "mnist")}
	for _, err := range []error{
		datasettest.WriteCIFAR10(f.data, 100, 30, 1),
		datasettest.WriteCIFAR10(f.other, 60, 20, 2),
		datasettest.WriteMNIST(f.mnist, 20, 10, 3),
		os.MkdirAll(f.run, 0o755),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load("", append([]string{"model=convnet-quick", "dataset.name=cifar10", "dataset.path=" + f.data,
		"dropout.variant=standard", "dropout.ratio=0.3", "train.batch_size=8", fmt.Sprintf("train.iterations=%d", iterations),
		"train.lr_steps=", "train.lr=0.002", "train.eval_every=5", "train.checkpoint_every=0", "threads=2"}, sets...), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if cancel {
		stop()
	}
	f.sum, err = train.Run(ctx, train.Options{Config: cfg, Dir: f.run})
	if err != nil && !cancel {
		t.Fatal(err)
	}
	return f
}

// Eval builds the run's model with the run's kernel set: the winograd
// set's evaluation rounds otherwise, and its numbers would not be the
// run's.
func TestEvalUsesTheRunsKernels(t *testing.T) {
	f := newFixture(t, 6, false, "kernels=winograd")
	res, err := Evaluate(Options{Run: f.run})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy() != f.sum.FinalTestAcc || res.Loss != f.sum.FinalTestLoss {
		t.Errorf("eval: accuracy %v, loss %v; summary.json: final_test_acc %v, final_test_loss %v", res.Accuracy(), res.Loss, f.sum.FinalTestAcc, f.sum.FinalTestLoss)
	}
}

// On its own test set, eval gives the run's final_test_acc and
// final_test_loss of summary.json, and writes both files into the run.
func TestEvalOfTheRunsTestSetIsItsLastEvaluation(t *testing.T) {
	f := newFixture(t, 12, false) // evaluated at 5, 10 and 12
	sum, err := results.ReadSummary(filepath.Join(f.run, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(Options{Run: f.run})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy() != sum.FinalTestAcc || res.Loss != sum.FinalTestLoss || res.Images() != 30 || res.Iteration != 12 {
		t.Errorf("eval: accuracy %v, loss %v, %d images at iteration %d; summary.json: final_test_acc %v, final_test_loss %v of 30 images at 12",
			res.Accuracy(), res.Loss, res.Images(), res.Iteration, sum.FinalTestAcc, sum.FinalTestLoss)
	}
	if want := fmt.Sprintf("accuracy %.4f (%d of 30)  loss %.4f\n", sum.FinalTestAcc, res.Correct(), sum.FinalTestLoss); !strings.Contains(res.Text(), want) {
		t.Errorf("text lacks %q:\n%s", want, res.Text())
	}
	if res.Out != f.run {
		t.Errorf("files go to %s, want the run directory", res.Out)
	}
	if err := res.Write(); err != nil {
		t.Fatal(err)
	}
	ev := readCSV(t, filepath.Join(f.run, EvalFile))
	if len(ev) != 1+10+1 || strings.Join(ev[0], ",") != "class,label,images,correct,accuracy,loss" {
		t.Fatalf("eval.csv: %q", ev)
	}
	all := ev[11]
	if acc, _ := strconv.ParseFloat(all[4], 64); all[0] != "all" || all[2] != "30" || acc != sum.FinalTestAcc {
		t.Errorf("eval.csv's row all %q, want 30 images at accuracy %v", all, sum.FinalTestAcc)
	}
	perClass := 0
	for _, row := range ev[1:11] {
		n, _ := strconv.Atoi(row[2])
		perClass += n
	}
	cm := readCSV(t, filepath.Join(f.run, ConfusionFile))
	total := 0
	for _, row := range cm[1:] {
		for _, v := range row[1:] {
			n, _ := strconv.Atoi(v)
			total += n
		}
	}
	if len(cm) != 11 || len(cm[0]) != 11 || total != 30 || perClass != 30 {
		t.Errorf("confusion.csv %dx%d with %d images, eval.csv's classes %d images; want 11x11 and 30", len(cm), len(cm[0]), total, perClass)
	}
	// Evaluating again gives the same files.
	before := readFile(t, filepath.Join(f.run, EvalFile))
	res2, err := Evaluate(Options{Run: f.run})
	if err == nil {
		err = res2.Write()
	}
	if err != nil || readFile(t, filepath.Join(f.run, EvalFile)) != before {
		t.Errorf("a second eval changed eval.csv (%v)", err)
	}

	// Other data of the same shape: their test set, files apart from the run's.
	res, err = Evaluate(Options{Run: f.run, Sets: []string{"dataset.path=" + f.other}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Images() != 20 || !strings.HasPrefix(filepath.Base(res.Out), "eval-cifar10-") || filepath.Dir(res.Out) != f.run {
		t.Errorf("other data: %d images into %s, want 20 into %s/eval-cifar10-XXXXXXXX", res.Images(), res.Out, f.run)
	}
	out := filepath.Join(t.TempDir(), "out")
	res, err = Evaluate(Options{Run: f.run, Sets: []string{"dataset.path=" + f.other}, Out: out})
	if err == nil {
		err = res.Write()
	}
	if err != nil || readFile(t, filepath.Join(out, ConfusionFile)) == "" {
		t.Errorf("--out: %v", err)
	}
	if readFile(t, filepath.Join(f.run, EvalFile)) != before {
		t.Errorf("evaluating other data changed the run's own eval.csv")
	}
}

func TestEvalBadInput(t *testing.T) {
	f := newFixture(t, 3, false)
	interrupted := newFixture(t, 3, true)
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		opt  Options
		want []string
	}{
		{"not a run directory", Options{Run: empty}, []string{empty + " has no config.yaml: not a run directory"}},
		{"an unfinished run", Options{Run: interrupted.run}, []string{"holds a run that is interrupted, not finished", "dropexp train --resume " + interrupted.run}},
		{"another shape", Options{Run: f.run, Sets: []string{"dataset.name=mnist", "dataset.path=" + f.mnist}},
			[]string{"the mnist test set at " + f.mnist + " (10 images): its images are 1×28×28, and the model in " + filepath.Join(f.run, "model.gob") + " takes 3×32×32 (it was trained on cifar10)"}},
		{"a key of the model", Options{Run: f.run, Sets: []string{"dropout.ratio=0.5"}}, []string{"--set dropout.ratio=0.5: eval changes only the data"}},
		{"training data moved", Options{Run: f.run, TrainPath: filepath.Join(empty, "gone")}, []string{"loading the run's data", "give --train-data PATH"}},
		{"other training data", Options{Run: f.run, TrainPath: f.other}, []string{"are not the ones the run in " + f.run + " was trained on", "give --train-data PATH of the original data"}},
		{"missing data to evaluate on", Options{Run: f.run, Sets: []string{"dataset.path=" + filepath.Join(empty, "nothing")}}, []string{"dataset.name cifar10, dataset.path \"" + filepath.Join(empty, "nothing")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(tc.opt)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(f.run, EvalFile)); !os.IsNotExist(err) {
		t.Errorf("a refused eval wrote %s (%v)", EvalFile, err)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
