package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dropexp/dropexp/configs"
	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/experiment"
)

// The test accuracies of "Demystifying Dropout" (docs/DESIGN.md §3). The paper reports
// one run per cell.

// Table1Model and Table2Model are the networks whose runs fill Table 1 and Table 2.
const (
	Table1Model = "convnet-quick"
	Table2Model = "resnet20"
)

// PaperPlain is the plain ConvNet-Quick of Table 1.
const PaperPlain = 0.7579

// Table1Ratios are the dropout ratios of Table 1's columns.
var Table1Ratios = [...]experiment.Ratio{{P: 0.3}, {P: 0.2}, {P: 0.1}, {P: 0.05}, {P: 0.01}, {P: 0.005}}

// Table1Variants are the variants of Table 1's rows.
var Table1Variants = [...]experiment.Variant{experiment.Standard, experiment.Forward, experiment.Backward}

// paperTable1 is Table 1: rows in the order of table1Variants, columns in the order of table1Ratios.
var paperTable1 = [3][6]float64{
	{0.7523, 0.7617, 0.7657, 0.7647, 0.7626, 0.7608},
	{0.6908, 0.7211, 0.7482, 0.7627, 0.7612, 0.7578},
	{0.7433, 0.7557, 0.7585, 0.7593, 0.7583, 0.7599},
}

// paperT1 returns Table 1's value of variant at ratio, or NaN if it has none.
func paperT1(variant experiment.Variant, ratio experiment.Ratio) float64 {
	for i, v := range Table1Variants {
		for j, r := range Table1Ratios {
			if v == variant && r == ratio {
				return paperTable1[i][j]
			}
		}
	}
	return math.NaN()
}

// paperRow2 is one row of Table 2.
type paperRow2 struct {
	Dataset   string // data set name as in configs: svhn, cifar10, cifar100
	P         experiment.Ratio
	Standard  float64
	Augmented float64
	AugRatio  experiment.Ratio // the augmented ratio p/q the paper used
}

// PaperTable2 is Table 2 in the paper's order.
var PaperTable2 = [...]paperRow2{
	{"svhn", experiment.Ratio{P: 0.1}, 0.9618, 0.9627, experiment.Ratio{P: 0.1, Q: 0.0002}},
	{"svhn", experiment.Ratio{P: 0.2}, 0.9626, 0.9648, experiment.Ratio{P: 0.2, Q: 0.0002}},
	{"svhn", experiment.Ratio{P: 0.3}, 0.9655, 0.9667, experiment.Ratio{P: 0.3, Q: 0.0002}},
	{"cifar10", experiment.Ratio{P: 0.1}, 0.9193, 0.9196, experiment.Ratio{P: 0.1, Q: 0.0001}},
	{"cifar10", experiment.Ratio{P: 0.2}, 0.9176, 0.9195, experiment.Ratio{P: 0.2, Q: 0.0001}},
	{"cifar10", experiment.Ratio{P: 0.3}, 0.9163, 0.9177, experiment.Ratio{P: 0.3, Q: 0.0001}},
	{"cifar100", experiment.Ratio{P: 0.1}, 0.6762, 0.6786, experiment.Ratio{P: 0.1, Q: 0.0001}},
	{"cifar100", experiment.Ratio{P: 0.2}, 0.6748, 0.6770, experiment.Ratio{P: 0.2, Q: 0.0001}},
	{"cifar100", experiment.Ratio{P: 0.3}, 0.6686, 0.6688, experiment.Ratio{P: 0.3, Q: 0.0001}},
}

// paperOrder are the data sets in the order of the paper's tables; others
// come after them by name.
var paperOrder = [...]string{"svhn", "cifar10", "cifar100", "mnist"}

// datasetTitle returns how a report names data set name: its title in
// package dataset's registry, with its note (CIFAR-100 (20 coarse
// classes)), or the name itself when the registry does not know it.
func datasetTitle(name string) string {
	d, err := dataset.Lookup(name)
	if err != nil || d.Name != name {
		return name
	}
	if d.Note != "" {
		return d.Title + " (" + d.Note + ")"
	}
	return d.Title
}

// modelRank orders networks as the paper's tables do: Table 1's, Table 2's, then the others.
func modelRank(m string) int {
	switch m {
	case Table1Model:
		return 0
	case Table2Model:
		return 1
	}
	return 2
}

// datasetRank orders data sets as the paper does, others after them by name.
func datasetRank(name string) int {
	if i := slices.Index(paperOrder[:], name); i >= 0 {
		return i
	}
	return len(paperOrder)
}

// ModelTitle returns the paper's name of model m, from experiment's network catalog.
func ModelTitle(m string) string {
	if n, err := experiment.LookupNetwork(m); err == nil {
		return n.Title
	}
	return m
}

// protocolFiles are the shipped configs of the paper's protocols, by model and data set.
var protocolFiles = map[[2]string]string{
	{Table1Model, "cifar10"}:  "convnet-quick-cifar10.yaml",
	{Table2Model, "cifar10"}:  "resnet20-cifar10.yaml",
	{Table2Model, "cifar100"}: "resnet20-cifar100.yaml",
	{Table2Model, "svhn"}:     "resnet20-svhn.yaml",
}

// notProtocol are the keys a run may set as it likes and still follow a
// protocol: what is not part of a run's identity, the seed, the cell keys,
// the data set's name (checked apart) and how often it evaluates.
var notProtocol = append(append(slices.Clone(experiment.NotIdentity[:]), cellKeys...), "seed", "dataset.name", "train.eval_every")

// paperBasis says whether a group's accuracies may stand beside the
// paper's, and why not: the paper's numbers are the full data set under the
// paper's protocol, so a smaller, synthetic or differently trained set of
// runs says nothing about them.
func PaperBasis(g *Group) (ok bool, why string) {
	size := g.Settings[DataSizeKey]
	data := g.PaperDataset()
	file, known := protocolFiles[[2]string{g.Model, data}]
	switch {
	case g.Model != Table1Model && g.Model != Table2Model:
		return false, fmt.Sprintf("the paper has no %s", g.Model)
	case !known:
		return false, fmt.Sprintf("the paper has no %s on %s", ModelTitle(g.Model), g.Dataset)
	case !fullSize(data, size):
		return false, fmt.Sprintf("the runs used %s images of %s, not the full %s (%s) the paper's numbers are for", size, g.Dataset, datasetTitle(data), fullSizes(data))
	}
	proto, err := protocolSettings(file)
	if err != nil {
		return false, err.Error()
	}
	var off, offKeys []string
	for _, k := range slices.Sorted(maps.Keys(proto)) {
		if slices.Contains(notProtocol, k) {
			continue
		}
		v, set := g.Settings[k]
		if !set && k == "dropout.sites" {
			continue // plain runs only: no sites
		}
		if v != proto[k] {
			off = append(off, fmt.Sprintf("%s=%s (the protocol's %s)", k, cmp.Or(v, `""`), cmp.Or(proto[k], `""`)))
			offKeys = append(offKeys, k)
		}
	}
	if len(off) > 0 && !onlySchedule(offKeys) {
		return false, fmt.Sprintf("the runs do not follow the paper's protocol (configs/%s): %s", file, strings.Join(off, ", "))
	}
	if len(off) > 0 {
		return true, fmt.Sprintf("the paper's values are its full protocol's (configs/%s); these runs follow it but for the length and learning-rate schedule: %s, so compare differences between cells with the paper's, not levels", file, strings.Join(off, ", "))
	}
	if g.Dataset == "imagefolder" {
		return true, "the image folder has CIFAR-10's 50000/10000 images and is taken for CIFAR-10; a lossy copy sits below the paper for that reason alone (on the JPEG copy beside the project the plain network reaches about 0.74, the paper 0.758)"
	}
	return true, ""
}

// scheduleKeys are the settings a budgeted version of a protocol changes:
// how long it trains and how the learning rate falls over that time.
var scheduleKeys = []string{"train.iterations", "train.lr_schedule", "train.lr_steps", "train.warmup"}

// onlySchedule reports whether every key of keys is one of scheduleKeys.
func onlySchedule(keys []string) bool {
	for _, k := range keys {
		if !slices.Contains(scheduleKeys, k) {
			return false
		}
	}
	return true
}

// protocolSettings returns the settings of a shipped config over the built-in defaults.
func protocolSettings(file string) (map[string]string, error) {
	data, err := configs.FS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("report: the shipped protocol config %s: %w", file, err)
	}
	cfg, err := config.DecodeRecorded(data)
	if err != nil {
		return nil, fmt.Errorf("report: the shipped protocol config %s: %w", file, err)
	}
	return cfg.Settings(), nil
}

// paperValue returns the paper's accuracy of cell c in a group the paper
// is comparable with, or NaN: the paper's tables are for the layer
// semantics (plain, and standard dropout, whose two rules are one
// computation, compute the same under both).
func PaperValue(g *Group, c experiment.Cell) float64 {
	layer := c.Semantics == experiment.Layer || c.Variant.SemanticsInvariant()
	switch {
	case g.Model == Table1Model && c.Variant == experiment.Plain:
		return PaperPlain
	case g.Model == Table1Model && layer:
		return paperT1(c.Variant, c.Ratio)
	case g.Model == Table2Model && layer:
		for _, row := range PaperTable2 {
			if row.Dataset != g.PaperDataset() || row.P != c.Ratio.OfP() {
				continue
			}
			switch {
			case c.Variant == experiment.Standard:
				return row.Standard
			case c.Variant == experiment.Augmented && row.AugRatio == c.Ratio:
				return row.Augmented
			}
		}
	}
	return math.NaN()
}

// paperDataset is the paper's data set the group's data stands for: its
// dataset.name, except that an image folder of CIFAR-10's size is taken for
// a copy of CIFAR-10 (as the JPEG re-encoding beside the project is). A
// fingerprint of the data would tell for sure.
func (g *Group) PaperDataset() string {
	if g.Dataset == "imagefolder" && g.Settings[DataSizeKey] == fullSizes("cifar10") {
		return "cifar10"
	}
	return g.Dataset
}
