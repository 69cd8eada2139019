package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLogStampsEveryLineOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	w := Log(&buf)
	clock := time.Date(2026, 11, 28, 9, 5, 7, 0, time.UTC)
	w.(*stampWriter).now = func() time.Time { return clock }
	for _, s := range []string{"run a: started\nrun b: ", "started\n", "", "x\ny\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
		clock = clock.Add(time.Second)
	}
	want := "2026-11-28 09:05:07 run a: started\n" +
		"2026-11-28 09:05:07 run b: started\n" + // the line's time is that of its first byte
		"2026-11-28 09:05:10 x\n2026-11-28 09:05:10 y\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLogLeavesRegularFilesStampedAndReporterPlain(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := Log(f)
	if _, ok := w.(*stampWriter); !ok {
		t.Fatalf("a regular file got %T, want timestamps", w)
	}
	// A Reporter on the stamped log prints lines, never a bar.
	if r := New(w, 10, 1, ""); r.bar != nil {
		t.Error("bar drawn into a stamped log")
	}
}

func TestHeartbeat(t *testing.T) {
	dir := t.TempDir()
	r := New(&bytes.Buffer{}, 1000, 100, "run")
	r.Record(dir)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	r.Step(1, 2.0) // the clock starts; the first step writes a heartbeat
	h, err := ReadHeartbeat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h.Iteration != 1 || h.Iterations != 1000 || h.TrainLoss != 2 || h.ImagesPerSecond != 0 || h.PID != os.Getpid() {
		t.Errorf("first heartbeat %+v", h)
	}
	// Steps within heartbeatEvery do not rewrite it.
	clock = clock.Add(time.Second)
	r.Step(2, 1.0)
	if h, _ := ReadHeartbeat(dir); h.Iteration != 1 {
		t.Errorf("rewritten after 1 s: %+v", h)
	}
	// 10 s after the first step: 10 iterations of 100 images, 100 img/s;
	// 990 iterations left take 990 s.
	for it := 3; it <= 11; it++ {
		clock = clock.Add(time.Second)
		r.Step(it, 1.0)
	}
	h, _ = ReadHeartbeat(dir)
	if h.Iteration != 11 || h.ImagesPerSecond != 100 || h.ETASeconds != 989 || h.TrainLoss != 12.0/11 {
		t.Errorf("heartbeat at 11: %+v", h)
	}
	// An evaluation rewrites it at once and starts a new loss mean.
	r.Step(12, 3.0)
	r.Eval(12, 0.1, 1, 1, 0.5)
	if h, _ := ReadHeartbeat(dir); h.Iteration != 12 || h.TrainLoss != 0 {
		t.Errorf("heartbeat after the evaluation: %+v", h)
	}
	for it := 13; it <= 1000; it++ {
		r.Step(it, 1)
	}
	r.Finish() // the run is complete: its own files say the rest
	if _, err := os.Stat(filepath.Join(dir, HeartbeatFile)); !os.IsNotExist(err) {
		t.Errorf("heartbeat left after Finish: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}

// A run stopped early keeps a heartbeat with the iteration it got to.
func TestHeartbeatKeptWhenStoppedEarly(t *testing.T) {
	dir := t.TempDir()
	r := New(&bytes.Buffer{}, 1000, 100, "run")
	r.Record(dir)
	for it := 1; it <= 7; it++ {
		r.Step(it, 1)
	}
	r.Finish()
	if h, err := ReadHeartbeat(dir); err != nil || h.Iteration != 7 {
		t.Errorf("heartbeat %+v, %v; want iteration 7", h, err)
	}
}
