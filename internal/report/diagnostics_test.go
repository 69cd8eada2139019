package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/report/analysis"
	"github.com/dropexp/dropexp/internal/results"
)

// diagFake is a finished run with diagnostics: noise and deviation
// constant over its 300 iterations except a last value at 300, and losses
// that give the gap.
type diagFake struct {
	variant, ratio         string
	seed                   int64
	noise, last, dev       float64
	trainLoss, testLoss    float64
	withoutDiagnosticsFile bool
}

func writeDiagRuns(t *testing.T, dir string, runs []diagFake) {
	t.Helper()
	for _, r := range runs {
		rd := filepath.Join(dir, "runs", results.RunName(r.variant, r.ratio, "layer", r.seed))
		os.MkdirAll(rd, 0o755)
		cfg := protocolConfig(t, analysis.Table1Model, "cifar10")
		cfg.Seed, cfg.Dropout.Variant, cfg.Dropout.Ratio = r.seed, r.variant, r.ratio
		cfg.Train.Iterations, cfg.Train.LRSteps = 300, nil
		if !r.withoutDiagnosticsFile {
			// Runs with and without diagnostics are one protocol.
			cfg.Diagnostics = config.Diagnostics{Every: 50, Draws: 8}
		}
		y, err := cfg.YAML()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(rd, results.ConfigFile), y, 0o644)
		m := []results.Metric{{Iteration: 300, TrainLoss: r.trainLoss, TestLoss: r.testLoss, TestAcc: 0.7}}
		if err := results.WriteMetrics(filepath.Join(rd, results.MetricsFile), m); err != nil {
			t.Fatal(err)
		}
		sum := results.Summary{Status: results.StatusFinished, Model: "convnet-quick", Dataset: "cifar10", Semantics: "layer",
			Variant: r.variant, Ratio: r.ratio, Seed: r.seed, FinalTestAcc: 0.7, FinalTrainLoss: r.trainLoss, FinalTestLoss: r.testLoss, Iterations: 300,
			TrainSize: 50000, TestSize: 10000}
		if err := results.WriteSummary(filepath.Join(rd, results.SummaryFile), sum); err != nil {
			t.Fatal(err)
		}
		if r.withoutDiagnosticsFile {
			continue
		}
		var rows []results.Diagnostic
		for it := 50; it <= 300; it += 50 {
			noise := r.noise
			if it == 300 {
				noise = r.last
			}
			rows = append(rows,
				results.Diagnostic{Iteration: it, Tensor: "conv1/W", Quantity: "noise", Value: 99},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "norm_g", Value: 1},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "rel_dev", Value: r.dev},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "mean_dev", Value: r.dev},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "norm_mean", Value: 1},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "norm_g0", Value: 1},
				results.Diagnostic{Iteration: it, Tensor: results.TotalTensor, Quantity: "noise", Value: noise})
		}
		if err := results.WriteDiagnostics(filepath.Join(rd, results.DiagnosticsFile), rows); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDiagnosticsReport(t *testing.T) {
	dir := t.TempDir()
	writeDiagRuns(t, dir, []diagFake{
		{"plain", "", 1, 0, 0, 0, 0.5, 0.9, false},
		{"standard", "0.3", 1, 0.2, 0.5, 0.3, 1.0, 0.8, false},
		{"standard", "0.3", 2, 0.4, 0.7, 0.5, 1.2, 0.8, false},
		{"standard", "0.1", 1, 0.05, 0.05, 0.1, 0.8, 0.85, false},
		{"backward", "0.3", 1, 1.5, 1.5, 0.9, 0.7, 0.9, false},
		{"forward", "0.3", 1, 0, 0, 0, 1, 1, true}, // no diagnostics.csv: not in the diagnostics' figures and table
	})
	out := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("REPORT_TEST_OUT"); d != "" {
		out = d
	}
	files, c, err := Write(Options{In: []string{dir}, Out: out, FigRatios: []string{"0.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) > 0 {
		t.Errorf("problems: %v", c.Problems)
	}
	for _, name := range []string{GradientNoiseMD, GradientNoiseCSV, DiagnosticsPNG, DiagnosticsSVG, DiagnosticsRatioPNG, DiagnosticsRatioSVG} {
		if !strings.Contains(strings.Join(files, " "), name) {
			t.Errorf("%s not written (files %v)", name, files)
			continue
		}
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(name) == ".png" {
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	// Diagnostics do not split a table: they leave the numbers alone.
	if t1, _ := os.ReadFile(filepath.Join(out, Table1MD)); strings.Count(string(t1), "\n## ") != 1 || strings.Contains(string(t1), "diagnostics") {
		t.Errorf("runs with and without diagnostics in separate sections of %s:\n%s", Table1MD, t1)
	}
	svg, _ := os.ReadFile(filepath.Join(out, DiagnosticsSVG))
	for _, want := range []string{"standard 0.3 (n=2)", "plain (n=1)", "backward 0.3 (n=1)"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("%s lacks the legend entry %q", DiagnosticsSVG, want)
		}
	}
	if bytes.Contains(svg, []byte("forward")) || bytes.Contains(svg, []byte("standard 0.1")) {
		t.Errorf("%s shows a run without diagnostics or at another ratio", DiagnosticsSVG)
	}

	// standard 0.3: noise run means (5·0.2+0.5)/6 = 0.25 and (5·0.4+0.7)/6 = 0.45;
	// at the end (iteration >= 270: only 300) 0.5 and 0.7; gaps -0.2 and -0.4.
	// Bias (mean_dev = dev, norms 1, K = 8): √(dev² − run-mean noise / 8).
	b1, b2 := math.Sqrt(0.09-0.25/8), math.Sqrt(0.25-0.45/8)
	md, _ := os.ReadFile(filepath.Join(out, GradientNoiseMD))
	for _, want := range []string{
		"| plain | – | 1 | 0 | 0 | 0 | 0 | 0.4 | 0.7000 |",
		fmt.Sprintf("| standard | 0.3 | 2 | 0.35 ± %.2g | 0.6 ± %.2g | 0.4 ± %.2g | %.3g ± %.2g | -0.3 ± %.2g | 0.7000 |",
			0.2/math.Sqrt2, 0.2/math.Sqrt2, 0.2/math.Sqrt2, (b1+b2)/2, (b2-b1)/math.Sqrt2, 0.2/math.Sqrt2),
		fmt.Sprintf("| standard | 0.1 | 1 | 0.05 | 0.05 | 0.1 | %.3g | 0.05 | 0.7000 |", math.Sqrt(0.01-0.05/8)),
		fmt.Sprintf("| backward | 0.3 | 1 | 1.5 | 1.5 | 0.9 | %.3g | 0.2 | 0.7000 |", math.Sqrt(0.81-1.5/8)),
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("%s lacks the row\n%s\ngot\n%s", GradientNoiseMD, want, md)
		}
	}
	if strings.Contains(string(md), "forward") {
		t.Errorf("%s has a row for a run without diagnostics", GradientNoiseMD)
	}
	csv, _ := os.ReadFile(filepath.Join(out, GradientNoiseCSV))
	if !strings.Contains(string(csv), "convnet-quick,cifar10,layer,backward,0.3,1,1.5,,1.5,,0.9,,0.78898669,,0.2,,0.7\n") {
		t.Errorf("%s:\n%s", GradientNoiseCSV, csv)
	}
	// Against ratio: one panel, the two quantities.
	runs := analysis.LoadDiagnostics(&c)
	if fig, warn := DiagnosticsVsRatio(runs); len(fig.Rows) != 1 || len(fig.Rows[0].Panels) != 2 || warn != "" {
		t.Errorf("diagnostics against ratio: %d rows, warning %q", len(fig.Rows), warn)
	}
	// Seeds give a band, labelled; the row names the network and the data.
	for _, want := range []string{"band: 95 % interval of", "ConvNet-Quick on CIFAR-10, layer gradient, dropout ratio 0.3"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("%s lacks %q", DiagnosticsSVG, want)
		}
	}
	// Nothing to draw at a ratio no run has: a warning, no figure.
	if fig, warn := DiagnosticsFigure(runs, []experiment.Ratio{{P: 0.05}}); len(fig.Rows) != 0 || !strings.Contains(warn, "0.05") {
		t.Errorf("diagnostics at a ratio without runs: %d rows, warning %q", len(fig.Rows), warn)
	}
	// standard has 2 seeds at 0.3 and 1 at 0.1.
	if svg, _ := os.ReadFile(filepath.Join(out, DiagnosticsRatioSVG)); !bytes.Contains(svg, []byte("standard (n=1–2)")) || !bytes.Contains(svg, []byte("backward (n=1)")) {
		t.Errorf("%s lacks the legend entries with the seeds per point", DiagnosticsRatioSVG)
	}
}

// Without any diagnostics.csv the report writes none of the diagnostics' files.
func TestDiagnosticsReportAbsent(t *testing.T) {
	dir := t.TempDir()
	writeDiagRuns(t, dir, []diagFake{{"standard", "0.3", 1, 0, 0, 0, 1, 1, true}})
	files, _, err := Write(Options{In: []string{dir}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.Contains(f, "diagnostics") || strings.Contains(f, "gradient_noise") {
			t.Errorf("wrote %s without any run with diagnostics", f)
		}
	}
	// A corrupt file is a problem, not a failure.
	rd := filepath.Join(dir, "runs", results.RunName("standard", "0.3", "layer", 1))
	os.WriteFile(filepath.Join(rd, results.DiagnosticsFile), []byte("nope\n"), 0o644)
	_, c, err := Write(Options{In: []string{dir}, Out: t.TempDir()})
	if err != nil || len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "not a diagnostics file") {
		t.Errorf("corrupt diagnostics.csv: err %v, problems %v", err, c.Problems)
	}
}
