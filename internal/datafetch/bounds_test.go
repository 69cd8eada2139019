package datafetch

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sized is source with the official file's size.
func sized(url, sum string, size int64) Source {
	src := source(url, sum)
	src.Files[0].Size = size
	return src
}

// partSize is the size of the .part in dir, 0 if there is none.
func partSize(dir string) int64 {
	fi, err := os.Stat(filepath.Join(dir, fileName+".part"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// A hostile or broken server cannot fill the disk or keep fetch waiting:
// the body is capped at the official file's size, a body that comes
// slower than StallBytes per IdleTimeout stalls, and every download ends
// by its deadline.
func TestFetchBounds(t *testing.T) {
	const size = 100_000
	data, sum := payload(size)
	endless := func(_ *server, w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}
	trickle := func(every time.Duration) func(*server, http.ResponseWriter, *http.Request) {
		return func(_ *server, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			for i := 0; r.Context().Err() == nil && i < size; i++ {
				w.Write(data[i : i+1])
				w.(http.Flusher).Flush()
				time.Sleep(every)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		handler func(*server, http.ResponseWriter, *http.Request)
		f       Fetcher
		want    []string
		maxPart int64 // the most the .part may hold afterwards
		part    bool  // whether a .part is kept to resume
	}{
		{"endless body", endless, Fetcher{}, []string{"more than the 100000 bytes of the official file", "removed"}, 0, false},
		{"announced too big", func(_ *server, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "200000")
			w.Write(make([]byte, 200_000))
		}, Fetcher{}, []string{"announces 200000 bytes, more than the 100000 of the official file"}, 0, false},
		{"slow trickle stalls", trickle(20 * time.Millisecond), Fetcher{IdleTimeout: 300 * time.Millisecond, StallBytes: 1000},
			[]string{"stalled:", "in 300ms, want at least 1000", "run fetch again to resume"}, size, true},
		{"trickle past the deadline", trickle(5 * time.Millisecond), Fetcher{IdleTimeout: 300 * time.Millisecond, StallBytes: 10, Deadline: 700 * time.Millisecond},
			[]string{"not done after 700ms", "run fetch again to resume"}, size, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, data, tc.handler)
			dir := t.TempDir()
			start := time.Now()
			f := tc.f
			err := f.Fetch(context.Background(), sized(srv.URL, sum, size), dir)
			checkErr(t, err, tc.want...)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("gave up after %v", d)
			}
			checkAbsent(t, dir, tc.part)
			if n := partSize(dir); n > tc.maxPart {
				t.Errorf(".part holds %d bytes, more than %d", n, tc.maxPart)
			}
		})
	}
}

// The official sizes are known for every file fetch downloads.
func TestOfficialSizes(t *testing.T) {
	for _, name := range []string{"cifar10", "cifar100", "svhn"} {
		src, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range src.Files {
			if f.URL != "" && f.Size <= 0 {
				t.Errorf("%s: %s has no official size", name, f.Name)
			}
		}
	}
}
