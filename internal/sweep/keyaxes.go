package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/config"
)

// KeyAxis is an axis over any run config key beside the named ones
// (variant, ratio, q, seed, gradient, dataset): each value is set in its
// runs as --set KEY=VALUE sets it, and checked the same way.
type KeyAxis struct {
	Key    string   // dotted run config key, e.g. train.lr
	Values []string // each as --set KEY=VALUE takes it, e.g. 0.01 or [conv2, conv3]
	From   string   // where it was given, for messages: "FILE:LINE: axes.train.lr" or "--axis train.lr=0.001,0.01"
}

// AxisValue is the value one run takes on one KeyAxis.
type AxisValue struct {
	Key, Value string
}

// namedAxes are the axes with a meaning of their own, as --axis and the
// sweep file's axes spell them; aliases are the run config keys they own.
var (
	namedAxes = []string{"variant", "ratio", "q", "seed", "gradient", "dataset"}
	aliases   = map[string]string{"dropout.variant": "variant", "dropout.ratio": "ratio", "dropout.gradient": "gradient"}
)

// unsweepable are run config keys the sweep itself sets for every run.
var unsweepable = map[string]string{
	"out":     "the sweep's runs go to --out DIR/runs",
	"threads": "the sweep gives each run cores/jobs threads (set --jobs and --cores)",
}

// axisKey checks that key may be a KeyAxis and returns why not.
func axisKey(key string) error {
	if why, ok := unsweepable[key]; ok {
		return fmt.Errorf("%s cannot be swept: %s", key, why)
	}
	if !slices.Contains(config.Keys(), key) {
		return fmt.Errorf("unknown key %q%s; an axis is one of %s or a run config key (dropexp sweep --help lists them)",
			key, suggest(key, append(slices.Clone(namedAxes), config.Keys()...)), strings.Join(namedAxes, ", "))
	}
	return nil
}

// ParseAxisFlag reads an --axis argument KEY=V1,V2,...: the values are
// split at the commas outside brackets and braces, so a list value is
// written in brackets (dropout.sites=[conv2,conv3],[ip1]).
func ParseAxisFlag(arg string) (key string, values []string, err error) {
	key, raw, ok := strings.Cut(arg, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", nil, fmt.Errorf("--axis %s: want KEY=V1,V2,... e.g. --axis train.lr=0.001,0.01", arg)
	}
	depth, start := 0, 0
	for i, c := range raw {
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				values = append(values, strings.TrimSpace(raw[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return "", nil, fmt.Errorf("--axis %s: unbalanced brackets; write a list value as [a,b], e.g. --axis dropout.sites=[conv2,conv3],[ip1]", arg)
	}
	values = append(values, strings.TrimSpace(raw[start:]))
	for i, v := range values {
		if v == "" {
			return "", nil, fmt.Errorf("--axis %s: value %d is empty (for an empty list write [])", arg, i+1)
		}
	}
	return key, values, nil
}

// ApplyAxisFlags applies --axis arguments to ax: a named axis (or the run
// config key it owns, e.g. dropout.ratio) replaces that axis, a run config
// key replaces its axis or adds one.
func ApplyAxisFlags(ax *Axes, flags []string) error {
	var errs []string
	for _, f := range flags {
		key, values, err := ParseAxisFlag(f)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if a, ok := aliases[key]; ok {
			key = a
		}
		from := "--axis " + f
		switch key {
		case "variant":
			ax.Variant = values
		case "ratio":
			ax.Ratio = values
		case "q":
			ax.Q = values
		case "gradient":
			ax.Gradient = values
		case "seed":
			ax.Seed = nil
			for _, v := range values {
				seed, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: seed %q is not an integer", from, v))
				}
				ax.Seed = append(ax.Seed, seed)
			}
		case "dataset":
			ax.Dataset = nil
			for _, v := range values {
				ax.Dataset = append(ax.Dataset, Dataset{Name: v})
			}
		default:
			if err := axisKey(key); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", from, err))
				continue
			}
			k := KeyAxis{Key: key, Values: values, From: from}
			if i := slices.IndexFunc(ax.Keys, func(a KeyAxis) bool { return a.Key == key }); i >= 0 {
				ax.Keys[i] = k
			} else {
				ax.Keys = append(ax.Keys, k)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sweep: %s", strings.Join(errs, "\n"))
	}
	return nil
}

// keyAxisValues reads the values of a key axis in a sweep file: a list of
// values (a list or mapping value in flow style, as --set takes it), or
// a single value.
func (p *specParser) keyAxisValues(n *yaml.Node, key string) []string {
	if n.Kind != yaml.SequenceNode {
		return []string{valueText(n)}
	}
	var out []string
	for i, item := range n.Content {
		if item.Kind == yaml.ScalarNode && item.Tag == "!!null" {
			p.errorf(item, fmt.Sprintf("%s[%d]", key, i), "expected a value")
			continue
		}
		out = append(out, valueText(item))
	}
	if len(out) == 0 {
		p.errorf(n, key, "empty; list the values to sweep, e.g. [0.001, 0.01]")
	}
	return out
}

// crossKeys returns every combination of the key axes' values, the first
// axis outermost; one empty combination when there are none.
func crossKeys(axes []KeyAxis) [][]AxisValue {
	combos := [][]AxisValue{nil}
	for _, a := range axes {
		var next [][]AxisValue
		for _, c := range combos {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(c), AxisValue{a.Key, v}))
			}
		}
		combos = next
	}
	return combos
}

// plainIgnores are run config keys a plain run does not use: it drops
// nothing, so it runs with their first value only and its name leaves
// them out.
var plainIgnores = []string{"dropout.sites"}

// plainSkips reports whether a plain run at combination c would repeat
// the plain run of the first value of an axis that plain ignores.
func plainSkips(axes []KeyAxis, c []AxisValue) bool {
	for i, a := range axes {
		if slices.Contains(plainIgnores, a.Key) && c[i].Value != a.Values[0] {
			return true
		}
	}
	return false
}

// shortKeys names the swept keys in run names: the last part of the key
// (train.lr -> lr), a few by a clearer word, the whole key (dots as
// underscores) where two swept keys would share a short name.
func shortKeys(axes []KeyAxis) map[string]string {
	special := map[string]string{"dataset.name": "data", "dataset.path": "path", "diagnostics.every": "diag"}
	out := map[string]string{}
	count := map[string]int{}
	for _, a := range axes {
		s, ok := special[a.Key]
		if !ok {
			s = a.Key[strings.LastIndex(a.Key, ".")+1:]
		}
		out[a.Key] = s
		count[s]++
	}
	for k, s := range out {
		if count[s] > 1 {
			out[k] = strings.ReplaceAll(k, ".", "_")
		}
	}
	return out
}

// hexTail is what results takes for the identity suffix of a taken name;
// a value must not end a name looking like one.
var hexTail = regexp.MustCompile(`-[0-9a-f]{8}$`)

// maxNamePart bounds one key's part of a run name (names stay far below
// the 255 bytes file systems allow).
const maxNamePart = 48

// namePart spells one key's value in a run name, readable and safe as a
// file name on every system: lr0.01, batch_size50, sites-conv2+conv3,
// lr_steps-at100_lr0.01. A value too long for a name is cut and given 8
// hex digits of its hash, which keep the names of different values apart.
func namePart(short, value string) string {
	var v any
	if err := yaml.Unmarshal([]byte(value), &v); err != nil || v == nil {
		v = value
	}
	// A site pattern's * reads as "any" (*.conv2: any.conv2).
	text := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_', r == '+':
			return r
		}
		return '_'
	}, strings.ReplaceAll(nameValue(v), "*", "any"))
	text = strings.Trim(text, "_")
	if text == "" {
		text = "none"
	}
	if len(text) > maxNamePart {
		text = text[:maxNamePart-9] + "_" + shortHash(value)
	}
	part := short + text
	if !numeric(text) {
		part = short + "-" + text
	}
	if hexTail.MatchString(part) {
		part += "_"
	}
	return part
}

// nameValue renders a decoded YAML value for a name: list items joined by
// "+", a mapping's keys each followed by its value, joined by "_".
func nameValue(v any) string {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return "none"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = nameValue(e)
		}
		return strings.Join(parts, "+")
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, k+nameValue(x[k]))
		}
		return strings.Join(parts, "_")
	case string:
		// A comma-separated list, as --set takes one for dropout.sites.
		items := strings.Split(x, ",")
		for i := range items {
			items[i] = strings.TrimSpace(items[i])
		}
		return strings.Join(items, "+")
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// keyName returns the part of a run's name that its key-axis values add:
// "-lr0.01-batch_size50", or "" for none; a plain run leaves out the keys
// it ignores.
func keyName(axes []KeyAxis, short map[string]string, vals []AxisValue, plain bool) string {
	var b strings.Builder
	for i, v := range vals {
		if plain && slices.Contains(plainIgnores, axes[i].Key) {
			continue
		}
		b.WriteString("-" + namePart(short[v.Key], v.Value))
	}
	return b.String()
}

// defaultName names a sweep without a sweep file after its base config
// and its swept keys: demo-lr, convnet-quick-cifar10-lr-batch_size.
func defaultName(base string, ax Axes) string {
	name := "demo"
	if base != "" {
		name = safeName(strings.TrimSuffix(filepath.Base(base), filepath.Ext(base)))
	}
	short := shortKeys(ax.Keys)
	for _, a := range ax.Keys {
		name += "-" + short[a.Key]
	}
	for _, n := range []struct {
		axis string
		set  bool
	}{{"variant", len(ax.Variant) > 0}, {"ratio", len(ax.Ratio) > 0}, {"seed", len(ax.Seed) > 0}, {"gradient", len(ax.Gradient) > 0}} {
		if n.set && len(ax.Keys) == 0 {
			name += "-" + n.axis
		}
	}
	return name
}

// shortHash is 8 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// numeric reports whether a name's value text starts like a number (5,
// 0.01, .5, -2), which reads well right after its key: lr0.01.
func numeric(text string) bool {
	t := strings.TrimPrefix(strings.TrimPrefix(text, "-"), ".")
	return t != "" && t[0] >= '0' && t[0] <= '9'
}
