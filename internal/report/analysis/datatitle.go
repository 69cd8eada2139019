package analysis

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/results"
)

// DataTitle names the data set of a run for a figure title, as a paper
// would: "CIFAR-10", "CIFAR-100 (20 coarse classes)", and for an image
// folder what its path says it holds, e.g. "CIFAR-10 (JPEG image folder)"
// for cifar10-jpeg.tar.xz or "flowers (image folder)". A run on part of one
// of the paper's data sets says how much: "MNIST (60000/2000 images)".
func DataTitle(s results.Summary) string {
	var name, kind, known string
	switch s.Dataset {
	case "imagefolder":
		base := strings.ToLower(filepath.Base(filepath.Clean(s.DatasetPath)))
		for _, ext := range []string{".tar.xz", ".tar.gz", ".tgz", ".tar.bz2", ".tar", ".zip"} {
			if strings.HasSuffix(base, ext) {
				base = strings.TrimSuffix(base, ext)
				break
			}
		}
		kind = "image folder"
		switch {
		case strings.Contains(base, "jpeg") || strings.Contains(base, "jpg"):
			kind = "JPEG image folder"
		case strings.Contains(base, "png"):
			kind = "PNG image folder"
		}
		switch known = paperDataset(base); {
		case s.DatasetPath == "" || base == "." || base == "/":
			name, kind = "image folder", ""
		case known != "":
			name = datasetTitle(known)
		default:
			name = base
		}
	default:
		name, known = s.Dataset, s.Dataset
		if d, err := dataset.Lookup(s.Dataset); err == nil && d.Name == s.Dataset {
			name, kind = d.Title, d.Note
		}
	}
	var notes []string
	if kind != "" {
		notes = append(notes, kind)
	}
	if size := fmt.Sprintf("%d/%d", s.TrainSize, s.TestSize); s.TrainSize > 0 && fullSizes(known) != "" && size != fullSizes(known) {
		notes = append(notes, size+" images")
	}
	if len(notes) == 0 {
		return name
	}
	return name + " (" + strings.Join(notes, ", ") + ")"
}

// paperDataset returns the data set of package dataset's registry with
// official files of its own (cifar10, cifar100, svhn, mnist) that a name
// such as "cifar10-jpeg" or "CIFAR-100_png" refers to, or "". The longest
// name that fits wins, so cifar100 is not taken for cifar10.
func paperDataset(name string) string {
	squash := strings.NewReplacer("-", "", "_", "", " ", "").Replace
	n := squash(strings.ToLower(name))
	best := ""
	for _, d := range dataset.Infos() {
		if len(d.Files) > 0 && d.Train > 0 && strings.Contains(n, squash(d.Name)) && len(d.Name) > len(best) {
			best = d.Name
		}
	}
	return best
}
