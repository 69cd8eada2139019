package report

import (
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/results"
)

// DataTitle names the data set of a run for a title, as a paper would:
// "CIFAR-10", "MNIST", "CIFAR-100 (20 coarse classes)", and for an image
// folder what its path says it holds, e.g. "CIFAR-10 (JPEG image folder)"
// for cifar10-jpeg.tar.xz, or "flowers (image folder)".
func DataTitle(s results.Summary) string {
	switch s.Dataset {
	case "imagefolder":
	case "cifar100-coarse":
		return "CIFAR-100 (20 coarse classes)"
	default:
		return datasetTitle(s.Dataset)
	}
	base := strings.ToLower(filepath.Base(filepath.Clean(s.DatasetPath)))
	if s.DatasetPath == "" || base == "." || base == "/" {
		return "image folder"
	}
	for _, ext := range []string{".tar.xz", ".tar.gz", ".tgz", ".tar.bz2", ".tar", ".zip"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			break
		}
	}
	kind := "image folder"
	if strings.Contains(base, "jpeg") || strings.Contains(base, "jpg") {
		kind = "JPEG image folder"
	} else if strings.Contains(base, "png") {
		kind = "PNG image folder"
	}
	if known := paperDataset(base); known != "" {
		return datasetTitle(known) + " (" + kind + ")"
	}
	return base + " (" + kind + ")"
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
