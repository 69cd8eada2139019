package datafetch

import (
	"fmt"
	"io"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset"
)

// maxClassNames is how many class names Info prints before eliding.
const maxClassNames = 12

// Info loads data set name (any name dataset.Load takes) from dir and
// writes its sizes, classes, image shape and the per-channel mean and
// standard deviation of its training images to w, then the class counts
// and any warning of the load (CIFAR batches of unofficial sizes, a set
// without images of a class). An empty dir means DefaultDir(name).
func Info(name, dir string, w io.Writer) error {
	if dir == "" {
		dir = DefaultDir(name)
	}
	sp, err := dataset.Load(name, dir)
	if err != nil {
		return err
	}
	where := dir
	if d, err := dataset.Lookup(name); err == nil && where == "" && d.Module != "" {
		where = "the Go module " + d.Module
	}
	tr := sp.Train
	mean, std := dataset.ChannelStats(tr)
	classes := tr.Classes
	more := ""
	if len(classes) > maxClassNames {
		classes, more = classes[:maxClassNames], fmt.Sprintf(", … (%d more)", len(tr.Classes)-maxClassNames)
	}
	fmt.Fprintf(w, "data set     %s (from %s)\n", strings.ToLower(name), where)
	fmt.Fprintf(w, "train        %d images\n", tr.Len())
	fmt.Fprintf(w, "test         %d images\n", sp.Test.Len())
	fmt.Fprintf(w, "image        %d×%d×%d (C×H×W), uint8\n", tr.C, tr.H, tr.W)
	fmt.Fprintf(w, "classes      %d: %s%s\n", len(tr.Classes), strings.Join(classes, ", "), more)
	fmt.Fprintf(w, "channel mean %s (train, 0..255)\n", floats(mean))
	fmt.Fprintf(w, "channel std  %s\n", floats(std))
	for _, l := range sp.CountLines() {
		fmt.Fprintf(w, "counts       %s\n", l)
	}
	for _, warn := range sp.Warnings() {
		fmt.Fprintf(w, "warning      %s\n", warn)
	}
	return nil
}

func floats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, " ")
}
