package dataset

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	s := &Set{C: 1, H: 1, W: 2, Classes: []string{"a", "b"},
		Images: []uint8{1, 2, 3, 4, 5, 6}, Labels: []int32{0, 1, 0}}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	if got := s.Image(1); !slices.Equal(got, []uint8{3, 4}) || cap(got) != 2 {
		t.Errorf("Image(1) = %v cap %d, want [3 4] cap 2", got, cap(got))
	}
}

func TestLoadUnknownName(t *testing.T) {
	_, err := Load("imagenet", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cifar10, mnist, imagefolder") {
		t.Errorf("Load(imagenet) error = %v, want one listing the known names", err)
	}
}

func TestVerifyMD5(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.bin")
	data := []byte("hello")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, file, want string
		errHas           []string
	}{
		{"match", file, good, nil},
		{"upper case", file, strings.ToUpper(good), nil},
		{"mismatch", file, CIFAR10MD5, []string{file, good, CIFAR10MD5, "download it again"}},
		{"missing", filepath.Join(dir, "nope"), good, []string{"nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyMD5(tc.file, tc.want)
			checkErr(t, err, tc.errHas...)
		})
	}
}

// checkErr fails unless err is nil when no substrings are given, or else
// non-nil and containing every one of them.
func checkErr(t *testing.T, err error, has ...string) {
	t.Helper()
	if len(has) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", has)
	}
	t.Log(err)
	for _, h := range has {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("error %q does not contain %q", err, h)
		}
	}
}

// equalSets fails unless got and want hold the same images.
func equalSets(t *testing.T, what string, got, want *Set) {
	t.Helper()
	if got.C != want.C || got.H != want.H || got.W != want.W {
		t.Fatalf("%s: shape %d×%d×%d, want %d×%d×%d", what, got.C, got.H, got.W, want.C, want.H, want.W)
	}
	if !slices.Equal(got.Classes, want.Classes) {
		t.Errorf("%s: classes %v, want %v", what, got.Classes, want.Classes)
	}
	if !slices.Equal(got.Labels, want.Labels) {
		t.Errorf("%s: labels %v, want %v", what, got.Labels, want.Labels)
	}
	if !slices.Equal(got.Images, want.Images) {
		for i := range min(len(got.Images), len(want.Images)) {
			if got.Images[i] != want.Images[i] {
				t.Errorf("%s: %d pixel bytes, want %d; first difference at byte %d: %d, want %d",
					what, len(got.Images), len(want.Images), i, got.Images[i], want.Images[i])
				return
			}
		}
		t.Errorf("%s: %d pixel bytes, want %d", what, len(got.Images), len(want.Images))
	}
}
