package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
)

// The CIFAR ResNets have the parameter counts of He et al. 2016's Table 6
// (0.27M, 0.46M, 0.66M, 0.85M, 1.7M), exactly as this builder makes them:
// bias-free 3×3 convolutions, BatchNorm γ and β, option-A shortcuts (no
// parameters) and the fc layer, 97216·n − 21926 for depth 6n+2 with 10 classes.
func TestResNetFamilyParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		params int
		paper  float64 // millions, as the paper rounds them
	}{
		{"resnet20", 3, 269722, 0.27},
		{"resnet32", 5, 464154, 0.46},
		{"resnet44", 7, 658586, 0.66},
		{"resnet56", 9, 853018, 0.85},
		{"resnet110", 18, 1727962, 1.7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := resnetOpts(1, 8, false, experiment.Standard)
			o.Model = tc.name
			net, err := Build(o, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			got := net.ParamCount()
			if got != tc.params || got != 97216*tc.n-21926 {
				t.Errorf("%s has %d parameters, want %d", tc.name, got, tc.params)
			}
			digits := 2
			if tc.paper >= 1 {
				digits = 1
			}
			if r := fmt.Sprintf("%.*f", digits, float64(got)/1e6); r != fmt.Sprint(tc.paper) {
				t.Errorf("%s: %d parameters round to %sM, the paper says %vM", tc.name, got, r, tc.paper)
			}
			if len(net.BN) != 6*tc.n+1 {
				t.Errorf("%d BatchNorm layers, want %d", len(net.BN), 6*tc.n+1)
			}
		})
	}
}

// Every network's declared sites are the names its builder gives them, in
// graph order, so dropout.sites, help and completion name what exists; a
// ResNet's are conv1, sXbY.conv1, sXbY.conv2 for X in 1..3 and Y in 1..n, fc.
func TestNetworkSitesAreBuilt(t *testing.T) {
	for _, net := range Networks() {
		t.Run(net.Name, func(t *testing.T) {
			o := resnetOpts(1, 8, true, experiment.Standard)
			o.Model, o.Sites = net.Name, []string{"*"}
			if net.Name == "convnet-quick" {
				o.H, o.W = 32, 32 // its three pools need the size
			}
			n, err := Build(o, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			var built []string
			for _, s := range n.Sites {
				built = append(built, s.Name)
			}
			if !slices.Equal(built, net.Sites) {
				t.Errorf("built sites %v, declared %v", built, net.Sites)
			}
			if !strings.HasPrefix(net.Name, "resnet") {
				return
			}
			blocks := (len(net.Sites) - 2) / 6
			if want := fmt.Sprintf("resnet%d", 6*blocks+2); net.Name != want || net.Title != fmt.Sprintf("ResNet-%d", 6*blocks+2) {
				t.Errorf("%s (%s) has %d blocks per stage, which make %s", net.Name, net.Title, blocks, want)
			}
			for i, s := range net.Sites[1 : len(net.Sites)-1] {
				if want := fmt.Sprintf("s%db%d.conv%d", i/(2*blocks)+1, i%(2*blocks)/2+1, i%2+1); s != want {
					t.Errorf("site %d is %s, want %s", i+1, s, want)
				}
			}
			if net.Sites[0] != "conv1" || net.Sites[len(net.Sites)-1] != "fc" {
				t.Errorf("sites %v do not start with conv1 and end with fc", net.Sites)
			}
			if err := CheckSites(net.Name, net.DefaultSites); err != nil {
				t.Errorf("default sites: %v", err)
			}
		})
	}
}

// A training step of ResNet-32 on a tiny batch runs: the loss is finite
// and every parameter tensor gets a finite gradient, not all zero.
func TestResNet32Step(t *testing.T) {
	o := resnetOpts(2, 8, true, experiment.Standard)
	o.Model = "resnet32"
	n, err := Build(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if len(n.Sites) != 15 {
		t.Errorf("%d dropout sites, want 15 (the default *.conv2 of 3×5 blocks)", len(n.Sites))
	}
	Init(n.Params, rand.New(rand.NewPCG(1, 2)))
	dropout.NewSampler(o.Variant, experiment.Ratio{P: 0.1}, 1).Sample(n.Sites)
	gaussianBatch(n, 3)
	if err := n.Run(); err != nil {
		t.Fatal(err)
	}
	if l := n.LossValue(); math.IsNaN(l) || math.IsInf(l, 0) || l <= 0 {
		t.Fatalf("loss %v", l)
	}
	for _, p := range n.Params {
		g := p.Grad.Value().Data().([]float32)
		nonzero := false
		for _, v := range g {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: gradient %v", p.Name, v)
			}
			nonzero = nonzero || v != 0
		}
		if !nonzero {
			t.Errorf("%s: gradient all zero", p.Name)
		}
	}
}

func TestLookup(t *testing.T) {
	if _, err := Lookup("resnet99"); err == nil || !strings.Contains(err.Error(), "convnet-quick, resnet20, resnet32, resnet44, resnet56, resnet110") {
		t.Errorf("Lookup(resnet99) = %v, want an error naming the networks", err)
	}
	n, _ := Lookup("resnet20")
	n.Sites[0] = "changed"
	if m, _ := Lookup("resnet20"); m.Sites[0] != "conv1" {
		t.Error("Lookup hands out the registry's slices")
	}
	for _, net := range Networks() {
		if net.Title == "" || net.Doc == "" || net.SiteSummary == "" || net.Batch <= 0 || len(net.DefaultSites) == 0 || net.build == nil {
			t.Errorf("%s: incomplete entry %+v", net.Name, net)
		}
	}
}

// Every network of experiment's catalog has a builder, and every builder
// a catalog entry: a builder without one is a network no config can name.
func TestEveryNetworkBuilds(t *testing.T) {
	names := Names()
	for name := range builders {
		if !slices.Contains(names, name) {
			t.Errorf("builder %s has no entry in experiment's network catalog", name)
		}
	}
	for _, n := range Networks() {
		if n.build == nil {
			t.Errorf("network %s of experiment's catalog has no builder", n.Name)
		}
	}
}
