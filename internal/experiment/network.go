package experiment

import (
	"fmt"
	"slices"
	"strings"
)

// Network is the catalog entry of a network package model builds:
// everything the rest of dropexp (config validation, help, completion,
// reports, bench) needs to know about it without building it.
type Network struct {
	Name  string // the value of the config key model, e.g. resnet20
	Title string // as papers name it, for reports: ResNet-20
	Doc   string // one line for help: what the network is
	// Sites are every dropout site (the input of a layer), in graph order.
	Sites []string
	// DefaultSites are the sites (names or path.Match patterns) used when
	// dropout.sites is empty.
	DefaultSites []string
	// SiteSummary names the sites for help text in a few words, e.g.
	// "conv1 sXbY.conv1 sXbY.conv2 fc".
	SiteSummary string
	// Batch is the batch size of the network's training protocol, the
	// default of `dropexp bench`.
	Batch int
}

// CIFARResNet returns the catalog entry of He et al.'s CIFAR ResNet of
// depth 6n+2 (docs/DESIGN.md §2).
func CIFARResNet(n int) Network {
	depth := 6*n + 2
	return Network{
		Name:         fmt.Sprintf("resnet%d", depth),
		Title:        fmt.Sprintf("ResNet-%d", depth),
		Doc:          fmt.Sprintf("He et al.'s CIFAR ResNet-%d (3 stages of %d basic blocks)", depth, n),
		Sites:        resnetSites(n),
		DefaultSites: []string{"*.conv2"},
		SiteSummary:  "conv1 sXbY.conv1 sXbY.conv2 fc",
		Batch:        128,
	}
}

// resnetSites lists the dropout sites of a CIFAR ResNet with n blocks per
// stage: the stem conv, both convs of every block (sXbY.conv1, sXbY.conv2) and fc.
func resnetSites(n int) []string {
	s := []string{"conv1"}
	for st := 1; st <= 3; st++ {
		for bl := 1; bl <= n; bl++ {
			s = append(s, fmt.Sprintf("s%db%d.conv1", st, bl), fmt.Sprintf("s%db%d.conv2", st, bl))
		}
	}
	return append(s, "fc")
}

// networks is the catalog, in the order help lists the networks. A new
// network is one entry here and its builder in package model.
var networks = [...]Network{
	{
		Name:         "convnet-quick",
		Title:        "ConvNet-Quick",
		Doc:          "Caffe's cifar10_quick",
		Sites:        []string{"conv1", "conv2", "conv3", "ip1", "ip2"},
		DefaultSites: []string{"conv2", "conv3", "ip1", "ip2"},
		SiteSummary:  "conv1 conv2 conv3 ip1 ip2",
		Batch:        100,
	},
	CIFARResNet(3),  // ResNet-20, the paper's Table 2
	CIFARResNet(5),  // ResNet-32
	CIFARResNet(7),  // ResNet-44
	CIFARResNet(9),  // ResNet-56
	CIFARResNet(18), // ResNet-110
}

// Networks returns the catalog, in order.
func Networks() []Network {
	out := slices.Clone(networks[:])
	for i := range out {
		out[i].Sites, out[i].DefaultSites = slices.Clone(out[i].Sites), slices.Clone(out[i].DefaultSites)
	}
	return out
}

// NetworkNames returns the networks' names, the allowed values of the config key model.
func NetworkNames() []string {
	names := make([]string, len(networks))
	for i, n := range networks {
		names[i] = n.Name
	}
	return names
}

// LookupNetwork returns the network called name, or an error naming the allowed ones.
func LookupNetwork(name string) (Network, error) {
	for _, n := range networks {
		if n.Name == name {
			n.Sites, n.DefaultSites = slices.Clone(n.Sites), slices.Clone(n.DefaultSites)
			return n, nil
		}
	}
	return Network{}, fmt.Errorf("unknown model %q (allowed: %s)", name, strings.Join(NetworkNames(), ", "))
}
