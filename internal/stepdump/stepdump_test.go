package stepdump

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset/datasettest"
	"github.com/dropexp/dropexp/internal/train"
)

func TestParseIters(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "1", want: []int{1}},
		{in: "101,1", want: []int{1, 101}},
		{in: "3-5", want: []int{3, 4, 5}},
		{in: "1,4-5,4", want: []int{1, 4, 5}},
		{in: "0", bad: true},
		{in: "5-3", bad: true},
		{in: "x", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseIters(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseIters(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseIters(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := datasettest.WriteCIFAR10(dir, 60, 10, 1); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tinyConfig(t *testing.T, data string, sets ...string) config.Run {
	t.Helper()
	base := []string{"model=convnet-quick", "dataset.name=cifar10", "dataset.path=" + data,
		"dropout.variant=forward", "dropout.ratio=0.3", "train.batch_size=8", "train.iterations=4",
		"train.lr_steps=", "train.eval_every=4", "train.checkpoint_every=2", "threads=1"}
	cfg, err := config.Load("", append(base, sets...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func readIndex(t *testing.T, dir string) Index {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// tensor reads a dumped tensor back as float32, whatever its encoding.
func tensor(t *testing.T, dir string, idx Index, name string) []float32 {
	t.Helper()
	e, ok := idx.Tensors[name]
	if !ok {
		t.Fatalf("%s: no tensor %s", dir, name)
	}
	n := 1
	for _, s := range e.Shape {
		n *= s
	}
	out := make([]float32, n)
	if e.Const != nil {
		for i := range out {
			out[i] = *e.Const
		}
		return out
	}
	raw, err := os.ReadFile(filepath.Join(dir, e.File))
	if err != nil {
		t.Fatal(err)
	}
	switch e.DType {
	case "float32":
		if len(raw) != 4*n {
			t.Fatalf("%s: %d bytes for %d floats", e.File, len(raw), n)
		}
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "uint8":
		if len(raw) != n {
			t.Fatalf("%s: %d bytes for %d elements", e.File, len(raw), n)
		}
		for i, c := range raw {
			out[i] = e.Codebook[c]
		}
	default:
		t.Fatalf("%s: dtype %q", e.File, e.DType)
	}
	return out
}

func stepDir(dir string, k int) string { return filepath.Join(dir, "step-"+leftPad(k)) }

func leftPad(k int) string {
	s := strconv.Itoa(k)
	return strings.Repeat("0", 6-len(s)) + s
}

// The dump is the training run itself: its losses are the ones dropexp
// train records, the state after a step is the state before the next, and
// the masks are the variant's.
func TestDumpIsTheTrainingRun(t *testing.T) {
	data := fixture(t)
	cfg := tinyConfig(t, data)
	runDir := t.TempDir()
	if _, err := train.Run(context.Background(), train.Options{Config: cfg, Dir: runDir}); err != nil {
		t.Fatal(err)
	}
	metrics, err := os.ReadFile(filepath.Join(runDir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	split, err := train.LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Dump(context.Background(), cfg, split, out, Options{Iters: []int{2, 3, 4}}, nil); err != nil {
		t.Fatal(err)
	}
	var run RunInfo
	b, _ := os.ReadFile(filepath.Join(out, "run.json"))
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Losses) != 4 || run.FirstLoss != 1 {
		t.Fatalf("run.json: %d losses from %d, want 4 from 1", len(run.Losses), run.FirstLoss)
	}
	// metrics.csv's row at iteration 4 is the mean of the four losses.
	var mean float64
	for _, l := range run.Losses {
		mean += l
	}
	mean /= 4
	lines := strings.Split(strings.TrimSpace(string(metrics)), "\n")
	fields := strings.Split(lines[len(lines)-1], ",")
	want, err := strconv.ParseFloat(fields[2], 64)
	if err != nil {
		t.Fatalf("metrics.csv: %v", err)
	}
	if math.Abs(mean-want) > 1e-6*math.Abs(want) {
		t.Errorf("mean dumped loss %v, metrics.csv train_loss %v", mean, want)
	}
	prev := readIndex(t, stepDir(out, 2))
	for k := 3; k <= 4; k++ {
		idx := readIndex(t, stepDir(out, k))
		if idx.Iteration != k || !idx.Full || idx.Format != Format || idx.Variant != "forward" || idx.Gradient != "layer" {
			t.Fatalf("step %d index: %+v", k, idx)
		}
		for _, p := range idx.Params {
			after := tensor(t, stepDir(out, k-1), prev, "param/"+p.Name+"/after")
			before := tensor(t, stepDir(out, k), idx, "param/"+p.Name+"/before")
			if !slices.Equal(after, before) {
				t.Errorf("step %d: param %s before differs from step %d's after", k, p.Name, k-1)
			}
			v := tensor(t, stepDir(out, k), idx, "momentum/"+p.Name+"/after")
			w1 := tensor(t, stepDir(out, k), idx, "param/"+p.Name+"/after")
			for i := range v {
				if before[i]-v[i] != w1[i] {
					t.Fatalf("step %d: %s[%d]: after %v != before %v - v %v", k, p.Name, i, w1[i], before[i], v[i])
				}
			}
		}
		if len(idx.Sites) != 2 {
			t.Fatalf("step %d: %d sites, want the demo config's 2 (conv2, conv3)", k, len(idx.Sites))
		}
		for _, s := range idx.Sites {
			mf, mb := idx.Tensors["site/"+s.Name+"/mf"], idx.Tensors["site/"+s.Name+"/mb"]
			if mb.Const == nil || *mb.Const != 1 {
				t.Errorf("site %s: forward dropout's mb is %+v, want const 1", s.Name, mb)
			}
			keep := float32(1 / 0.7)
			if mf.DType != "uint8" || len(mf.Codebook) != 2 || !slices.Contains(mf.Codebook, 0) || !slices.Contains(mf.Codebook, keep) {
				t.Errorf("site %s: mf codebook %v, want 0 and %v", s.Name, mf.Codebook, keep)
			}
		}
		prev = idx
	}
	// A checkpoint continues to the same step: batch, masks and loss.
	ck := filepath.Join(t.TempDir(), "ck")
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgCk := tinyConfig(t, data, "train.iterations=2")
	if _, err := train.Run(context.Background(), train.Options{Config: cfgCk, Dir: ck}); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	if err := Dump(context.Background(), cfg, split, out2, Options{Iters: []int{3}, From: filepath.Join(ck, train.ModelFile)}, nil); err != nil {
		t.Fatal(err)
	}
	a, b2 := readIndex(t, stepDir(out, 3)), readIndex(t, stepDir(out2, 3))
	if a.Loss != b2.Loss {
		t.Errorf("step 3 from a checkpoint: loss %v, from the start %v", b2.Loss, a.Loss)
	}
	for _, name := range []string{"input/x", "input/labels", "site/conv2/mf", "param/conv2/W/grad", "param/ip1/W/before"} {
		if !slices.Equal(tensor(t, stepDir(out, 3), a, name), tensor(t, stepDir(out2, 3), b2, name)) {
			t.Errorf("step 3 from a checkpoint: %s differs", name)
		}
	}
	if err := Dump(context.Background(), cfg, split, t.TempDir(), Options{Iters: []int{2}, From: filepath.Join(ck, train.ModelFile)}, nil); err == nil {
		t.Error("dumping iteration 2 from a checkpoint at 2: no error")
	}
}

// The im2col path computes the same step as the direct one, up to float32
// rounding, and a light step carries no weights.
func TestDumpIm2colAndLight(t *testing.T) {
	data := fixture(t)
	cfg := tinyConfig(t, data, "dropout.variant=augmented", "dropout.ratio=0.3/0.1", "dropout.gradient=elementwise")
	split, err := train.LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	direct, im2col := t.TempDir(), t.TempDir()
	if err := Dump(context.Background(), cfg, split, direct, Options{Iters: []int{1, 2, 3}, FullEvery: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Dump(context.Background(), cfg, split, im2col, Options{Iters: []int{3}, Im2col: true}, nil); err != nil {
		t.Fatal(err)
	}
	if light := readIndex(t, stepDir(direct, 2)); light.Full || light.Tensors["param/conv2/W/grad"].File != "" {
		t.Errorf("step 2 with FullEvery 5: full %v, has gradients", light.Full)
	}
	a, b := readIndex(t, stepDir(direct, 3)), readIndex(t, stepDir(im2col, 3))
	if a.ConvPath != "direct" || b.ConvPath != "im2col" {
		t.Errorf("conv_path %q and %q", a.ConvPath, b.ConvPath)
	}
	for _, p := range a.Params {
		g1 := tensor(t, stepDir(direct, 3), a, "param/"+p.Name+"/grad")
		g2 := tensor(t, stepDir(im2col, 3), b, "param/"+p.Name+"/grad")
		var d, s float64
		for i := range g1 {
			d = max(d, math.Abs(float64(g1[i]-g2[i])))
			s = max(s, math.Abs(float64(g1[i])))
		}
		if d > 1e-4*s {
			t.Errorf("%s: direct and im2col gradients differ by %g (scale %g)", p.Name, d, s)
		}
	}
	// mb = mf ⊙ ε_q: kept where both are, at 1/(1−p) · 1/(1−q).
	both := float32(1/0.7) * float32(1/0.9)
	for _, s := range a.Sites {
		e := a.Tensors["site/"+s.Name+"/mb"]
		if e.Const != nil || len(e.Codebook) != 2 || !slices.Contains(e.Codebook, 0) || !slices.Contains(e.Codebook, both) {
			t.Errorf("augmented site %s: mb %+v, want a drawn mask with values 0 and %v", s.Name, e, both)
		}
	}
}
