package datafetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is a local stand-in for a download host. It serves data with
// Range support (http.ServeContent) unless told otherwise, and records
// what it was asked and how much it sent.
type server struct {
	*httptest.Server
	data []byte

	mu     sync.Mutex
	ranges []string // the Range header of each request, "" if none
	sent   int64    // body bytes written
}

// newServer starts a server whose handler is h, or ServeContent of data.
func newServer(t *testing.T, data []byte, h func(s *server, w http.ResponseWriter, r *http.Request)) *server {
	s := &server{data: data}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.mu.Unlock()
		cw := &countingWriter{ResponseWriter: w, s: s}
		if h != nil {
			h(s, cw, r)
			return
		}
		http.ServeContent(cw, r, "f", time.Time{}, bytes.NewReader(s.data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

type countingWriter struct {
	http.ResponseWriter
	s *server
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.s.mu.Lock()
	c.s.sent += int64(n)
	c.s.mu.Unlock()
	return n, err
}

func (c *countingWriter) Flush() { c.ResponseWriter.(http.Flusher).Flush() }

// payload returns n pseudo-random bytes and their md5.
func payload(n int) ([]byte, string) {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	sum := md5.Sum(b)
	return b, hex.EncodeToString(sum[:])
}

const fileName = "x-binary.tar.gz"

func source(url, sum string) Source {
	return Source{Name: "x", Files: []File{{Name: fileName, URL: url + "/" + fileName, MD5: sum}}, Use: "the x loader reads it"}
}

// checkErr fails unless err is non-nil and contains every one of has.
func checkErr(t *testing.T, err error, has ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", has)
	}
	t.Log(err)
	for _, h := range has {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("error %q does not contain %q", err, h)
		}
	}
}

// checkFile fails unless dir holds fileName with content want and no .part.
func checkFile(t *testing.T, dir string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, fileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("downloaded %d bytes, differing from the %d served", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(dir, fileName+".part")); err == nil {
		t.Error(".part file left behind")
	}
}

// checkAbsent fails if dir holds the file (or, if part, its .part).
func checkAbsent(t *testing.T, dir string, part bool) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, fileName)); err == nil {
		t.Error("a bad download was moved into place")
	}
	if _, err := os.Stat(filepath.Join(dir, fileName+".part")); (err == nil) != part {
		t.Errorf(".part present: %v, want %v", err == nil, part)
	}
}

func TestFetchFull(t *testing.T) {
	data, sum := payload(300_000)
	srv := newServer(t, data, nil)
	dir := filepath.Join(t.TempDir(), "data", "x")
	var out bytes.Buffer
	f := &Fetcher{Out: &out}
	if err := f.Fetch(context.Background(), source(srv.URL, sum), dir); err != nil {
		t.Fatal(err)
	}
	checkFile(t, dir, data)
	if r := srv.requests(); len(r) != 1 || r[0] != "" {
		t.Errorf("requests with Range %q, want one without", r)
	}
	for _, s := range []string{"downloaded " + filepath.Join(dir, fileName), "md5 ok", "ready in " + dir, "dataset.path=" + dir, "the x loader reads it"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output %q lacks %q", out.String(), s)
		}
	}
	// A second fetch finds the file and asks the server nothing.
	out.Reset()
	if err := f.Fetch(context.Background(), source(srv.URL, sum), dir); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 1 || !strings.Contains(out.String(), "already there (md5 ok)") {
		t.Errorf("second fetch: %d requests in all, output %q", n, out.String())
	}
}

func TestFetchResume(t *testing.T) {
	data, sum := payload(200_000)
	for _, tc := range []struct {
		name       string
		part       []byte
		handler    func(s *server, w http.ResponseWriter, r *http.Request)
		ranges     []string
		sentAtMost int64
	}{
		{"partial", data[:50_000], nil, []string{"bytes=50000-"}, 150_000},
		{"complete part", data, nil, []string{"bytes=200000-"}, 1000}, // 416, then rename
		{"server ignores Range", data[:50_000], func(s *server, w http.ResponseWriter, r *http.Request) {
			w.Write(s.data)
		}, []string{"bytes=50000-"}, 200_000},
		{"damaged part", append([]byte("garbage"), data[7:50_000]...), nil, []string{"bytes=50000-", ""}, 350_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, data, tc.handler)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, fileName+".part"), tc.part, 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := (&Fetcher{Out: &out}).Fetch(context.Background(), source(srv.URL, sum), dir); err != nil {
				t.Fatal(err)
			}
			t.Log(out.String())
			checkFile(t, dir, data)
			if r := srv.requests(); strings.Join(r, "|") != strings.Join(tc.ranges, "|") {
				t.Errorf("requests with Range %q, want %q", r, tc.ranges)
			}
			if srv.sent > tc.sentAtMost {
				t.Errorf("server sent %d bytes, want at most %d", srv.sent, tc.sentAtMost)
			}
		})
	}
}

func TestFetchFailures(t *testing.T) {
	data, sum := payload(100_000)
	_, otherSum := payload(99)
	for _, tc := range []struct {
		name    string
		sum     string
		handler func(s *server, w http.ResponseWriter, r *http.Request)
		part    bool // whether a .part must be kept for resuming
		errHas  []string
	}{
		{"md5 mismatch", otherSum, nil, false,
			[]string{fileName, "md5 of the download is " + sum, "want " + otherSum, "removed it", "by hand"}},
		{"server error", sum, func(s *server, w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, false, []string{"cannot download", fileName, "500 Internal Server Error", "by hand", "dropexp data verify x --dir"}},
		{"not found", sum, func(s *server, w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, false, []string{"404 Not Found", "moved or down?"}},
		{"connection cut", sum, func(s *server, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.Write(s.data[:30_000])
			// Returning with fewer bytes than announced makes the server
			// close the connection.
		}, true, []string{"cannot download", "after 30000 bytes", ".part", "run fetch again to resume"}},
		{"bad Content-Range", sum, func(s *server, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes 0-99999/100000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(s.data)
		}, true, []string{"resumed at byte 10", `Content-Range "bytes 0-99999/100000"`, "delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, data, tc.handler)
			dir := t.TempDir()
			if tc.name == "bad Content-Range" {
				os.WriteFile(filepath.Join(dir, fileName+".part"), data[:10], 0o644)
			}
			err := (&Fetcher{}).Fetch(context.Background(), source(srv.URL, tc.sum), dir)
			checkErr(t, err, append(tc.errHas, srv.URL+"/"+fileName, dir)...)
			checkAbsent(t, dir, tc.part)
		})
	}
}

// TestFetchStall checks that a server that stops sending fails the
// download after the idle timeout, keeping the bytes for a resume.
func TestFetchStall(t *testing.T) {
	data, sum := payload(100_000)
	release := make(chan struct{})
	srv := newServer(t, data, func(s *server, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(s.data))
			return
		}
		w.Header().Set("Content-Length", "100000")
		w.Write(s.data[:40_000])
		w.(http.Flusher).Flush()
		<-release
	})
	defer close(release)
	dir := t.TempDir()
	f := &Fetcher{IdleTimeout: 300 * time.Millisecond, StallBytes: 1}
	start := time.Now()
	err := f.Fetch(context.Background(), source(srv.URL, sum), dir)
	checkErr(t, err, "no data for 300ms", "run fetch again to resume")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	checkAbsent(t, dir, true)
	if err := f.Fetch(context.Background(), source(srv.URL, sum), dir); err != nil {
		t.Fatal(err)
	}
	checkFile(t, dir, data)
	if r := srv.requests(); len(r) != 2 || r[1] != "bytes=40000-" {
		t.Errorf("requests with Range %q, want a resume at 40000", r)
	}
}

// TestNoNetwork points the default client at a closed local port, as a
// machine without network meets every host: the download must fail at
// once, naming the URL, the file and where to put it by hand.
func TestNoNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	dir := t.TempDir()
	start := time.Now()
	src := source(url, "00")
	src.Files = append(src.Files, File{Name: "second.mat", URL: url + "/second.mat", MD5: "00"})
	err = (&Fetcher{}).Fetch(context.Background(), src, dir)
	checkErr(t, err, "cannot download "+url+"/"+fileName, "no network?", "by hand", "put "+fileName+" into "+dir, "dropexp data verify x --dir "+dir,
		"x also needs second.mat from "+url+"/second.mat")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to fail, want at once", d)
	}
	checkAbsent(t, dir, false)
}

// TestSilentServer checks that a server that accepts connections but
// never answers fails the download after the header timeout.
func TestSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	client := NewClient()
	client.Transport.(*http.Transport).ResponseHeaderTimeout = 200 * time.Millisecond
	err = (&Fetcher{Client: client}).Fetch(context.Background(), source("http://"+l.Addr().String(), "00"), t.TempDir())
	checkErr(t, err, "timeout awaiting response headers", "by hand")
}

func TestNewClient(t *testing.T) {
	tr := NewClient().Transport.(*http.Transport)
	if tr.ResponseHeaderTimeout != HeaderTimeout || tr.TLSHandshakeTimeout != DialTimeout || !tr.DisableCompression || tr.DialContext == nil {
		t.Errorf("transport %+v: want the timeouts set and compression off", tr)
	}
}

func TestFetchExistingBadFile(t *testing.T) {
	data, sum := payload(1000)
	srv := newServer(t, data, nil)
	dir := t.TempDir()
	bad := []byte("truncated")
	if err := os.WriteFile(filepath.Join(dir, fileName), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	err := (&Fetcher{}).Fetch(context.Background(), source(srv.URL, sum), dir)
	checkErr(t, err, filepath.Join(dir, fileName), "already there", "want "+sum, "delete it", "re-download")
	if got, _ := os.ReadFile(filepath.Join(dir, fileName)); !bytes.Equal(got, bad) || len(srv.requests()) != 0 {
		t.Error("the existing file was replaced or the server asked")
	}
}

func TestContentRange(t *testing.T) {
	for _, tc := range []struct {
		h           string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-9/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"100-199/200", 0, 0, false},
		{"", 0, 0, false},
	} {
		start, size, err := contentRange(tc.h)
		if (err == nil) != tc.ok || tc.ok && (start != tc.start || size != tc.size) {
			t.Errorf("contentRange(%q) = %d, %d, %v", tc.h, start, size, err)
		}
	}
}

// TestFailedFetchLeavesNoEmptyDirectory checks that a fetch that fails
// removes the directories it made while they are empty, and keeps a
// directory that was there before or that holds bytes kept for a resume.
func TestFailedFetchLeavesNoEmptyDirectory(t *testing.T) {
	data, sum := payload(100_000)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() // nothing listens there: no network
	l.Close()
	cut := newServer(t, data, func(s *server, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(s.data[:30_000])
	})
	for _, tc := range []struct {
		name     string
		url      string
		existing bool     // whether dir's parent exists beforehand
		sub      []string // dir below the temporary directory
		keep     string   // the deepest directory that must exist afterwards ("" = the temporary directory)
	}{
		{"no network, new dir and parent", closed, false, []string{"data", "cifar10"}, ""},
		{"no network, new dir", closed, true, []string{"data", "cifar10"}, "data"},
		{"no network, existing dir", closed, true, nil, ""},
		{"connection cut keeps the .part", cut.URL, false, []string{"data", "cifar10"}, "data/cifar10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(append([]string{root}, tc.sub...)...)
			if tc.existing && len(tc.sub) > 0 {
				if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := (&Fetcher{}).Fetch(context.Background(), source(tc.url, sum), dir); err == nil {
				t.Fatal("fetch succeeded, want a failure")
			}
			keep := filepath.Join(root, filepath.FromSlash(tc.keep))
			if _, err := os.Stat(keep); err != nil {
				t.Errorf("%s was removed: %v", keep, err)
			}
			for d := dir; d != keep && len(d) > len(keep); d = filepath.Dir(d) {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("%s is left behind by the failed fetch", d)
				}
			}
		})
	}
}
