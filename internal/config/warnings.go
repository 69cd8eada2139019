package config

import "fmt"

// Warnings lists settings of a valid r that train as asked but likely not
// as meant, each naming its key, what the run will do and the fix.
func (r Run) Warnings() []string {
	var out []string
	t := r.Train
	if t.EvalEvery > t.Iterations && t.Iterations > 0 {
		out = append(out, fmt.Sprintf("train.eval_every %d is more than train.iterations %d: the run is evaluated once, at its last iteration, so metrics.csv gets one row and no curve; for one, give e.g. --set train.eval_every=%d",
			t.EvalEvery, t.Iterations, max(1, t.Iterations/10)))
	}
	return out
}
