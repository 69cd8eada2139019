package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/dataset"
)

// override is one key set by an environment variable or a --set flag.
type override struct {
	source string // the variable or flag, for error messages
	key    string // a leaf key
	value  any    // as YAML would decode it
}

// Load resolves a run configuration from, in rising precedence: Defaults; the
// YAML file (the embedded demo config if file is ""); the DROPEXP_<KEY>
// entries of env (KEY is the dotted key upper-cased with dots as underscores;
// pass os.Environ()); and sets, each "key=value" with value in YAML
// ("dropout.sites=conv2,ip1" also works). It validates the result. Unknown
// keys and ill-typed values are errors naming their source, and all problems
// of one stage are reported together.
func Load(file string, sets []string, env []string) (Run, error) {
	source, data, err := readConfig(file)
	if err != nil {
		return Run{}, err
	}
	fileMap, errs := parseFile(source, data)
	envs, envErrs := parseEnv(env)
	setOvs, setErrs := parseSets(sets)
	errs = append(append(errs, envErrs...), setErrs...)
	if len(errs) > 0 {
		return Run{}, errors.Join(errs...)
	}

	// Each layer was checked on its own above, where its source is known;
	// viper only merges layers that are already known to be well formed.
	v := viper.New()
	defaults := map[string]any{}
	leafValues(reflect.ValueOf(Defaults()), "", defaults)
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	if err := v.MergeConfigMap(fileMap); err != nil {
		return Run{}, fmt.Errorf("%s: %w", source, err)
	}
	for _, o := range append(envs, setOvs...) {
		v.Set(o.key, o.value)
	}
	var r Run
	if err := v.UnmarshalExact(&r, decoderOptions); err != nil {
		return Run{}, fmt.Errorf("config: merging %s, environment and --set: %w", source, err)
	}
	// Empty lists decode as nil or as [] depending on the layer they came from;
	// one spelling keeps YAML round trips and comparisons exact.
	if len(r.Dropout.Sites) == 0 {
		r.Dropout.Sites = nil
	}
	if len(r.Train.LRSteps) == 0 {
		r.Train.LRSteps = nil
	}
	if probs := r.problems(); len(probs) > 0 {
		origins := setBy(fileMap, append(envs, setOvs...))
		errs := make([]error, len(probs))
		for i, p := range probs {
			errs[i] = fmt.Errorf("%w (%s)", p, origin(origins, source, p.leaf()))
		}
		return Run{}, errors.Join(errs...)
	}
	// A plain run drops nothing, whatever ratio the file carried: one
	// spelling makes equal runs compare equal (sweeps, --resume).
	if r.Dropout.Variant == "plain" {
		r.Dropout.Ratio = ""
	}
	// Likewise the draws of diagnostics that are off.
	if r.Diagnostics.Every == 0 {
		r.Diagnostics.Draws = DefaultDiagnosticDraws
	}
	return r, nil
}

// setBy maps every leaf key that the file or an override set to where its
// value came from: the last override that set it, else the file ("").
func setBy(fileMap map[string]any, ovs []override) map[string]string {
	by := map[string]string{}
	for _, k := range sortedKeys(fileMap) {
		ft, _ := fieldType(reflect.TypeFor[Run](), k)
		flatten(k, fileMap[k], ft, func(leaf string, _ any) { by[leaf] = "" })
	}
	for _, o := range ovs {
		by[o.key] = o.source
	}
	return by
}

// origin says where the value of key came from, or how to set it when no
// layer did, for the message of a problem Validate found after merging.
func origin(by map[string]string, file, key string) string {
	src, ok := by[key]
	switch {
	case ok && src == "":
		return "in " + file
	case ok:
		return "from " + src
	case strings.HasPrefix(file, "embedded "):
		return fmt.Sprintf("not set; give it with --set %s=VALUE or in a --config file", key)
	}
	return fmt.Sprintf("not set; add it to %s or give --set %s=VALUE", file, key)
}

// MaxFileBytes is the largest config file read: a run or sweep config is
// a few kB, and a bigger file is not one (or would take the memory).
const MaxFileBytes = 4 << 20

// readConfig returns the file's name for messages and its contents.
func readConfig(file string) (string, []byte, error) {
	if file == "" {
		data, err := embeddedDemo()
		if err != nil {
			return "", nil, fmt.Errorf("config: embedded %s: %w", demoFile, err)
		}
		return "embedded configs/" + demoFile, data, nil
	}
	data, err := dataset.ReadSmall("config", file, MaxFileBytes)
	if err != nil {
		return "", nil, err
	}
	return file, data, nil
}

// parseFile decodes a YAML config and checks its keys and value types.
func parseFile(source string, data []byte) (map[string]any, []error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", source, err)}
	}
	if m == nil {
		m = map[string]any{}
	}
	if errs := checkTree(source, "", m, reflect.TypeFor[Run]()); len(errs) > 0 {
		return nil, errs
	}
	normalize(m, reflect.TypeFor[Run]())
	return m, nil
}

// checkTree checks the mapping m found at section prefix of struct type t.
func checkTree(source, prefix string, m map[string]any, t reflect.Type) []error {
	var errs []error
	for _, name := range sortedKeys(m) {
		key := joinKey(prefix, name)
		ft, ok := fieldType(t, name)
		if !ok {
			errs = append(errs, unknownKey(source, key, prefix, t))
			continue
		}
		errs = append(errs, checkValue(source, key, m[name], ft)...)
	}
	return errs
}

// checkValue checks that v can be decoded into a key of type t.
func checkValue(source, key string, v any, t reflect.Type) []error {
	typeErr := func(detail string) []error {
		msg := fmt.Sprintf("%s: %s: expected %s, got %s", source, key, describeType(t), describeValue(v))
		if detail != "" {
			msg += " (" + detail + ")"
		}
		return []error{errors.New(msg)}
	}
	if v == nil {
		// An empty list or section is a natural way to write "none"; an
		// empty scalar is more likely a value forgotten.
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Struct {
			return nil
		}
		return typeErr("")
	}
	switch {
	case t.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return typeErr("")
		}
		return checkTree(source, key, m, t)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		items, ok := v.([]any)
		if !ok {
			return typeErr("")
		}
		var errs []error
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return typeErr(fmt.Sprintf("item %d is %s", i, describeValue(it)))
			}
			errs = append(errs, checkTree(source, fmt.Sprintf("%s[%d]", key, i), m, t.Elem())...)
		}
		return errs
	}
	if r := intRange(v, t); r != "" {
		// Before decoding, which wraps a uint64 past the int64 range around.
		return typeErr(r)
	}
	if err := decodeStrict(v, reflect.New(t).Interface()); err != nil {
		detail := ""
		if strings.Contains(err.Error(), "is not an integer") {
			detail = "not a whole number"
		}
		return typeErr(detail)
	}
	return nil
}

// intRange says "out of range: MIN..MAX" when v is a whole number that a
// signed integer key of type t cannot hold, else "".
func intRange(v any, t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	default:
		return ""
	}
	bits := t.Bits()
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	out := false
	switch x := v.(type) {
	case int:
		out = int64(x) < lo || int64(x) > hi
	case int64:
		out = x < lo || x > hi
	case uint64:
		out = x > uint64(hi)
	case float64:
		// YAML reads integers past uint64 as floats; 2^(bits-1) is exact in a float64.
		out = x == math.Trunc(x) && (x >= -float64(lo) || x < float64(lo))
	}
	if !out {
		return ""
	}
	return fmt.Sprintf("out of range: %d..%d", lo, hi)
}

// unknownKey reports key, unknown in section (of struct type t), with the
// nearest allowed key and the keys the section does allow.
func unknownKey(source, key, section string, t reflect.Type) error {
	candidates := allKeys(reflect.TypeFor[Run](), "")
	if strings.Contains(section, "[") {
		// inside a list item such as train.lr_steps[0]: only its own fields
		candidates = childKeys(t, section)
	}
	last := key[strings.LastIndex(key, ".")+1:]
	msg := fmt.Sprintf("%s: unknown key %q", source, key)
	if s := closest(key, last, candidates, func(k string) string { return k }); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	if section == "" {
		msg += "; top-level keys: " + strings.Join(childKeys(t, ""), ", ")
	} else {
		msg += fmt.Sprintf("; keys under %s: %s", section, strings.Join(childKeys(t, section), ", "))
	}
	return errors.New(msg)
}

// parseEnv picks the DROPEXP_ entries out of env ("NAME=value" strings).
func parseEnv(env []string) ([]override, []error) {
	byVar := map[string]string{}
	for _, k := range Keys() {
		byVar[EnvVar(k)] = k
	}
	var ovs []override
	var errs []error
	seen := map[string]bool{}
	for _, e := range env {
		name, raw, _ := strings.Cut(e, "=")
		if !strings.HasPrefix(name, EnvPrefix) || seen[name] {
			continue
		}
		// The first entry wins, as with os.Getenv.
		seen[name] = true
		source := "environment variable " + name
		key, ok := byVar[name]
		if !ok {
			errs = append(errs, unknownEnv(source, name))
			continue
		}
		o, oerrs := parseOverride(source, key, raw)
		errs = append(errs, oerrs...)
		ovs = append(ovs, o...)
	}
	return ovs, errs
}

// unknownEnv reports an environment variable that names no key.
func unknownEnv(source, name string) error {
	suffix := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
	keys := Keys()
	envForm := func(k string) string { return strings.ReplaceAll(k, ".", "_") }
	msg := source + ": no such key"
	if s := closest(suffix, suffix, keys, envForm); s != "" {
		msg += fmt.Sprintf(" (did you mean %s, for %s?)", EnvVar(s), s)
	}
	// Underscores join both sections and words, so guess the section from
	// the longest section name the variable starts with.
	section := ""
	for _, s := range childKeys(reflect.TypeFor[Run](), "") {
		if t, _, _ := resolve(s); t.Kind() == reflect.Struct && strings.HasPrefix(suffix, s+"_") {
			section = s
		}
	}
	var names []string
	for _, k := range keys {
		if section == "" || strings.HasPrefix(k, section+".") {
			names = append(names, EnvVar(k))
		}
	}
	if section == "" {
		msg += "; allowed: " + strings.Join(names, ", ")
	} else {
		msg += fmt.Sprintf("; allowed under %s: %s", section, strings.Join(names, ", "))
	}
	return errors.New(msg)
}

// parseSets parses --set arguments, each "key=value".
func parseSets(sets []string) ([]override, []error) {
	var ovs []override
	var errs []error
	for _, s := range sets {
		source := "--set " + s
		key, raw, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("%s: want key=value, e.g. dropout.ratio=0.3", source))
			continue
		}
		if t, section, found := resolve(key); !found {
			errs = append(errs, unknownKey(source, key, section, t))
			continue
		}
		o, oerrs := parseOverride(source, key, raw)
		errs = append(errs, oerrs...)
		ovs = append(ovs, o...)
	}
	return ovs, errs
}

// parseOverride reads raw as the value of key and flattens it into leaf
// overrides (a whole section may be set as a YAML mapping).
func parseOverride(source, key, raw string) ([]override, []error) {
	t, _, _ := resolve(key)
	var v any
	switch {
	case t.Kind() == reflect.String:
		// Taken verbatim: YAML would turn "0.30" into 0.3 and "null" into nothing.
		v = raw
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String && !strings.HasPrefix(strings.TrimSpace(raw), "["):
		items := []any{}
		if strings.TrimSpace(raw) != "" {
			// Empty items are kept so Validate can point at "conv2,,ip1".
			for s := range strings.SplitSeq(raw, ",") {
				items = append(items, strings.TrimSpace(s))
			}
		}
		v = items
	default:
		if err := yaml.Unmarshal([]byte(raw), &v); err != nil {
			return nil, []error{fmt.Errorf("%s: %s: value is not valid YAML (expected %s): %w", source, key, describeType(t), err)}
		}
	}
	if errs := checkValue(source, key, v, t); len(errs) > 0 {
		return nil, errs
	}
	var ovs []override
	flatten(key, v, t, func(k string, leaf any) { ovs = append(ovs, override{source, k, leaf}) })
	return ovs, nil
}

// flatten calls leaf for every leaf key under the checked value v of type t
// at key, turning YAML's nothing into an empty list (the only leaves
// checkValue lets be empty) and an empty section into no keys at all.
func flatten(key string, v any, t reflect.Type, leaf func(string, any)) {
	if t.Kind() != reflect.Struct {
		if v == nil {
			v = []any{}
		}
		leaf(key, v)
		return
	}
	m, _ := v.(map[string]any)
	for _, k := range sortedKeys(m) {
		ft, _ := fieldType(t, k)
		flatten(joinKey(key, k), m[k], ft, leaf)
	}
}

// normalize rewrites the checked mapping m of struct type t the way flatten
// does, so viper never sees a section that is nil (it would shadow the
// section's defaults) or a list that is nil.
func normalize(m map[string]any, t reflect.Type) {
	for k, v := range m {
		ft, _ := fieldType(t, k)
		switch {
		case ft.Kind() == reflect.Struct && v == nil:
			delete(m, k)
		case ft.Kind() == reflect.Struct:
			normalize(v.(map[string]any), ft)
		case v == nil:
			m[k] = []any{}
		}
	}
}
