package progress

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HeartbeatFile is the file in a run directory that a training process
// rewrites every few seconds, so that `dropexp status` can show the
// iteration, loss, rate and ETA of a run between its evaluations. It is
// removed when the run completes (one stopped early keeps its last, with
// the iteration it got to). Wall-clock data never goes into metrics.csv,
// which stays byte-identical across runs.
const HeartbeatFile = "progress.json"

// heartbeatEvery is how often a recording Reporter rewrites HeartbeatFile.
const heartbeatEvery = 5 * time.Second

// Heartbeat is the content of HeartbeatFile.
type Heartbeat struct {
	Iteration       int       `json:"iteration"`         // last finished iteration
	Iterations      int       `json:"iterations"`        // the run's total
	BatchSize       int       `json:"batch_size"`        // images per iteration
	TrainLoss       float64   `json:"train_loss"`        // mean training loss since the last evaluation (as metrics.csv's train_loss)
	ImagesPerSecond float64   `json:"images_per_second"` // wall-clock rate of this process, evaluations included; 0: not measured yet
	ETASeconds      float64   `json:"eta_seconds"`       // at that rate; 0 with no rate
	Updated         time.Time `json:"updated"`           // when this was written
	Started         time.Time `json:"started"`           // when this process's first step finished
	PID             int       `json:"pid"`               // of the training process
	Host            string    `json:"host"`              // where it runs
}

// ReadHeartbeat reads HeartbeatFile in run directory dir.
func ReadHeartbeat(dir string) (Heartbeat, error) {
	var h Heartbeat
	path := filepath.Join(dir, HeartbeatFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// Record makes the Reporter keep HeartbeatFile in run directory dir up to
// date (at most every few seconds, and at every evaluation) until Finish,
// which removes it if the run reached its last iteration.
func (r *Reporter) Record(dir string) {
	r.dir = dir
	r.host, _ = os.Hostname()
}

// beat rewrites the heartbeat file at time now.
func (r *Reporter) beat(now time.Time) {
	r.lastBeat = now
	h := Heartbeat{
		Iteration: r.iter, Iterations: r.total, BatchSize: r.batch,
		Updated: now.UTC().Truncate(time.Second), Started: r.start.UTC().Truncate(time.Second),
		PID: os.Getpid(), Host: r.host,
	}
	if r.lossN > 0 {
		h.TrainLoss = r.lossSum / float64(r.lossN)
	}
	if ips := r.imagesPerSecond(r.iter, now); ips > 0 {
		h.ImagesPerSecond = ips
		h.ETASeconds = float64(r.total-r.iter) * float64(r.batch) / ips
	}
	data, err := json.Marshal(h)
	if err != nil {
		return
	}
	// A heartbeat is advisory: a failed write only makes status less
	// current, and the run's real files report their own write errors.
	// Rename keeps readers from seeing half a file; no fsync, as a crash
	// loses nothing worth keeping.
	path := filepath.Join(r.dir, HeartbeatFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return
	}
	if os.Rename(tmp, path) != nil {
		os.Remove(tmp)
	}
}
