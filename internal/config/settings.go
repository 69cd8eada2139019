package config

import (
	"bytes"
	"maps"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/experiment"
)

// DecodeRecorded reads a config.yaml a run wrote, as Decode does, over
// Defaults: a key an older dropexp did not write takes the built-in value,
// which is what that dropexp used. Keys this dropexp does not know are an
// error.
func DecodeRecorded(data []byte) (Run, error) {
	r := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return Run{}, err
	}
	return r, nil
}

// Settings returns r as dotted leaf keys and their values in one spelling
// (numbers in their shortest form, lists in brackets, structs as
// {key: value} in key order, the ratio canonical), for telling runs apart
// and showing how they differ. A section YAML leaves out when it is zero
// (diagnostics off) has no keys.
func (r Run) Settings() map[string]string {
	out := map[string]string{}
	settings(reflect.ValueOf(r), "", out)
	if v, ok := out["dropout.ratio"]; ok {
		if x, _, err := experiment.ParseAnyRatio(v); err == nil {
			out["dropout.ratio"] = x.String()
		}
	}
	return out
}

// ComputationSettings returns the settings that decide what r computes:
// Settings less experiment.NotIdentity and, for a variant that drops
// nothing, less the ratio, gradient rule and sites it ignores. Runs that
// agree in them and in their data are the same run but for anything the
// seed decides. (IdentityText, whose format is frozen, keeps a plain
// run's gradient and sites.)
func (r Run) ComputationSettings() map[string]string {
	return Computation(r.Settings())
}

// Computation returns settings (as Settings spells them, possibly only
// some keys) less experiment.NotIdentity and, when dropout.variant drops
// nothing, less the ratio, gradient rule and sites it ignores.
func Computation(settings map[string]string) map[string]string {
	s := maps.Clone(settings)
	for _, k := range experiment.NotIdentity {
		delete(s, k)
	}
	if experiment.Variant(s["dropout.variant"]).Form() == experiment.NoRatio {
		for _, k := range []string{"dropout.ratio", "dropout.gradient", "dropout.sites"} {
			delete(s, k)
		}
	}
	return s
}

func settings(v reflect.Value, prefix string, out map[string]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		key := joinKey(prefix, tagName(t.Field(i)))
		if f.Kind() == reflect.Struct {
			if z, ok := f.Interface().(interface{ IsZero() bool }); ok && z.IsZero() && strings.Contains(t.Field(i).Tag.Get("yaml"), "omitempty") {
				continue
			}
			settings(f, key, out)
			continue
		}
		out[key] = settingValue(f)
	}
}

// settingValue spells one value for Settings: strings as they are, struct
// fields sorted.
func settingValue(v reflect.Value) string { return spelling{sortFields: true}.value(v) }
