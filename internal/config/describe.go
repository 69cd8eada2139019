package config

import "reflect"

// Describe returns what key accepts, as error messages put it ("an
// integer", "a list of {at: ITERATION, lr: RATE}", "true or false"), or ""
// if key is not a settable key.
func Describe(key string) string {
	t, _, ok := resolve(key)
	if !ok {
		return ""
	}
	if t.Kind() == reflect.Bool {
		return "true or false"
	}
	return describeType(t)
}
