package main

import (
	"strings"
	"testing"

	"github.com/dropexp/dropexp/internal/experiment"
)

// The help of every command that says which keys make two runs the same
// lists experiment.NotIdentity, the list the identity leaves out.
func TestHelpListsNotIdentity(t *testing.T) {
	root := newRoot()
	for _, name := range []string{"train", "sweep", "report"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Join(strings.Fields(cmd.Long), " ")
		if !strings.Contains(long, experiment.NotIdentityText()) {
			t.Errorf("dropexp %s --help does not list the keys outside the identity (%s)", name, experiment.NotIdentityText())
		}
	}
}
