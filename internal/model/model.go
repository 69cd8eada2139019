// Package model builds the Gorgonia graphs of the named networks
// (ConvNet-Quick and He et al.'s CIFAR ResNets of depth 20, 32, 44, 56
// and 110) with their dropout sites, parameters and initialisation, for
// training (masks, loss, gradients) or evaluation (no dropout).
//
// Each network is declared once, as a Network in the table of registry.go:
// its name, title, dropout sites, default sites and protocol batch size
// beside its builder. Config validation, help and completion of --set
// model= and dropout.sites=, bench and reports read that table (Names,
// Lookup, Networks), so a new network is its builder and one entry there.
// The table lives here, not in a package of its own, because an entry
// holds its builder; model imports no package that reads the table, so
// config, keys and report can import it without a cycle.
package model

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/dropexp/dropexp/internal/dropout"
	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/layers"
	"github.com/dropexp/dropexp/internal/opbase"
	"github.com/dropexp/dropexp/internal/threads"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Options describe one graph to build.
type Options struct {
	Model        string
	Batch        int
	C, H, W      int // input image shape
	Classes      int
	Variant      experiment.Variant
	Semantics    experiment.Semantics
	Sites        []string         // empty: the model's default sites
	Exec         threads.Executor // the threads every layer computes on
	Train        bool             // training graph: dropout sites, gradients
	InputNeedsDx bool             // compute ∂J/∂x of the input (tests only)
	// OpByOp builds an evaluation graph layer by layer even where a chain
	// op could take the batch image by image (tests compare the two).
	OpByOp bool
	// Im2col turns the direct convolution off in every layer (the path a
	// CPU without AVX2/FMA takes; dropexp dump-step compares the two).
	Im2col bool
	// Kernels is the convolutions' kernel set (conv.Options.Kernels).
	Kernels experiment.Kernels
}

// Param is one learnable tensor, shared by the training and evaluation graphs.
type Param struct {
	Name   string
	Value  *tensor.Dense
	IsBias bool
	Std    float64 // initialisation: Gaussian std, or when 0 the constant Const
	Const  float32
	Node   *G.Node // node in this graph
	Grad   *G.Node // gradient node (training graph only)
}

// Data returns the parameter's values.
func (p *Param) Data() []float32 { return p.Value.Float32s() }

// Net is a built graph with its inputs, outputs and machine.
type Net struct {
	Graph  *G.ExprGraph
	X      *G.Node // N×C×H×W input
	Labels *G.Node // N labels as float32 (negative: padding row)
	Logits *G.Node
	Loss   *layers.Loss
	Params []*Param
	Sites  []*dropout.Site
	BN     map[string]*layers.BNStats // running statistics by layer name
	vm     G.VM
	x, y   *tensor.Dense
	xGrad  *G.Node
}

// Input returns the writable input batch (N·C·H·W) and label (N) buffers.
func (n *Net) Input() (x, labels []float32) { return n.x.Float32s(), n.y.Float32s() }

// Run executes the graph once (forward, and backward for a training graph).
func (n *Net) Run() error {
	// The tape machine runs nothing on a second RunAll unless reset.
	defer n.vm.Reset()
	return n.vm.RunAll()
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }

// LossValue returns the mean loss of the last Run.
func (n *Net) LossValue() float64 { return float64(n.Loss.Node.Value().Data().(float32)) }

// ParamCount returns the number of learnable scalars.
func (n *Net) ParamCount() int {
	total := 0
	for _, p := range n.Params {
		total += p.Value.Shape().TotalSize()
	}
	return total
}

// builder carries the graph being built and the parameters to reuse.
type builder struct {
	opt    Options
	g      *G.ExprGraph
	shared map[string]*Param
	params []*Param
	bn     map[string]*layers.BNStats
	sites  []*dropout.Site
	want   map[string]bool
}

// param returns the named parameter node, reusing a shared tensor when one exists.
func (b *builder) param(name string, shape tensor.Shape, std float64, bias bool) *G.Node {
	p := &Param{Name: name, IsBias: bias, Std: std}
	if s, ok := b.shared[name]; ok {
		p.Value = s.Value
	} else {
		p.Value = tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	}
	p.Node = G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(p.Value))
	b.params = append(b.params, p)
	return p.Node
}

// site returns the dropout site on the input h of layer, or nil.
func (b *builder) site(layer string, h *G.Node) *dropout.Site {
	if !b.opt.Train || !b.want[layer] || !dropout.ModeOf(b.opt.Variant, b.opt.Semantics).Masked() {
		return nil
	}
	s := dropout.NewSite(b.g, layer, h.Shape(), b.opt.Variant)
	b.sites = append(b.sites, s)
	return s
}

func (b *builder) mode() dropout.Mode { return dropout.ModeOf(b.opt.Variant, b.opt.Semantics) }

// Build builds the graph opt describes. from is an already built graph whose
// parameters and BatchNorm statistics the new one shares (the evaluation
// graph shares the training graph's); nil creates fresh, uninitialised ones
// (see Init).
func Build(opt Options, from *Net) (*Net, error) {
	net, err := Lookup(opt.Model)
	if err != nil {
		return nil, err
	}
	patterns := opt.Sites
	if len(patterns) == 0 {
		patterns = net.DefaultSites
	}
	want, err := matchSites(opt.Model, patterns, net.Sites)
	if err != nil {
		return nil, err
	}
	b := &builder{opt: opt, g: G.NewGraph(), shared: map[string]*Param{}, want: want, bn: map[string]*layers.BNStats{}}
	if from != nil {
		for _, p := range from.Params {
			b.shared[p.Name] = p
		}
		maps.Copy(b.bn, from.BN)
	}
	n := &Net{Graph: b.g}
	n.x = tensor.New(tensor.WithShape(opt.Batch, opt.C, opt.H, opt.W), tensor.Of(tensor.Float32))
	n.y = tensor.New(tensor.WithShape(opt.Batch), tensor.Of(tensor.Float32))
	n.X = G.NewTensor(b.g, tensor.Float32, 4, G.WithShape(opt.Batch, opt.C, opt.H, opt.W), G.WithName("x"), G.WithValue(n.x))
	n.Labels = G.NewVector(b.g, tensor.Float32, G.WithShape(opt.Batch), G.WithName("labels"), G.WithValue(n.y))
	if n.Logits, err = net.build(b, n.X); err != nil {
		return nil, fmt.Errorf("building %s: %w", opt.Model, err)
	}
	if n.Loss, err = layers.SoftmaxCrossEntropy("loss", n.Logits, n.Labels); err != nil {
		return nil, err
	}
	n.Params, n.Sites, n.BN = b.params, b.sites, b.bn
	if opt.Train {
		wrt := make(G.Nodes, len(n.Params))
		for i, p := range n.Params {
			wrt[i] = p.Node
		}
		if opt.InputNeedsDx {
			wrt = append(wrt, n.X)
		}
		grads, err := G.Grad(n.Loss.Node, wrt...)
		if err != nil {
			return nil, fmt.Errorf("differentiating %s: %w", opt.Model, err)
		}
		for i, p := range n.Params {
			p.Grad = grads[i]
		}
		if opt.InputNeedsDx {
			n.xGrad = grads[len(grads)-1]
		}
	}
	n.vm = G.NewTapeMachine(b.g, G.WithEngine(opbase.Engine{Threads: opt.Exec.Threads()}))
	return n, nil
}

// InputGrad returns ∂J/∂x of the last run (graphs built with InputNeedsDx).
func (n *Net) InputGrad() []float32 { return n.xGrad.Value().Data().([]float32) }

// Init draws every parameter from its Gaussian, or sets it to its constant, using rng.
func Init(params []*Param, rng *rand.Rand) {
	for _, p := range params {
		d := p.Data()
		for i := range d {
			if p.Std > 0 {
				d[i] = float32(rng.NormFloat64() * p.Std)
			} else {
				d[i] = p.Const
			}
		}
	}
}

// matchSites expands site names and glob patterns (path.Match syntax, e.g.
// "*.conv2") into the set of sites; a pattern matching nothing is an error.
func matchSites(model string, patterns, allowed []string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, pat := range patterns {
		hit := false
		for _, a := range allowed {
			ok, err := path.Match(pat, a)
			if err != nil {
				return nil, fmt.Errorf("dropout.sites: bad pattern %q: %v", pat, err)
			}
			if ok {
				want[a], hit = true, true
			}
		}
		if !hit {
			return nil, fmt.Errorf("dropout.sites: unknown site %q for %s (allowed: %s; patterns like *.conv2 work)", pat, model, strings.Join(allowed, ", "))
		}
	}
	return want, nil
}

// CheckSites reports whether every site name or pattern matches a site of
// the model, so a run can fail before it creates anything.
func CheckSites(model string, patterns []string) error {
	net, err := Lookup(model)
	if err != nil {
		return err
	}
	_, err = matchSites(model, patterns, net.Sites)
	return err
}
