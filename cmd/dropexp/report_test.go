package main

import (
	"bytes"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/report"
)

// runReport is dropexp report without cobra: it names the files it wrote,
// and a directory it cannot write into gets the advice to use --out.
func TestRunReport(t *testing.T) {
	dir, file := tinyRun(t)
	if _, err := dropexp(t, "train", "--config", file); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "results")
	var stdout, stderr bytes.Buffer
	o := reportOptions{Options: report.Options{In: []string{in}, Out: filepath.Join(dir, "rep"), FigRatios: []string{report.DefaultFigRatio}}, Stdout: &stdout, Stderr: &stderr}
	if err := runReport(o); err != nil {
		t.Fatal(err)
	}
	if want := "wrote " + filepath.Join(dir, "rep", "table1.md") + "\n"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	o.Out = filepath.Join(file, "sub")
	err := runReport(o)
	checkErr(t, err, "write the report elsewhere with --out DIR")

	var got *reportOptions
	cmd := newReportCmd(func(o *reportOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--in", "a", "--in", "b", "--out", "o", "--partial", "--ratio", "0.3,0.1"})
	cmd.SetOut(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.In, []string{"a", "b"}) || got.Out != "o" || !got.Partial || !slices.Equal(got.FigRatios, []string{"0.3", "0.1"}) || got.Stdout == nil || got.Stderr == nil {
		t.Errorf("report flags parsed to %+v", got)
	}
}
