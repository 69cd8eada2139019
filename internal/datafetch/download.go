package datafetch

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/dataset"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Timeouts of the default client and of a download. They bound how long a
// machine without network, or a stalled server, keeps the user waiting.
const (
	DialTimeout   = 10 * time.Second // to connect, TLS handshake included
	HeaderTimeout = 30 * time.Second // from request sent to response headers
	IdleTimeout   = 60 * time.Second // the window in which StallBytes must arrive
	StallBytes    = 32 << 10         // fewer bytes of the body than this in IdleTimeout is a stall
	Deadline      = 2 * time.Hour    // one file's download, start to end
	// MaxUnknownSize caps a file whose official size is not known.
	MaxUnknownSize = 4 << 30
)

// NewClient returns the HTTP client a Fetcher uses by default: it fails
// within DialTimeout when no connection can be made and within
// HeaderTimeout when a server accepts but does not answer. It never
// decompresses bodies itself: a server that labels a .tar.gz as gzip
// content would otherwise hand over bytes whose md5 is not the published one.
func NewClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: DialTimeout}).DialContext,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: HeaderTimeout,
		DisableCompression:    true,
	}}
}

// Fetcher downloads the files of data sets.
type Fetcher struct {
	Client      *http.Client  // nil: NewClient()
	Out         io.Writer     // one line per file: what was done and where; nil: discard
	Progress    io.Writer     // a progress bar while downloading, if it is a terminal; nil: none
	IdleTimeout time.Duration // 0: IdleTimeout
	StallBytes  int64         // 0: StallBytes
	Deadline    time.Duration // 0: Deadline
}

func (f *Fetcher) out() io.Writer {
	if f.Out == nil {
		return io.Discard
	}
	return f.Out
}

// Fetch puts every file of src into dir: a file already there with the
// published md5 is kept, a missing one is downloaded. A file there whose
// md5 is wrong is an error, not overwritten. For a data set that a Go
// module ships (mnist) Fetch only says where its files are.
//
// A failed Fetch leaves no directory of its own making empty: a data path
// that exists but holds nothing would turn the loader's plain "run dropexp
// data fetch" advice into a list of the files it looked for.
func (f *Fetcher) Fetch(ctx context.Context, src Source, dir string) (err error) {
	w := f.out()
	if src.Module != "" {
		mdir, err := resolveDir(src, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: nothing to download: the Go module %s ships the files, at %s\n", src.Name, src.Module, mdir)
		fmt.Fprintf(w, "%s: %s", src.Name, src.Use)
		if dir != "" {
			fmt.Fprintf(w, "; to use a copy in %s, copy them there", dir)
		}
		fmt.Fprintln(w)
		return nil
	}
	made, err := mkdirAll(dir)
	defer func() {
		if err != nil {
			removeEmpty(made)
		}
	}()
	if err != nil {
		return fmt.Errorf("datafetch: %w (choose another --dir)", err)
	}
	for i, file := range src.Files {
		dest := filepath.Join(dir, file.Name)
		if _, err := os.Stat(dest); err == nil {
			got, err := sumMD5(dest)
			if err != nil {
				return err
			}
			if !strings.EqualFold(got, file.MD5) {
				return fmt.Errorf("datafetch: %s is already there but its md5 is %s, want %s (corrupt or incomplete; delete it and run `dropexp data fetch %s --dir %s` to re-download it)",
					dest, got, file.MD5, src.Name, dir)
			}
			fmt.Fprintf(w, "%s: %s is already there (md5 ok)\n", src.Name, dest)
			continue
		}
		if err := f.Download(ctx, src.Name, file, dir); err != nil {
			var rest []string
			for _, o := range src.Files[i+1:] {
				rest = append(rest, o.Name+" from "+o.URL)
			}
			if len(rest) > 0 {
				// Whoever fetches by hand should fetch everything at once.
				return fmt.Errorf("%w; %s also needs %s", err, src.Name, strings.Join(rest, " and "))
			}
			return err
		}
		fmt.Fprintf(w, "%s: downloaded %s (md5 ok)\n", src.Name, dest)
	}
	fmt.Fprintf(w, "%s: ready in %s; %s: use --set dataset.name=%s --set dataset.path=%s\n", src.Name, dir, src.Use, src.Name, dir)
	return nil
}

// mkdirAll makes dir and its missing parents, as os.MkdirAll does, and
// returns the directories it made, deepest first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	// Even a failed MkdirAll may have made some of them.
	return missing, os.MkdirAll(dir, 0o755)
}

// removeEmpty removes the directories made, deepest first, as long as they
// are empty: one holding a .part kept for a resume stays, with its parents.
func removeEmpty(made []string) {
	for _, d := range made {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
}

// Download gets file into dir/file.Name: the body goes to dir/NAME.part,
// which a later call resumes with a Range request, and the file is renamed
// into place only once its md5 is the published one. A .part whose md5 is
// wrong is removed, so that the next call starts afresh. name is the data
// set's, for messages.
func (f *Fetcher) Download(ctx context.Context, name string, file File, dir string) error {
	return f.download(ctx, name, file, dir, true)
}

func (f *Fetcher) download(ctx context.Context, name string, file File, dir string, mayRestart bool) error {
	dest := filepath.Join(dir, file.Name)
	part := dest + ".part"
	byHand := func(err error, why string) error {
		return fmt.Errorf("datafetch: cannot download %s: %v (%s download it by hand, e.g. on another machine, and put %s into %s, then run `dropexp data verify %s --dir %s`)",
			file.URL, err, why, file.Name, dir, name, dir)
	}
	var offset int64
	if fi, err := os.Stat(part); err == nil {
		offset = fi.Size()
	}
	limit := file.Size
	if limit <= 0 {
		limit = MaxUnknownSize
	}
	if offset > limit {
		// More than the whole file: nothing of it can be right.
		if err := os.Remove(part); err != nil {
			return fmt.Errorf("datafetch: %w", err)
		}
		offset = 0
	}
	deadline := f.Deadline
	if deadline <= 0 {
		deadline = Deadline
	}
	// A server that trickles a byte now and then defeats the stall check
	// of a slow but honest link; the deadline ends it.
	tctx, cancel := context.WithTimeoutCause(ctx, deadline, fmt.Errorf("%w: not done after %v", errDeadline, deadline))
	defer cancel()
	dctx, stop := context.WithCancelCause(tctx)
	defer stop(nil)
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, file.URL, nil)
	if err != nil {
		return fmt.Errorf("datafetch: %s: %w", file.URL, err)
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	client := f.Client
	if client == nil {
		client = NewClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return byHand(err, "no network?")
	}
	defer resp.Body.Close()
	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	total := resp.ContentLength
	switch resp.StatusCode {
	case http.StatusOK:
		// The server sends the whole file, whatever the .part held.
		offset = 0
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	case http.StatusPartialContent:
		start, size, err := contentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != offset {
			return byHand(fmt.Errorf("resumed at byte %d but the server answered with Content-Range %q", offset, resp.Header.Get("Content-Range")),
				"delete "+part+" and run fetch again, or")
		}
		if size >= 0 {
			total = size
		} else if total >= 0 {
			total += offset
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The .part already holds the whole file, or is longer than it.
		if offset > 0 {
			return f.finish(ctx, name, file, dir, mayRestart)
		}
		fallthrough
	default:
		return byHand(fmt.Errorf("the server answered %s", resp.Status), "moved or down?")
	}
	if total > limit {
		return byHand(fmt.Errorf("the server announces %d bytes, more than the %d of the official file", total, limit), "the server sends another file;")
	}
	out, err := os.OpenFile(part, flag, 0o644)
	if err != nil {
		return fmt.Errorf("datafetch: %w (choose another --dir)", err)
	}
	if offset > 0 {
		fmt.Fprintf(f.out(), "%s: resuming %s at byte %d\n", name, file.Name, offset)
	}
	// One byte more than the file may have tells a body that goes on.
	n, err := f.copyBody(stop, out, io.LimitReader(resp.Body, limit-offset+1), file.Name, offset, total)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && offset+n > limit {
		// Not the official file, and its bytes are worth nothing.
		os.Remove(part)
		return byHand(fmt.Errorf("the server sent more than the %d bytes of the official file; removed %s", limit, part), "the server sends another file;")
	}
	if err != nil && errors.Is(context.Cause(tctx), errDeadline) {
		err = context.Cause(tctx)
	}
	if err != nil {
		return byHand(err, fmt.Sprintf("interrupted after %d bytes, kept in %s: run fetch again to resume, or", offset+n, part))
	}
	if total >= 0 && offset+n != total {
		return byHand(fmt.Errorf("got %d of %d bytes", offset+n, total),
			fmt.Sprintf("connection cut; the bytes are kept in %s: run fetch again to resume, or", part))
	}
	// Only bytes kept from an earlier run justify starting again.
	return f.finish(ctx, name, file, dir, mayRestart && offset > 0)
}

// finish checks the md5 of the complete .part and renames it into place.
func (f *Fetcher) finish(ctx context.Context, name string, file File, dir string, mayRestart bool) error {
	dest := filepath.Join(dir, file.Name)
	part := dest + ".part"
	got, err := sumMD5(part)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, file.MD5) {
		// Resuming a wrong file cannot mend it: start again once, from
		// nothing, if the bad bytes came from an earlier run.
		if err := os.Remove(part); err != nil {
			return fmt.Errorf("datafetch: %w", err)
		}
		if mayRestart {
			fmt.Fprintf(f.out(), "%s: the partial download %s had md5 %s, want %s; starting again\n", name, part, got, file.MD5)
			return f.download(ctx, name, file, dir, false)
		}
		return fmt.Errorf("datafetch: %s: md5 of the download is %s, want %s; removed it (the server sent a different file: check %s in a browser, or download %s by hand into %s)",
			file.URL, got, file.MD5, file.URL, file.Name, dir)
	}
	// Rename within one directory is atomic: a reader sees no file or the
	// whole, checked file.
	if err := os.Rename(part, dest); err != nil {
		return fmt.Errorf("datafetch: %w", err)
	}
	return nil
}

// contentRange parses "bytes START-END/SIZE"; size is -1 if given as *.
func contentRange(h string) (start, size int64, err error) {
	spec, ok := strings.CutPrefix(h, "bytes ")
	rng, sz, ok2 := strings.Cut(spec, "/")
	first, _, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return 0, 0, fmt.Errorf("bad Content-Range %q", h)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, err
	}
	if sz == "*" {
		return start, -1, nil
	}
	size, err = strconv.ParseInt(sz, 10, 64)
	return start, size, err
}

// copyBody copies body to out, drawing a progress bar if f.Progress is a
// terminal. The body must belong to a request made with a context that
// stop cancels: it is called with errStalled when no byte arrives for the
// idle timeout.
func (f *Fetcher) copyBody(stop context.CancelCauseFunc, out io.Writer, body io.Reader, label string, offset, total int64) (int64, error) {
	idle := f.IdleTimeout
	if idle <= 0 {
		idle = IdleTimeout
	}
	least := f.StallBytes
	if least <= 0 {
		least = StallBytes
	}
	timer := time.AfterFunc(idle, func() { stop(errStalled) })
	defer timer.Stop()
	if pf, ok := f.Progress.(*os.File); ok && term.IsTerminal(int(pf.Fd())) {
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(pf),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(25),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(pf) }),
		)
		bar.Set64(offset)
		out = io.MultiWriter(out, bar)
		defer bar.Finish()
	}
	wr := &watchedReader{r: body, timer: timer, idle: idle, least: least}
	n, err := io.Copy(out, wr)
	if err != nil && !timer.Stop() {
		// The timer fired: the read failed because the request was cancelled.
		if wr.got == 0 {
			return n, fmt.Errorf("no data for %v", idle)
		}
		return n, fmt.Errorf("stalled: %d bytes in %v, want at least %d", wr.got, idle, least)
	}
	return n, err
}

var (
	errStalled  = errors.New("download stalled")
	errDeadline = errors.New("download deadline")
)

// watchedReader restarts an idle timer whenever least bytes have arrived
// since it last did: a body that comes slower than least per idle stalls.
type watchedReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
	least int64
	got   int64 // since the timer last restarted
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if w.got += int64(n); w.got >= w.least {
		w.timer.Reset(w.idle)
		w.got = 0
	}
	return n, err
}

// sumMD5 returns the md5 of file, hex.
func sumMD5(file string) (string, error) {
	// A FIFO in the data directory must not hang verify.
	fh, err := dataset.OpenRegular("datafetch", file)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := md5.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("datafetch: %s: %w", file, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
