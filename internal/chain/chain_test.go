package chain

import "testing"

// No two activations alive at once share a worker buffer, and buffers are
// reused: a ResNet's trunk needs three whatever its depth.
func TestAssignSlots(t *testing.T) {
	resnet := func(blocks int) []Step {
		steps := []Step{{From: 0, Residual: -1}}
		for b := 0; b < blocks; b++ {
			a := len(steps)
			steps = append(steps, Step{From: a, Residual: -1}, Step{From: a + 1, Residual: a})
		}
		return steps
	}
	for _, tc := range []struct {
		name  string
		steps []Step
		slots int
	}{
		{"one step", []Step{{From: 0, Residual: -1}}, 0},
		{"plain chain", []Step{{From: 0, Residual: -1}, {From: 1, Residual: -1}, {From: 2, Residual: -1}, {From: 3, Residual: -1}}, 2},
		{"resnet-8", resnet(3), 3},
		{"resnet-56", resnet(27), 3},
		{"long skip", []Step{{From: 0, Residual: -1}, {From: 1, Residual: -1}, {From: 2, Residual: -1}, {From: 3, Residual: 1}}, 3},
	} {
		op := &chainOp{steps: tc.steps, acts: make([]activation, len(tc.steps)+1)}
		op.assignSlots()
		if op.nslots != tc.slots {
			t.Errorf("%s: %d buffers, want %d", tc.name, op.nslots, tc.slots)
		}
		// Activation a lives from step a-1 (which writes it) to its last reader.
		n := len(op.acts)
		last := make([]int, n)
		for a := 1; a < n; a++ {
			last[a] = a - 1
		}
		for i, s := range tc.steps {
			last[s.From] = max(last[s.From], i)
			if s.Residual >= 0 {
				last[s.Residual] = max(last[s.Residual], i)
			}
		}
		for a := 1; a < n-1; a++ {
			for b := a + 1; b < n-1; b++ {
				if op.slot[a] == op.slot[b] && b-1 <= last[a] {
					t.Errorf("%s: activations %d and %d share buffer %d while both alive", tc.name, a, b, op.slot[a])
				}
			}
		}
	}
}
