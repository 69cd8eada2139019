package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/threads"
)

func TestLoadImageFolderPNG(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "set")
	want := pngFolder(t, root)
	for _, a := range []string{"set.tar", "set.tar.gz", "set.tgz", "set.tar.xz"} {
		writeTar(t, filepath.Join(dir, "flat", a), root, "")
		writeTar(t, filepath.Join(dir, "nested", a), root, "cifar10")
	}
	for _, tc := range []struct{ name, path string }{
		{"directory", root},
		{"parent directory", dir + "/nestedroot"},
		{"tar", filepath.Join(dir, "flat", "set.tar")},
		{"tar.gz", filepath.Join(dir, "flat", "set.tar.gz")},
		{"tgz", filepath.Join(dir, "flat", "set.tgz")},
		{"tar.xz", filepath.Join(dir, "flat", "set.tar.xz")},
		{"tar with leading directory", filepath.Join(dir, "nested", "set.tar")},
		{"tar.gz with leading directory", filepath.Join(dir, "nested", "set.tar.gz")},
		{"tar.xz with leading directory", filepath.Join(dir, "nested", "set.tar.xz")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "parent directory" {
				// A directory whose only subdirectory is the root.
				if err := os.MkdirAll(tc.path, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(root, filepath.Join(tc.path, "set")); err != nil {
					t.Skip("no symlinks:", err)
				}
			}
			got, err := Load("imagefolder", tc.path)
			if err != nil {
				t.Fatal(err)
			}
			equalSets(t, "train", got.Train, want.Train)
			equalSets(t, "test", got.Test, want.Test)
		})
	}
}

// Images are decoded on the threads Options.Exec gives, into the same sets
// on any count.
func TestLoadImageFolderThreads(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "set")
	want := pngFolder(t, root)
	writeTar(t, filepath.Join(dir, "set.tar"), root, "")
	for _, path := range []string{root, filepath.Join(dir, "set.tar")} {
		for _, n := range []int{0, 1, 2, 5} {
			got, err := LoadWith("imagefolder", path, Options{Exec: threads.N(n)})
			if err != nil {
				t.Fatalf("%s on %d threads: %v", path, n, err)
			}
			equalSets(t, "train", got.Train, want.Train)
			equalSets(t, "test", got.Test, want.Test)
		}
	}
}

func TestLoadImageFolderJPEG(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "set")
	jpegFolder(t, root, 3)
	a := filepath.Join(dir, "set.tar.xz")
	writeTar(t, a, root, "jpeg")
	for _, path := range []string{root, a} {
		sp, err := LoadImageFolder(path)
		if err != nil {
			t.Fatal(err)
		}
		classes := []string{"blue", "green", "red"}
		wantLabels := []int32{0, 0, 0, 1, 1, 1, 2, 2, 2}
		for _, s := range []*Set{sp.Train, sp.Test} {
			if s.C != 3 || s.H != 8 || s.W != 8 || !slices.Equal(s.Classes, classes) || !slices.Equal(s.Labels, wantLabels) {
				t.Fatalf("%s: %d×%d×%d, classes %v, labels %v; want 3×8×8, %v, %v", path, s.C, s.H, s.W, s.Classes, s.Labels, classes, wantLabels)
			}
			// JPEG is lossy; a flat colour must still come back close to
			// itself in the right plane.
			red := s.Image(6)
			if r, g, b := red[0], red[64], red[128]; r < 200 || g > 45 || b > 55 {
				t.Errorf("%s: red image pixel (%d,%d,%d), want about (220,20,30)", path, r, g, b)
			}
		}
	}
}

// TestLoadImageFolderChannels checks that a folder with any colour image
// is read as colour, its grey images expanded and counted in the load
// line, whichever comes first: one grey image turned a colour folder grey.
// Only an all-grey folder is grey.
func TestLoadImageFolderChannels(t *testing.T) {
	const h, w = 2, 3
	grey := []uint8{0, 50, 100, 150, 200, 250}
	colour := flatImage(255, 0, 0, h, w)
	expanded := append(append(slices.Clone(grey), grey...), grey...)
	for _, tc := range []struct {
		name     string
		a, b     bool // whether the first and second training images are grey
		wantC    int
		want     []uint8 // both training images, in order
		wantLine string
	}{
		{"grey first", true, false, 3, append(slices.Clone(expanded), colour...), "; 2 grey images expanded to colour)"},
		{"colour first", false, true, 3, append(slices.Clone(colour), expanded...), "; 2 grey images expanded to colour)"},
		{"all grey", true, true, 1, append(slices.Clone(grey), grey...), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write := func(rel string, isGrey bool) {
				if isGrey {
					writePNG(t, filepath.Join(root, rel), grey, 1, h, w)
				} else {
					writePNG(t, filepath.Join(root, rel), colour, 3, h, w)
				}
			}
			write("train/k/a.png", tc.a)
			write("train/k/b.png", tc.b)
			write("test/k/c.png", true)
			var log bytes.Buffer
			sp, err := LoadWith("imagefolder", root, Options{Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			if sp.Train.C != tc.wantC || sp.Test.C != tc.wantC {
				t.Fatalf("C = %d/%d, want %d", sp.Train.C, sp.Test.C, tc.wantC)
			}
			if !slices.Equal(sp.Train.Images, tc.want) {
				t.Errorf("pixels %v, want %v", sp.Train.Images, tc.want)
			}
			line := strings.SplitN(log.String(), "\n", 3)[1]
			if tc.wantLine == "" && strings.Contains(line, "expanded") || !strings.Contains(line, tc.wantLine) {
				t.Errorf("load line %q, want it to say %q", line, tc.wantLine)
			}
		})
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	png := func(t *testing.T, root, rel string, h, w int) {
		writePNG(t, filepath.Join(root, rel), folderImage(0, h, w), 3, h, w)
	}
	minimal := func(t *testing.T, root string) {
		png(t, root, "train/a/1.png", 4, 4)
		png(t, root, "test/a/1.png", 4, 4)
	}
	tarOf := func(t *testing.T, dir, prefix string) string {
		a := filepath.Join(t.TempDir(), "set.tar.gz")
		writeTar(t, a, dir, prefix)
		return a
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, root string) string
		errHas []string
	}{
		{"wrong size", func(t *testing.T, root string) string {
			minimal(t, root)
			png(t, root, "train/a/2.png", 4, 5)
			return root
		}, []string{filepath.Join("train", "a", "2.png"), "5×4", "want 4×4", filepath.Join("train", "a", "1.png")}},
		{"wrong size in archive", func(t *testing.T, root string) string {
			minimal(t, root)
			png(t, root, "test/a/2.png", 3, 4)
			return tarOf(t, root, "top")
		}, []string{"set.tar.gz:top/test/a/2.png", "4×3", "want 4×4"}},
		{"empty class", func(t *testing.T, root string) string {
			minimal(t, root)
			writeFile(t, filepath.Join(root, "train", "b", "readme.txt"), nil)
			return root
		}, []string{filepath.Join("train", "b"), `class "b" has no`}},
		{"empty class in archive", func(t *testing.T, root string) string {
			minimal(t, root)
			os.MkdirAll(filepath.Join(root, "test", "b"), 0o755)
			return tarOf(t, root, "")
		}, []string{"test/b", `class "b" has no`}},
		{"class mismatch", func(t *testing.T, root string) string {
			minimal(t, root)
			png(t, root, "train/b/1.png", 4, 4)
			png(t, root, "test/c/1.png", 4, 4)
			return root
		}, []string{"test classes [a c]", "training classes [a b]", "missing in test: [b]", "only in test: [c]"}},
		{"no test directory", func(t *testing.T, root string) string {
			png(t, root, "train/a/1.png", 4, 4)
			return root
		}, []string{"test", "train,test"}},
		{"no train directory", func(t *testing.T, root string) string {
			png(t, root, "a/1.png", 4, 4)
			png(t, root, "b/1.png", 4, 4)
			return root
		}, []string{"no train/ directory"}},
		{"corrupt image", func(t *testing.T, root string) string {
			minimal(t, root)
			writeFile(t, filepath.Join(root, "train", "a", "0.jpg"), []byte("not a jpeg"))
			return root
		}, []string{filepath.Join("train", "a", "0.jpg"), "not a valid PNG or JPEG"}},
		{"image outside layout", func(t *testing.T, root string) string {
			minimal(t, root)
			png(t, root, "train/a/sub/1.png", 4, 4)
			return tarOf(t, root, "")
		}, []string{"train/a/sub/1.png", "not at [DIR/]{train,test}/CLASS/FILE"}},
		{"no images in archive", func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "readme.txt"), []byte("x"))
			return tarOf(t, root, "")
		}, []string{"set.tar.gz", "no images"}},
		{"not an archive", func(t *testing.T, root string) string {
			f := filepath.Join(root, "set.zip")
			writeFile(t, f, []byte("PK\x03\x04 not a tar at all, and long enough to fill a header block? no"))
			return f
		}, []string{"set.zip", "not a readable tar archive"}},
		{"truncated archive", func(t *testing.T, root string) string {
			src := filepath.Join(root, "src")
			for i := range 20 {
				png(t, src, "train/a/"+string(rune('a'+i))+".png", 16, 16)
			}
			png(t, src, "test/a/1.png", 16, 16)
			a := filepath.Join(root, "set.tar")
			writeTar(t, a, src, "")
			data, _ := os.ReadFile(a)
			writeFile(t, a, data[:len(data)/2])
			return a
		}, []string{"set.tar", "truncated"}},
		{"missing", func(t *testing.T, root string) string {
			return filepath.Join(root, "nope.tar.xz")
		}, []string{"nope.tar.xz", "ROOT/{train,test}/CLASS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadImageFolder(tc.setup(t, t.TempDir()))
			checkErr(t, err, tc.errHas...)
		})
	}
}
