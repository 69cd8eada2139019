package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/schedule"
)

// A run's identity says which computation it is: two runs with one
// identity produce the same numbers, so a finished run of an identity need
// not be trained again and an interrupted one can be resumed by any command
// that asks for the same run. It is the SHA-256 (hex) of IdentityText
// followed by the line "data: FINGERPRINT", the fingerprint of the loaded
// data (dataset.Fingerprint); see Identity.
//
// The format is frozen: finished runs are skipped by the identity they
// recorded, so changing the text of a config that already exists would make
// every finished run look new. TestIdentityIsStable pins it.

// IdentityVersion is the first line of IdentityText; it changes only if the
// format must (which makes every earlier run a different identity).
const IdentityVersion = "dropexp run identity 1"

// The keys of experiment.NotIdentity change where a run is written, how
// fast it goes or how often it is saved, not what it computes: they are
// left out of the identity.

// identityNeutral holds, for keys added to Run after IdentityVersion was
// frozen whose default is not their type's zero value, the value that does
// what runs did before the key existed: like a zero value it is left out of
// IdentityText, so those runs keep their identity. (A key whose zero value
// is the old behaviour needs no entry.)
var identityNeutral = map[string]string{
	"train.lr_schedule": `"step"`,
}

// IdentityText returns the canonical text of everything in r that can change
// a run's numbers: one "key: value" line per leaf key in the order of the
// Run struct, leaving out the keys of experiment.NotIdentity and every key whose value
// is its type's zero value (so a key added later with a zero default leaves
// the text of older runs alone). The ratio is written in its canonical
// spelling (0.30 -> 0.3) and a plain run has none.
//
// The sites are written as the set they are: the model's default sites
// when the list is empty, sorted. The runs of every config written before
// (sites listed in sorted order, as every shipped config does) keep their
// text; a run recorded with its sites spelled otherwise is recognised by
// Identities.
func (r Run) IdentityText() string {
	r.Dropout.Sites = r.canonicalSites()
	return r.spelledIdentityText()
}

// spelledIdentityText is IdentityText with the sites as written, the text
// of runs recorded before sites were canonical.
func (r Run) spelledIdentityText() string {
	r.Dropout.Ratio = r.canonicalRatio()
	var b strings.Builder
	b.WriteString(IdentityVersion + "\n")
	identityLines(&b, reflect.ValueOf(r), "")
	return b.String()
}

// Identity returns the identity of r trained on data whose fingerprint is
// dataFingerprint (hex, from dataset.Fingerprint): the hex SHA-256 of
// IdentityText and a last line "data: " + dataFingerprint.
func (r Run) Identity(dataFingerprint string) string {
	return identityOf(r.IdentityText(), dataFingerprint)
}

// Identities returns r's identity on data of fingerprint dataFingerprint
// and, when r's sites are not spelled canonically (empty for the default,
// or unsorted), the identity a run of r recorded before they were: a run
// directory that holds either holds r's run, the first being the one new
// runs record.
func (r Run) Identities(dataFingerprint string) []string {
	ids := []string{r.Identity(dataFingerprint)}
	if old := identityOf(r.spelledIdentityText(), dataFingerprint); old != ids[0] {
		ids = append(ids, old)
	}
	return ids
}

// IdentityTextOf returns the identity text whose identity on
// dataFingerprint is id, of those Identities returns; "" for none.
func (r Run) IdentityTextOf(id, dataFingerprint string) string {
	for _, text := range []string{r.IdentityText(), r.spelledIdentityText()} {
		if identityOf(text, dataFingerprint) == id {
			return text
		}
	}
	return ""
}

func identityOf(text, dataFingerprint string) string {
	sum := sha256.Sum256([]byte(text + "data: " + dataFingerprint + "\n"))
	return hex.EncodeToString(sum[:])
}

// canonicalSites returns the sites as a set: the model's default sites
// for an empty list, sorted. (A set written otherwise, e.g. as a pattern
// where a list was, is another spelling and another identity.)
func (r Run) canonicalSites() []string {
	sites := r.Dropout.Sites
	if len(sites) == 0 {
		net, err := experiment.LookupNetwork(r.Model)
		if err != nil {
			return nil
		}
		sites = net.DefaultSites
	}
	sites = slices.Clone(sites)
	slices.Sort(sites)
	return sites
}

// IdentityYAML returns r's YAML without the keys that are not part of its
// identity, for showing how two runs differ.
func (r Run) IdentityYAML() ([]byte, error) {
	for _, k := range experiment.NotIdentity {
		zeroKey(reflect.ValueOf(&r).Elem(), k)
	}
	r.Dropout.Ratio = r.canonicalRatio()
	r.Dropout.Sites = r.canonicalSites()
	if r.Train.LRSchedule == "" {
		// Written before the key existed: the same schedule, so no difference to show.
		r.Train.LRSchedule = string(schedule.Step)
	}
	return r.YAML()
}

// zeroKey sets the leaf of v (a struct) at the dotted key to its zero
// value; a key v does not have is left alone (TestNotIdentityKeysExist).
func zeroKey(v reflect.Value, key string) {
	name, rest, nested := strings.Cut(key, ".")
	for i := range v.NumField() {
		if tagName(v.Type().Field(i)) != name {
			continue
		}
		f := v.Field(i)
		if nested {
			zeroKey(f, rest)
		} else {
			f.SetZero()
		}
		return
	}
}

// canonicalRatio returns dropout.ratio as Validate's parser spells it, none
// for plain, and the text as written when it does not parse (a run
// directory's config is read without validation).
func (r Run) canonicalRatio() string {
	v, err := experiment.ParseVariant(r.Dropout.Variant)
	if err != nil {
		return r.Dropout.Ratio
	}
	if v == experiment.Plain {
		return ""
	}
	p, err := experiment.ParseRatio(v, r.Dropout.Ratio)
	if err != nil {
		return r.Dropout.Ratio
	}
	return p.String()
}

func identityLines(b *strings.Builder, v reflect.Value, prefix string) {
	t := v.Type()
	for i := range t.NumField() {
		key := joinKey(prefix, tagName(t.Field(i)))
		f := v.Field(i)
		if slices.Contains(experiment.NotIdentity[:], key) {
			continue
		}
		if f.Kind() == reflect.Struct {
			identityLines(b, f, key)
			continue
		}
		if f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
			continue
		}
		val := identityValue(f)
		if n, ok := identityNeutral[key]; ok && n == val {
			continue
		}
		fmt.Fprintf(b, "%s: %s\n", key, val)
	}
}

// identityValue writes one value canonically: numbers in the shortest form
// that reads back the same, strings quoted, lists in brackets, struct
// fields in declaration order.
func identityValue(v reflect.Value) string { return spelling{quote: true}.value(v) }

// spelling is how identityValue and settingValue write a value: they
// differ only in quoting strings and in the order of a struct's fields.
type spelling struct {
	quote      bool // strings quoted (the identity) or as they are (settings)
	sortFields bool // a struct's fields sorted (settings) or in declaration order (the identity)
}

func (sp spelling) value(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if sp.quote {
			return strconv.QuoteToASCII(v.String())
		}
		return v.String()
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = sp.value(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case reflect.Struct:
		t := v.Type()
		fields := make([]string, t.NumField())
		for i := range fields {
			fields[i] = tagName(t.Field(i)) + ": " + sp.value(v.Field(i))
		}
		if sp.sortFields {
			slices.Sort(fields)
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	panic(fmt.Sprintf("config: a %s value has no spelling; give the new key's type one in spelling.value", v.Kind()))
}

// Decode reads a config.yaml that a run wrote (the resolved config) as
// written, without defaults or validation, so a run directory stays
// readable when the rules change. Keys this dropexp does not know are an
// error.
func Decode(data []byte) (Run, error) {
	var r Run
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return Run{}, err
	}
	return r, nil
}
