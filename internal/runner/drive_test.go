package runner

import (
	"math"
	"testing"

	"github.com/dropexp/dropexp/internal/config"
	"github.com/dropexp/dropexp/internal/results"
	"github.com/dropexp/dropexp/internal/train"
)

// The line that starts a run says what it trains and what happens to its
// directory, for train and sweep alike.
func TestPlanStart(t *testing.T) {
	cfg := config.Default()
	cfg.Dropout.Variant, cfg.Dropout.Ratio = "forward", "0.30"
	for _, tc := range []struct {
		plan    Plan
		restart bool
		want    string
	}{
		{Plan{Dir: "r/x", Action: Fresh}, false, "convnet-quick forward dropout 0.3 (layer gradient) on svhn-jpeg, writing r/x"},
		{Plan{Dir: "r/x", Action: Continue, Recorded: results.Recorded{Checkpoint: true}}, false, "convnet-quick forward dropout 0.3 (layer gradient) on svhn-jpeg, resuming the interrupted run from its checkpoint in r/x"},
		{Plan{Dir: "r/x", Action: Continue}, false, "convnet-quick forward dropout 0.3 (layer gradient) on svhn-jpeg, starting again (it stopped before its first checkpoint) in r/x"},
		{Plan{Dir: "r/x", Action: Continue, Recorded: results.Recorded{Checkpoint: true}}, true, "convnet-quick forward dropout 0.3 (layer gradient) on svhn-jpeg, starting again from iteration 0 (--restart discards its checkpoint) in r/x"},
	} {
		if got := tc.plan.Start(cfg, "svhn-jpeg", tc.restart); got != tc.want {
			t.Errorf("Start(%+v, restart %v) = %q, want %q", tc.plan, tc.restart, got, tc.want)
		}
	}
}

func TestResult(t *testing.T) {
	for _, tc := range []struct {
		sum  results.Summary
		want string
	}{
		{results.Summary{FinalTestAcc: 0.71314, FinalTestLoss: 0.84119, FinalTrainLoss: 0.964}, "test_acc 0.7131  test_loss 0.8412  train_loss 0.9640"},
		{results.Summary{FinalTestAcc: math.NaN(), FinalTestLoss: 3.6e32, FinalTrainLoss: math.Inf(1)}, "test_acc none  test_loss 3.6e+32  train_loss +Inf"},
	} {
		if got := Result(tc.sum); got != tc.want {
			t.Errorf("Result(%+v) = %q, want %q", tc.sum, got, tc.want)
		}
	}
}

// A sweep's runs are named by Name, as train names them: the ratio in its
// canonical spelling, none for plain.
func TestName(t *testing.T) {
	cfg := config.Default()
	for _, tc := range []struct{ variant, ratio, want string }{
		{"standard", "0.30", "standard-p0.3-layer-s1"},
		{"augmented", "0.1/0.00020", "augmented-p0.1q0.0002-layer-s1"},
		{"plain", "0.5", "plain-layer-s1"},
	} {
		cfg.Dropout.Variant, cfg.Dropout.Ratio = tc.variant, tc.ratio
		if got := Name(cfg); got != tc.want {
			t.Errorf("Name(%s %s) = %s, want %s", tc.variant, tc.ratio, got, tc.want)
		}
	}
}

// The line that says why a run's plain name is taken reads the mismatch's
// typed differences: the config lines that differ, or that only the data do.
func TestDifference(t *testing.T) {
	cfg := config.Default()
	cfg.Dropout.Variant, cfg.Dropout.Ratio = "standard", "0.3"
	recOf := func(c config.Run, fp string) results.Recorded {
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		return results.Recorded{Dir: "runs/x", Config: y, Identity: c.Identity(fp), DataFingerprint: fp}
	}
	other := cfg
	other.Dropout.Ratio, other.Seed = "0.2", 7
	noID := recOf(cfg, "fp1")
	noID.Identity = ""
	edited := recOf(cfg, "fp1")
	edited.Identity = "0123456789abcdef"
	for _, tc := range []struct {
		name string
		rec  results.Recorded
		want string
	}{
		{"other config", recOf(other, "fp1"), `a run of another config (- seed: 7, - ratio: "0.2", + seed: 1, + ratio: "0.3")`},
		{"other data", recOf(cfg, "fp0"), "a run of this config on other data"},
		{"no identity", noID, "a run that records no identity (written before run identities)"},
		{"edited", edited, "another run (runs/x/config.yaml was edited after the run wrote it (its identity no longer matches its content))"},
	} {
		if got := difference(train.Mismatch(tc.rec, cfg, "fp1")); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
