package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropexp/dropexp/internal/dataset/datasettest"
)

// pngHeader returns a PNG whose header claims a w×h RGB image and which
// holds no pixel data: enough for image.DecodeConfig, and a decoder that
// trusted the header would allocate w*h*4 bytes.
func pngHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	return append(out, chunk("IEND", nil)...)
}

// tinyPNG returns an h×w colour PNG of folderImage k.
func tinyPNG(t testing.TB, k, h, w int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, datasettest.PlanesToImage(folderImage(k, h, w), 3, h, w)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// member is one entry of tarBytes: a file, or a directory if data is nil.
type member struct {
	name string
	data []byte
}

// specialMembers maps the names of tarBytes members to the header they
// get in place of a file's: FIFOs, devices, links.
var specialMembers = map[string]*tar.Header{
	"train/a/2.png": {Name: "train/a/2.png", Mode: 0o644, Typeflag: tar.TypeFifo},
	"train/a/3.png": {Name: "train/a/3.png", Mode: 0o644, Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 5},
	"test/a/9.png":  {Name: "test/a/9.png", Mode: 0o777, Typeflag: tar.TypeSymlink, Linkname: "/dev/zero"},
}

// tarBytes returns a tar archive of the given members, in order.
func tarBytes(t testing.TB, members ...member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		switch special := specialMembers[m.name]; {
		case special != nil && m.data == nil:
			hdr = special
		case m.data == nil:
			hdr = &tar.Header{Name: m.name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// imageFolderSeeds are the seed archives of FuzzImageFolder (the same as its
// files under testdata/fuzz/FuzzImageFolder).
func imageFolderSeeds(t testing.TB) [][]byte {
	a, b := tinyPNG(t, 0, 2, 3), tinyPNG(t, 1, 2, 3)
	return [][]byte{
		tarBytes(t, member{"train/a/1.png", a}, member{"train/b/1.png", b}, member{"test/a/1.png", b}, member{"test/b/1.png", a}),
		tarBytes(t, member{"set/train/", nil}, member{"set/train/x/1.png", a}, member{"set/test/x/2.png", b}),
		tarBytes(t, member{"train/a/1.png", a}, member{"test/a/1.png", tinyPNG(t, 2, 3, 3)}),       // sizes differ
		tarBytes(t, member{"train/a/1.png", pngHeader(100000, 100000)}, member{"test/a/1.png", a}), // huge header
		tarBytes(t, member{"train/a/1.png", a}, member{"test/a/1.png", b}, member{"test/b/", nil}), // empty class
		tarBytes(t, member{"train/a/1.jpg", []byte("\xff\xd8\xff not a jpeg")}, member{"test/a/1.png", a}),
		// Members that are not regular files are skipped, never opened.
		tarBytes(t, member{"train/a/1.png", a}, member{"train/a/2.png", nil}, member{"train/a/3.png", nil},
			member{"test/a/9.png", nil}, member{"test/a/2.png", b}),
		// Headers of one large size and no pixels: sized, then refused when decoded.
		tarBytes(t, member{"train/a/1.png", pngHeader(4096, 4096)}, member{"test/a/1.png", pngHeader(4096, 4096)}),
	}
}

// TestLoadImageFolderHostile checks inputs the fuzzer would otherwise have
// to find: headers claiming huge images or members, and corrupt gzip.
func TestLoadImageFolderHostile(t *testing.T) {
	a := tinyPNG(t, 0, 2, 3)
	good := tarBytes(t, member{"train/a/1.png", a}, member{"test/a/1.png", a})
	// A member whose header claims 60 MB, of which the archive holds 4 kB.
	var big bytes.Buffer
	tw := tar.NewWriter(&big)
	tw.WriteHeader(&tar.Header{Name: "train/a/1.png", Mode: 0o644, Size: 60 << 20, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 4096))
	bigMember := big.Bytes() // no Close: the member stays incomplete
	corrupt := gzipBytes(good)
	for i := len(corrupt) / 3; i < len(corrupt)/3+8; i++ {
		corrupt[i] ^= 0x55
	}
	for _, tc := range []struct {
		name   string
		data   []byte
		errHas []string
	}{
		{"100000×100000 PNG header", tarBytes(t, member{"train/a/1.png", pngHeader(100000, 100000)}, member{"test/a/1.png", a}),
			[]string{"set.tar:train/a/1.png", "image is 100000×100000", "want 1 to 4096 pixels a side", "resize it"}},
		{"4097×1 PNG header", tarBytes(t, member{"train/a/1.png", pngHeader(4097, 1)}, member{"test/a/1.png", a}),
			[]string{"train/a/1.png", "4097×1"}},
		{"member larger than the archive", bigMember,
			[]string{"set.tar:train/a/1.png", "unexpected EOF", "archive truncated or corrupt"}},
		{"corrupt gzip", corrupt,
			[]string{"set.tar", "re-create or re-download it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "set.tar")
			writeFile(t, file, tc.data)
			_, err := LoadImageFolder(file)
			checkErr(t, err, tc.errHas...)
		})
	}
	// The 100000×100000 image on disk, not in an archive.
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "train", "a", "1.png"), pngHeader(100000, 100000))
	writeFile(t, filepath.Join(root, "test", "a", "1.png"), a)
	_, err := LoadImageFolder(root)
	checkErr(t, err, filepath.Join(root, "train", "a", "1.png"), "image is 100000×100000", "want 1 to 4096 pixels a side")
}

// FuzzImageFolder checks that no archive makes LoadImageFolder panic or
// return a split that breaks its promises, and (with the size checks before
// decoding and reading) that no small archive makes it allocate much.
func FuzzImageFolder(f *testing.F) {
	for _, s := range imageFolderSeeds(f) {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, gz bool) {
		if gz {
			// Fuzz the tar inside a valid gzip stream too.
			data = gzipBytes(data)
		}
		file := filepath.Join(t.TempDir(), "set.tar")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sp, err := LoadImageFolder(file)
		if err != nil {
			return
		}
		tr, te := sp.Train, sp.Test
		if tr.C != 1 && tr.C != 3 || tr.H < 1 || tr.W < 1 || tr.H > maxImageSide || tr.W > maxImageSide {
			t.Fatalf("images of %d×%d×%d", tr.C, tr.H, tr.W)
		}
		if te.C != tr.C || te.H != tr.H || te.W != tr.W || !slices.Equal(te.Classes, tr.Classes) || len(tr.Classes) == 0 {
			t.Fatalf("train %d×%d×%d %v, test %d×%d×%d %v", tr.C, tr.H, tr.W, tr.Classes, te.C, te.H, te.W, te.Classes)
		}
		if !slices.IsSorted(tr.Classes) {
			t.Fatalf("classes %v not sorted", tr.Classes)
		}
		for _, s := range []*Set{tr, te} {
			if s.Len() == 0 || len(s.Images) != s.Len()*s.Size() {
				t.Fatalf("%d labels and %d pixel bytes of %d-byte images", s.Len(), len(s.Images), s.Size())
			}
			for _, l := range s.Labels {
				if l < 0 || int(l) >= len(s.Classes) {
					t.Fatalf("label %d of %d classes", l, len(s.Classes))
				}
			}
		}
	})
}
