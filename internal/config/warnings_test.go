package config

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		want []string // each a part of one warning; none: no warning
	}{
		{"eval_every divides iterations", []string{"train.iterations=30", "train.eval_every=10", "train.lr_steps="}, nil},
		{"eval_every does not divide iterations: the last iteration is evaluated anyway", []string{"train.iterations=25", "train.eval_every=10", "train.lr_steps="}, nil},
		{"eval_every equals iterations", []string{"train.iterations=30", "train.eval_every=30", "train.lr_steps="}, nil},
		{"eval_every beyond the run", []string{"train.iterations=300", "train.eval_every=500", "train.lr_steps="},
			[]string{"train.eval_every 500 is more than train.iterations 300: the run is evaluated once, at its last iteration, so metrics.csv gets one row", "--set train.eval_every=30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load("", tc.sets, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(cfg.Warnings(), "\n")
			if len(tc.want) == 0 && got != "" {
				t.Errorf("warnings %q, want none", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("warnings %q\nlack %q", got, w)
				}
			}
		})
	}
}
