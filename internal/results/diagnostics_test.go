package results

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiagnosticsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), DiagnosticsFile)
	rows := []Diagnostic{
		{250, "conv1/W", "rel_dev", 0.123456789012345},
		{250, "conv1/b", "noise", math.Inf(1)},
		{250, TotalTensor, "cosine", math.NaN()},
		{500, `a,"b"`, "norm_g", 1e-30},
	}
	if err := WriteDiagnostics(path, rows); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "iteration,tensor,quantity,value\n250,conv1/W,rel_dev,0.123456789012345\n") {
		t.Errorf("file starts\n%s", data)
	}
	got, err := ReadDiagnostics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		g := got[i]
		same := g.Value == r.Value || math.IsNaN(g.Value) && math.IsNaN(r.Value)
		if g.Iteration != r.Iteration || g.Tensor != r.Tensor || g.Quantity != r.Quantity || !same {
			t.Errorf("row %d: %+v, want %+v", i, g, r)
		}
	}
}

func TestReadDiagnosticsErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"header", "iteration,lr\n", "not a diagnostics file"},
		{"empty", "", "not a diagnostics file"},
		{"iteration", "iteration,tensor,quantity,value\nx,total,noise,1\n", ":2: iteration"},
		{"value", "iteration,tensor,quantity,value\n1,total,noise,abc\n", ":2: value"},
		{"fields", "iteration,tensor,quantity,value\n1,total,noise\n", ":2: 3 fields, want 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), DiagnosticsFile)
			os.WriteFile(path, []byte(tc.content), 0o644)
			_, err := ReadDiagnostics(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want one naming %s and %q", err, path, tc.want)
			}
		})
	}
}
