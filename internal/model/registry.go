package model

import (
	"github.com/dropexp/dropexp/internal/experiment"
	G "gorgonia.org/gorgonia"
)

// Network is a network of experiment's catalog with the builder that
// builds it.
type Network struct {
	experiment.Network
	build func(b *builder, x *G.Node) (*G.Node, error)
}

// builders build the networks of experiment's catalog, by name: a new
// network is its catalog entry and one builder here (TestEveryNetworkBuilds).
var builders = map[string]func(b *builder, x *G.Node) (*G.Node, error){
	"convnet-quick": (*builder).convnetQuick,
	"resnet20":      cifarResNet(3),
	"resnet32":      cifarResNet(5),
	"resnet44":      cifarResNet(7),
	"resnet56":      cifarResNet(9),
	"resnet110":     cifarResNet(18),
}

// cifarResNet builds He et al.'s CIFAR ResNet of depth 6n+2.
func cifarResNet(n int) func(b *builder, x *G.Node) (*G.Node, error) {
	return func(b *builder, x *G.Node) (*G.Node, error) { return b.resnet(x, n) }
}

// Networks returns every network Build knows, in the catalog's order.
func Networks() []Network {
	var out []Network
	for _, n := range experiment.Networks() {
		out = append(out, Network{Network: n, build: builders[n.Name]})
	}
	return out
}

// Names returns the names of the networks, the allowed values of the config key model.
func Names() []string { return experiment.NetworkNames() }

// Lookup returns the network called name, or an error naming the allowed ones.
func Lookup(name string) (Network, error) {
	n, err := experiment.LookupNetwork(name)
	if err != nil {
		return Network{}, err
	}
	return Network{Network: n, build: builders[n.Name]}, nil
}
