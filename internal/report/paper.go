package report

import "math"

// The test accuracies of "Demystifying Dropout" (SPEC §4). The paper reports
// one run per cell.

// Table1Model and Table2Model are the networks whose runs fill Table 1 and Table 2.
const (
	Table1Model = "convnet-quick"
	Table2Model = "resnet20"
)

// PaperPlain is the plain ConvNet-Quick of Table 1.
const PaperPlain = 0.7579

// table1Ratios are the dropout ratios of Table 1's columns.
var table1Ratios = [...]string{"0.3", "0.2", "0.1", "0.05", "0.01", "0.005"}

// table1Variants are the variants of Table 1's rows.
var table1Variants = [...]string{"standard", "forward", "backward"}

// paperTable1 is Table 1: rows in the order of table1Variants, columns in the order of table1Ratios.
var paperTable1 = [3][6]float64{
	{0.7523, 0.7617, 0.7657, 0.7647, 0.7626, 0.7608},
	{0.6908, 0.7211, 0.7482, 0.7627, 0.7612, 0.7578},
	{0.7433, 0.7557, 0.7585, 0.7593, 0.7583, 0.7599},
}

// paperT1 returns Table 1's value of variant at ratio, or NaN if it has none.
func paperT1(variant, ratio string) float64 {
	for i, v := range table1Variants {
		for j, r := range table1Ratios {
			if v == variant && sameRatio(r, ratio) {
				return paperTable1[i][j]
			}
		}
	}
	return math.NaN()
}

// paperRow2 is one row of Table 2.
type paperRow2 struct {
	Dataset   string // data set name as in configs: svhn, cifar10, cifar100
	P         string
	Standard  float64
	Augmented float64
	AugRatio  string // the augmented ratio p/q the paper used
}

// paperTable2 is Table 2 in the paper's order.
var paperTable2 = [...]paperRow2{
	{"svhn", "0.1", 0.9618, 0.9627, "0.1/0.0002"},
	{"svhn", "0.2", 0.9626, 0.9648, "0.2/0.0002"},
	{"svhn", "0.3", 0.9655, 0.9667, "0.3/0.0002"},
	{"cifar10", "0.1", 0.9193, 0.9196, "0.1/0.0001"},
	{"cifar10", "0.2", 0.9176, 0.9195, "0.2/0.0001"},
	{"cifar10", "0.3", 0.9163, 0.9177, "0.3/0.0001"},
	{"cifar100", "0.1", 0.6762, 0.6786, "0.1/0.0001"},
	{"cifar100", "0.2", 0.6748, 0.6770, "0.2/0.0001"},
	{"cifar100", "0.3", 0.6686, 0.6688, "0.3/0.0001"},
}

// datasetTitles are the paper's names of the data sets, in its order.
var datasetTitles = [...][2]string{{"svhn", "SVHN"}, {"cifar10", "CIFAR-10"}, {"cifar100", "CIFAR-100"}, {"mnist", "MNIST"}}

// datasetTitle returns the paper's name of data set name.
func datasetTitle(name string) string {
	for _, t := range datasetTitles {
		if t[0] == name {
			return t[1]
		}
	}
	return name
}

// datasetRank orders data sets as the paper does, others after them by name.
func datasetRank(name string) int {
	for i, t := range datasetTitles {
		if t[0] == name {
			return i
		}
	}
	return len(datasetTitles)
}

// modelTitle returns the paper's name of model m.
func modelTitle(m string) string {
	switch m {
	case Table1Model:
		return "ConvNet-Quick"
	case Table2Model:
		return "ResNet-20"
	}
	return m
}
