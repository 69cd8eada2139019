package model

import (
	"fmt"
	"slices"
	"strings"

	G "gorgonia.org/gorgonia"
)

// Network declares one network Build knows: everything the rest of dropexp
// (config validation, help, completion, reports, bench) needs to know about
// it, beside its builder.
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
	build func(b *builder, x *G.Node) (*G.Node, error)
}

// cifarResNet declares He et al.'s CIFAR ResNet of depth 6n+2 (docs/DESIGN.md §2).
func cifarResNet(n int) Network {
	depth := 6*n + 2
	return Network{
		Name:         fmt.Sprintf("resnet%d", depth),
		Title:        fmt.Sprintf("ResNet-%d", depth),
		Doc:          fmt.Sprintf("He et al.'s CIFAR ResNet-%d (3 stages of %d basic blocks)", depth, n),
		Sites:        resnetSites(n),
		DefaultSites: []string{"*.conv2"},
		SiteSummary:  "conv1 sXbY.conv1 sXbY.conv2 fc",
		Batch:        128,
		build:        func(b *builder, x *G.Node) (*G.Node, error) { return b.resnet(x, n) },
	}
}

// networks are the networks Build knows, in the order help lists them. A
// new network is one entry here and its builder.
var networks = [...]Network{
	{
		Name:         "convnet-quick",
		Title:        "ConvNet-Quick",
		Doc:          "Caffe's cifar10_quick",
		Sites:        []string{"conv1", "conv2", "conv3", "ip1", "ip2"},
		DefaultSites: []string{"conv2", "conv3", "ip1", "ip2"},
		SiteSummary:  "conv1 conv2 conv3 ip1 ip2",
		Batch:        100,
		build:        (*builder).convnetQuick,
	},
	cifarResNet(3),  // ResNet-20, the paper's Table 2
	cifarResNet(5),  // ResNet-32
	cifarResNet(7),  // ResNet-44
	cifarResNet(9),  // ResNet-56
	cifarResNet(18), // ResNet-110
}

// Networks returns every network Build knows, in order.
func Networks() []Network { return slices.Clone(networks[:]) }

// Names returns the names of the networks, the allowed values of the config key model.
func Names() []string {
	names := make([]string, len(networks))
	for i, n := range networks {
		names[i] = n.Name
	}
	return names
}

// Lookup returns the network called name, or an error naming the allowed ones.
func Lookup(name string) (Network, error) {
	for _, n := range networks {
		if n.Name == name {
			n.Sites, n.DefaultSites = slices.Clone(n.Sites), slices.Clone(n.DefaultSites)
			return n, nil
		}
	}
	return Network{}, fmt.Errorf("unknown model %q (allowed: %s)", name, strings.Join(Names(), ", "))
}
