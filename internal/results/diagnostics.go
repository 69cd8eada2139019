package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DiagnosticsFile holds a run's gradient diagnostics (written when
// diagnostics.every > 0; package diagnostics says what each quantity is).
const DiagnosticsFile = "diagnostics.csv"

// TotalTensor is the tensor name of the rows over all parameters together.
const TotalTensor = "total"

// Diagnostic is one row of diagnostics.csv: a quantity of one parameter
// tensor (or TotalTensor) at a diagnosed iteration.
type Diagnostic struct {
	Iteration int
	Tensor    string
	Quantity  string
	Value     float64
}

// diagnosticsHeader is the first line of diagnostics.csv (tidy long form).
var diagnosticsHeader = [...]string{"iteration", "tensor", "quantity", "value"}

// WriteDiagnostics atomically writes rows as diagnostics.csv to path.
func WriteDiagnostics(path string, rows []Diagnostic) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(diagnosticsHeader[:])
	for _, d := range rows {
		w.Write([]string{strconv.Itoa(d.Iteration), d.Tensor, d.Quantity, strconv.FormatFloat(d.Value, 'g', -1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("results: formatting %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// ReadDiagnostics reads a file written by WriteDiagnostics.
func ReadDiagnostics(path string) ([]Diagnostic, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // the header is checked first, then every row's length
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	want := strings.Join(diagnosticsHeader[:], ",")
	if len(records) == 0 || strings.Join(records[0], ",") != want {
		return nil, fmt.Errorf("results: %s: not a diagnostics file: want header %s", path, want)
	}
	rows := make([]Diagnostic, 0, len(records)-1)
	for i, rec := range records[1:] {
		if len(rec) != len(diagnosticsHeader) {
			return nil, fmt.Errorf("results: %s:%d: %d fields, want %d (%s)", path, i+2, len(rec), len(diagnosticsHeader), want)
		}
		it, err := strconv.Atoi(rec[0])
		if err != nil {
			return nil, fmt.Errorf("results: %s:%d: iteration: %w", path, i+2, err)
		}
		// ParseFloat reads the NaN and ±Inf FormatFloat writes (a zero clean gradient, a diverged step).
		v, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			return nil, fmt.Errorf("results: %s:%d: value: %w", path, i+2, err)
		}
		rows = append(rows, Diagnostic{Iteration: it, Tensor: rec[1], Quantity: rec[2], Value: v})
	}
	return rows, nil
}
