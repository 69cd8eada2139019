package report

import (
	"fmt"
	"path/filepath"
	"strings"

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
	case "cifar100-coarse":
		name, kind, known = "CIFAR-100", "20 coarse classes", "cifar100"
	default:
		name, known = datasetTitle(s.Dataset), s.Dataset
	}
	var notes []string
	if kind != "" {
		notes = append(notes, kind)
	}
	if size := fmt.Sprintf("%d/%d", s.TrainSize, s.TestSize); s.TrainSize > 0 && fullSizes[known] != "" && size != fullSizes[known] {
		notes = append(notes, size+" images")
	}
	if len(notes) == 0 {
		return name
	}
	return name + " (" + strings.Join(notes, ", ") + ")"
}

// paperDataset returns the data set (cifar10, cifar100, svhn, mnist) that a
// name such as "cifar10-jpeg" or "CIFAR-100_png" refers to, or "".
func paperDataset(name string) string {
	n := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(name))
	switch {
	case strings.Contains(n, "cifar100"):
		return "cifar100"
	case strings.Contains(n, "cifar10"):
		return "cifar10"
	case strings.Contains(n, "svhn"):
		return "svhn"
	case strings.Contains(n, "mnist"):
		return "mnist"
	}
	return ""
}
