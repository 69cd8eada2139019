package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// TestDataCmd runs the data commands that need no network.
func TestDataCmd(t *testing.T) {
	dir := t.TempDir()
	if err := datasettest.WriteSVHN(filepath.Join(dir, "svhn"), 20, 10, 1, true, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		outHas []string
		errHas []string
	}{
		{[]string{"info", "svhn", "--dir", filepath.Join(dir, "svhn")}, []string{"train        20 images", "3×32×32"}, nil},
		{[]string{"info", "cifar100", "--dir", filepath.Join(dir, "none")}, nil, []string{"dropexp data fetch cifar100 --dir " + filepath.Join(dir, "none")}},
		{[]string{"verify", "svhn", "--dir", filepath.Join(dir, "svhn")}, []string{"BAD", "train_32x32.mat"}, []string{"2 of 2 files failed", "re-download"}},
		{[]string{"fetch", "mnist"}, []string{"nothing to download", "GoMNIST"}, nil},
		{[]string{"fetch", "imagefolder"}, nil, []string{"no official download"}},
		{[]string{"fetch"}, nil, []string{"accepts 1 arg"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := newDataCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			for _, s := range tc.outHas {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output %q lacks %q", out.String(), s)
				}
			}
			if tc.errHas == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.errHas)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}
