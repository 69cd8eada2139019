// Package sweep runs a grid of training runs: it reads a sweep config (a base
// run config and the axes to cross), expands it into named runs in one sweep
// directory, runs them a few at a time with each run's threads a share of the
// cores, skips the ones already finished, reruns the unfinished ones, and
// writes job-array files so a Slurm cluster or Kubernetes can run the same
// grid one run per task.
//
// Each run directory (package results) is the source of truth; the sweep's
// index.json is derived from the run directories and rewritten whenever the
// state changes. A run is named, placed by its identity and started by
// package runner, as `dropexp train` does it; what is the sweep's own is
// the grid, the jobs, the shared data and the index. RunCommand is
// `dropexp sweep` itself, from the options its flags give.
package sweep

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/dropexp/dropexp/internal/typo"
)

// Spec is a sweep config file: a base run config, overrides applied to every
// run, and the axes whose cross product is the grid.
type Spec struct {
	Name string   // names the sweep; the default sweep directory is results/NAME
	Base string   // run config file, relative to the sweep file (made absolute by ReadSpec)
	Set  []string // "key=value" overrides of every run, as --set takes them
	Axes Axes

	// File is the sweep config's path, for messages and for emitted jobs;
	// "" for a sweep given on the command line alone (NewSpec).
	File string
}

// NewSpec returns the sweep of a base run config without a sweep file
// (dropexp sweep --base FILE --axis ...), base "" being the embedded demo
// config, with the axes of the --axis arguments axisFlags (ApplyAxisFlags),
// named after the base config and the swept keys (demo-lr).
func NewSpec(base string, axisFlags []string) (*Spec, error) {
	s := &Spec{Base: base}
	if err := ApplyAxisFlags(&s.Axes, axisFlags); err != nil {
		return nil, err
	}
	s.Name = defaultName(base, s.Axes)
	return s, nil
}

// Source names the sweep in messages: its file, or the base config it sweeps.
func (s *Spec) Source() string {
	switch {
	case s.File != "":
		return s.File
	case s.Base != "":
		return "sweep of --base " + s.Base
	}
	return "sweep of the embedded demo config"
}

// Axes are the values crossed to form the grid.
type Axes struct {
	Variant  []string  // dropout variants; plain is not crossed with ratios; empty: the base config's variant and ratio
	Ratio    []string  // "p" or "p/q"; p/q entries only pair with augmented; empty: the base config's ratio
	Q        []string  // q of augmented for "p" entries (a data set may give its own)
	Seed     []int64   // empty: the base config's seed
	Gradient []string  // gradient semantics; empty: the base config's
	Dataset  []Dataset // empty: the base config's data set
	Keys     []KeyAxis // any other run config keys, crossed in this order
}

// Dataset is one value of the dataset axis: a data set with its own
// overrides, and optionally its own base config and augmented q.
type Dataset struct {
	Label string   // names the data set in run names and tables; default: Name, else the base config's dataset.name
	Name  string   // sets dataset.name when not empty
	Path  string   // sets dataset.path when not empty (relative to the directory dropexp starts in, as in run configs)
	Base  string   // run config replacing the sweep's base for this data set (made absolute by ReadSpec)
	Set   []string // further overrides
	Q     []string // replaces axes.q for this data set
}

// The keys a sweep file allows at each level, in the order the errors list them.
var (
	topKeys     = []string{"name", "base", "set", "axes"}
	axesKeys    = []string{"variant", "ratio", "q", "seed", "gradient", "dataset"}
	datasetKeys = []string{"label", "name", "path", "base", "set", "q"}
)

// ReadSpec reads and checks the sweep config file. Relative base paths are
// resolved against the file's directory.
func ReadSpec(file string) (*Spec, error) {
	data, err := dataset.ReadSmall("sweep", file, config.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return ParseSpec(file, data)
}

// ParseSpec parses the contents of the sweep config file (file names it in
// errors and anchors relative base paths).
func ParseSpec(file string, data []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p := &specParser{file: file}
	s := &Spec{File: file}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty sweep config; it needs at least base: and axes: (see configs/sweeps/table1.yaml)", file)
	}
	top := p.mapping(doc.Content[0], "", topKeys)
	s.Name = p.scalar(top["name"], "name")
	if n := top["name"]; n != nil && !dirName(s.Name) {
		// The name becomes the default sweep directory results/NAME, the
		// report's label and the job files' names: a path there would
		// write outside results/, markup or a newline would reach them.
		p.errorf(n, "name", "%q is not a single directory name of letters, digits, '-', '_' or '.' (use --out DIR to choose where the sweep goes)", s.Name)
	}
	s.Base = p.scalar(top["base"], "base")
	s.Set = p.sets(top["set"], "set")
	if n := top["axes"]; n == nil {
		p.errorf(doc.Content[0], "axes", "missing; list the axes to sweep, e.g. axes: {variant: [plain, standard], ratio: [0.3]} (an axis left out takes the base config's value)")
	} else {
		ax := p.axesMapping(n, &s.Axes)
		s.Axes.Variant = p.list(ax["variant"], "axes.variant")
		s.Axes.Ratio = p.list(ax["ratio"], "axes.ratio")
		s.Axes.Q = p.list(ax["q"], "axes.q")
		s.Axes.Gradient = p.list(ax["gradient"], "axes.gradient")
		for i, v := range p.list(ax["seed"], "axes.seed") {
			seed, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				p.errorf(ax["seed"].Content[i], fmt.Sprintf("axes.seed[%d]", i), "%q is not an integer", v)
			}
			s.Axes.Seed = append(s.Axes.Seed, seed)
		}
		if n := ax["dataset"]; n != nil {
			if n.Kind != yaml.SequenceNode {
				p.errorf(n, "axes.dataset", "expected a list of data sets (names, or mappings with keys %s)", strings.Join(datasetKeys, ", "))
			} else {
				for i, item := range n.Content {
					s.Axes.Dataset = append(s.Axes.Dataset, p.dataset(item, fmt.Sprintf("axes.dataset[%d]", i)))
				}
			}
		}
	}
	if s.Name == "" {
		s.Name = safeName(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	}
	if s.Base == "" && !allHaveBase(s.Axes.Dataset) {
		p.errorf(doc.Content[0], "base", "missing; name the run config every run starts from (relative to this file), e.g. base: ../convnet-quick-cifar10.yaml")
	}
	dir := filepath.Dir(file)
	s.Base = anchor(dir, s.Base)
	for i := range s.Axes.Dataset {
		s.Axes.Dataset[i].Base = anchor(dir, s.Axes.Dataset[i].Base)
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// axesMapping parses the axes: the named ones into ax's fields (returned
// by key, as mapping returns them), any other run config key into ax.Keys.
func (p *specParser) axesMapping(n *yaml.Node, ax *Axes) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "axes", "expected a mapping with keys %s, or run config keys", strings.Join(axesKeys, ", "))
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		k := kn.Value
		if a, ok := aliases[k]; ok {
			k = a
		}
		if slices.Contains(axesKeys, k) {
			if _, dup := m[k]; dup {
				p.errorf(kn, "axes."+kn.Value, "axis %s is given twice (as %s and as %s: keep one)", k, k, aliases2(k))
				continue
			}
			m[k] = v
			continue
		}
		if err := axisKey(k); err != nil {
			p.errorf(kn, "axes."+k, "%v", err)
			continue
		}
		if slices.ContainsFunc(ax.Keys, func(a KeyAxis) bool { return a.Key == k }) {
			p.errorf(kn, "axes."+k, "listed twice")
			continue
		}
		ax.Keys = append(ax.Keys, KeyAxis{Key: k, Values: p.keyAxisValues(v, "axes."+k), From: fmt.Sprintf("%s:%d: axes.%s", p.file, kn.Line, k)})
	}
	return m
}

// aliases2 returns the run config key that names axis a too.
func aliases2(a string) string {
	for k, v := range aliases {
		if v == a {
			return k
		}
	}
	return a
}

// allHaveBase reports whether every data set brings its own base config (and there is at least one).
func allHaveBase(ds []Dataset) bool {
	return len(ds) > 0 && !slices.ContainsFunc(ds, func(d Dataset) bool { return d.Base == "" })
}

// anchor resolves a path written in the sweep file against the file's directory.
func anchor(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// specParser walks the YAML tree, collecting every problem with its line.
type specParser struct {
	file string
	errs []error
}

func (p *specParser) errorf(n *yaml.Node, key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.file, n.Line, key, fmt.Sprintf(format, args...)))
}

// mapping returns the values of mapping node n by key, reporting keys not in allowed.
func (p *specParser) mapping(n *yaml.Node, at string, allowed []string) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, orTop(at), "expected a mapping with keys %s", strings.Join(allowed, ", "))
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !slices.Contains(allowed, k) {
			where := "top-level keys"
			if at != "" {
				where = "keys under " + at
			}
			p.errorf(n.Content[i], join(at, k), "unknown key%s; %s: %s", suggest(k, allowed), where, strings.Join(allowed, ", "))
			continue
		}
		m[k] = n.Content[i+1]
	}
	return m
}

func orTop(at string) string {
	if at == "" {
		return "sweep config"
	}
	return at
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

// suggest returns " (did you mean X?)" for the allowed key closest to k, if any is close.
func suggest(k string, allowed []string) string {
	for _, a := range allowed {
		if strings.HasPrefix(a, k) || strings.HasPrefix(k, a) || typo.Distance(a, k) <= 2 {
			return " (did you mean " + a + "?)"
		}
	}
	return ""
}

// scalar returns the text of scalar node n ("" if n is nil).
func (p *specParser) scalar(n *yaml.Node, key string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, key, "expected a single value")
		return ""
	}
	return n.Value
}

// list returns the texts of a list of scalars; a single scalar is a list of one.
func (p *specParser) list(n *yaml.Node, key string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, key, "expected a list of values, e.g. [a, b]")
		return nil
	}
	var out []string
	for i, item := range n.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			p.errorf(item, fmt.Sprintf("%s[%d]", key, i), "expected a single value")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// sets turns a mapping of dotted run config keys to values into --set strings.
func (p *specParser) sets(n *yaml.Node, key string) []string {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, key, "expected a mapping of run config keys to values, e.g. {train.iterations: 100, dataset.train_limit: 1000}")
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value+"="+valueText(n.Content[i+1]))
	}
	return out
}

// valueText writes a YAML value the way --set reads it: scalars verbatim (so
// "0.30" stays "0.30"), lists and mappings in flow style (a block list would
// be read as one comma-separated string).
func valueText(v *yaml.Node) string {
	if v.Kind == yaml.ScalarNode {
		if v.Tag == "!!null" {
			return ""
		}
		return v.Value
	}
	c := *v
	c.Style = yaml.FlowStyle
	out, err := yaml.Marshal(&c)
	if err != nil {
		return v.Value
	}
	return strings.TrimSpace(string(out))
}

// dataset parses one value of the dataset axis: a name, or a mapping.
func (p *specParser) dataset(n *yaml.Node, at string) Dataset {
	if n.Kind == yaml.ScalarNode {
		return Dataset{Name: n.Value}
	}
	m := p.mapping(n, at, datasetKeys)
	d := Dataset{
		Label: p.scalar(m["label"], at+".label"),
		Name:  p.scalar(m["name"], at+".name"),
		Path:  p.scalar(m["path"], at+".path"),
		Base:  p.scalar(m["base"], at+".base"),
		Set:   p.sets(m["set"], at+".set"),
		Q:     p.list(m["q"], at+".q"),
	}
	if d.Label != "" && !dirName(d.Label) {
		p.errorf(m["label"], at+".label", "%q: a label goes into run directory names; use letters, digits, '-', '_' or '.'", d.Label)
	}
	return d
}

// dirName reports whether s can be one directory name in a sweep's or a
// run's path as the messages promise: ASCII letters, digits, '-', '_' and
// '.', and not "." or "..".
func dirName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	return safeName(s) == s
}

// safeName is s with every character dirName refuses as '_', for the
// names dropexp makes of file names.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
	if s == "." || s == ".." {
		return "_"
	}
	return s
}
