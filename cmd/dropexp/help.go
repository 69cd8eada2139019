package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/dropexp/dropexp/internal/experiment"
	"github.com/dropexp/dropexp/internal/keys"
	"github.com/dropexp/dropexp/internal/train"
	"github.com/dropexp/dropexp/internal/typo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// examples are the Example sections of the commands that cobra makes
// (completion), by command path; the others carry their own.
var examples = map[string]string{
	"dropexp completion": `  source <(dropexp completion bash)              # this shell
  dropexp completion bash > /etc/bash_completion.d/dropexp
  dropexp completion zsh > "${fpath[1]}/_dropexp"
  dropexp train --set dropout.<TAB>               # then completes keys and their values`,
}

// versionLine is what dropexp version and dropexp --version print.
func versionLine() string {
	return fmt.Sprintf("dropexp %s (%s, %s/%s, %s)", train.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, train.KernelSet(experiment.DirectKernels))
}

// finish gives every command of the tree its examples, flag-typo
// suggestions and completions: --set completes config keys and their
// allowed values, --config YAML files, --in/--out/--resume directories.
func finish(root *cobra.Command) {
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(flagError)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if ex, ok := examples[c.CommandPath()]; ok && c.Example == "" {
			c.Example = ex
		}
		complete := func(name string, f cobra.CompletionFunc) {
			if c.Flags().Lookup(name) != nil {
				c.RegisterFlagCompletionFunc(name, f)
			}
		}
		complete("set", func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
			cs, noSpace := keys.Complete(typed)
			d := cobra.ShellCompDirectiveNoFileComp
			if noSpace {
				d |= cobra.ShellCompDirectiveNoSpace
			}
			return cs, d
		})
		complete("axis", func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
			cs, _ := keys.Complete(typed)
			if !strings.Contains(typed, "=") {
				for _, a := range []string{"variant=", "ratio=", "q=", "seed=", "gradient=", "dataset="} {
					if strings.HasPrefix(a, typed) {
						cs = append(cs, a)
					}
				}
			}
			return cs, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		})
		complete("base", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		})
		complete("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		})
		for _, name := range []string{"in", "out", "resume", "dir"} {
			complete(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// flagError adds the nearest flag of the command to an unknown-flag error,
// as cobra does for a mistyped command, and points at the command's help.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	var bad, what string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		bad = strings.TrimPrefix(msg, "unknown flag: --")
		bad, _, _ = strings.Cut(bad, "=")
		what = "unknown flag --" + bad
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'i' in -in": a long flag typed with one dash, often.
		_, rest, ok := strings.Cut(msg, " in -")
		if !ok {
			return fmt.Errorf("%s: %w; see %s --help", c.CommandPath(), err, c.CommandPath())
		}
		bad, _, _ = strings.Cut(rest, "=")
		what = strings.TrimPrefix(msg, "unknown shorthand flag: ")
		what = "unknown shorthand flag " + what
	default:
		return fmt.Errorf("%s: %w; see %s --help", c.CommandPath(), err, c.CommandPath())
	}
	if s := nearestFlag(c, bad); s != "" {
		return fmt.Errorf("%s: %s (did you mean --%s?); see %s --help", c.CommandPath(), what, s, c.CommandPath())
	}
	return fmt.Errorf("%s: %s; see %s --help for its flags", c.CommandPath(), what, c.CommandPath())
}

// nearestFlag returns the flag of c closest to bad: a prefix of it, or
// within two edits; "" when none is that near.
func nearestFlag(c *cobra.Command, bad string) string {
	best, bestD := "", 3
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := typo.Distance(bad, f.Name)
		if len(bad) >= 3 && strings.HasPrefix(f.Name, bad) {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	return best
}
