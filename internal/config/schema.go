package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dropexp/dropexp/internal/typo"
	"github.com/go-viper/mapstructure/v2"
)

// The key schema is read off the Run struct's mapstructure tags, so adding a
// field is the only step needed to make a new key loadable, listed and checked.

// tagName returns the key of struct field f.
func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	return name
}

// fieldType returns the type of the field of struct type t whose key is name.
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); tagName(f) == name {
			return f.Type, true
		}
	}
	return nil, false
}

// joinKey appends name to the dotted prefix.
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// childKeys returns the keys directly under struct type t, prefixed.
func childKeys(t reflect.Type, prefix string) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		keys = append(keys, joinKey(prefix, tagName(t.Field(i))))
	}
	return keys
}

// leafKeys returns the keys of all non-section fields under t, in field order.
func leafKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		k := joinKey(prefix, tagName(f))
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, leafKeys(f.Type, k)...)
		} else {
			keys = append(keys, k)
		}
	}
	return keys
}

// allKeys returns sections and leaves under t: the candidates for "did you mean".
func allKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		k := joinKey(prefix, tagName(f))
		keys = append(keys, k)
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, allKeys(f.Type, k)...)
		}
	}
	return keys
}

// resolve returns the type of the dotted key in Run, and the deepest section
// that exists on the way (for listing the keys there when key does not).
func resolve(key string) (t reflect.Type, section string, ok bool) {
	t = reflect.TypeFor[Run]()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		ft, found := fieldType(t, p)
		if !found {
			return t, strings.Join(parts[:i], "."), false
		}
		if i < len(parts)-1 && ft.Kind() != reflect.Struct {
			return t, strings.Join(parts[:i], "."), false
		}
		t = ft
	}
	return t, strings.Join(parts[:len(parts)-1], "."), true
}

// leafValues flattens v into dotted key -> Go value, for viper's default layer.
func leafValues(v reflect.Value, prefix string, out map[string]any) {
	t := v.Type()
	for i := range t.NumField() {
		k := joinKey(prefix, tagName(t.Field(i)))
		if t.Field(i).Type.Kind() == reflect.Struct {
			leafValues(v.Field(i), k, out)
			continue
		}
		out[k] = v.Field(i).Interface()
	}
}

// describeType names what a key of type t accepts, for error messages.
func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(childKeys(t, ""), ", ")
	case reflect.Slice:
		switch {
		case t.Elem().Kind() == reflect.String:
			return "a list of strings (or a comma-separated string)"
		case t.Elem() == reflect.TypeFor[LRStep]():
			return "a list of {at: ITERATION, lr: RATE}"
		}
	}
	return t.String()
}

// describeValue shows a decoded YAML value the way the user wrote it.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(x)
	case bool:
		return fmt.Sprintf("%v (a boolean)", x)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}

// decoderOptions makes decoding strict: viper's default is weakly typed, which
// would read `iterations: true` as 1 and `iterations: 1.5` as 1.
func decoderOptions(c *mapstructure.DecoderConfig) {
	c.WeaklyTypedInput = false
	c.DecodeHook = mapstructure.ComposeDecodeHookFunc(
		mapstructure.DecodeHookFuncType(numberToString),
		mapstructure.DecodeHookFuncType(floatToInt),
	)
}

// decodeStrict decodes in into out with the same rules viper's final decode uses.
func decodeStrict(in, out any) error {
	c := &mapstructure.DecoderConfig{Result: out, ErrorUnused: true}
	decoderOptions(c)
	d, err := mapstructure.NewDecoder(c)
	if err != nil {
		return err
	}
	return d.Decode(in)
}

// numberToString lets YAML numbers fill string keys: `ratio: 0.3` is the
// natural spelling, although the ratio is kept as text to allow "p/q".
func numberToString(_, to reflect.Type, data any) (any, error) {
	if to.Kind() != reflect.String {
		return data, nil
	}
	switch x := data.(type) {
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return data, nil
}

// floatToInt accepts 5e3 for an integer key but refuses 1.5, which
// mapstructure would silently truncate.
func floatToInt(_, to reflect.Type, data any) (any, error) {
	if k := to.Kind(); k != reflect.Int && k != reflect.Int64 {
		return data, nil
	}
	x, ok := data.(float64)
	if !ok {
		return data, nil
	}
	if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
		return nil, fmt.Errorf("%v is not an integer", x)
	}
	return int64(x), nil
}

// closest returns the key nearest to bad, or "" when none is near enough to
// be a plausible typo. badLast is bad's last segment; name maps a dotted key to
// the spelling bad uses (identity for keys, env var form for variables).
func closest(bad, badLast string, keys []string, name func(string) string) string {
	bad, badLast = strings.ToLower(bad), strings.ToLower(badLast)
	best, bestD, bestFull := "", math.MaxInt, math.MaxInt
	for _, k := range keys {
		last := k[strings.LastIndex(k, ".")+1:]
		full := typo.Distance(bad, name(k))
		d := min(full, typo.Distance(badLast, last))
		if len(badLast) >= 3 && strings.HasPrefix(last, badLast) {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && full < bestFull) {
			best, bestD, bestFull = k, d, full
		}
	}
	if bestD > min(max(1, len(badLast)/3), 3) {
		return ""
	}
	return best
}

// sortedKeys returns m's keys in order, so messages come out deterministically.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
