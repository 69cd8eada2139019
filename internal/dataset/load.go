package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dropexp/dropexp/internal/threads"
)

// Options control LoadWith. The zero value loads everything, silently,
// within the memory the machine has available.
type Options struct {
	// TrainLimit and TestLimit cut the training and test sets to stratified
	// subsets of that many images (see Set.Stratified); 0 keeps all.
	TrainLimit, TestLimit int
	// SubsetSeed chooses the subsets' images; 0 means DefaultSubsetSeed.
	SubsetSeed uint64
	// Log, if not nil, gets plain lines: what is being loaded, then how
	// many files and images it was and how long it took, the class counts
	// of the training and test sets, and any warnings.
	Log io.Writer
	// MemLimit is the most bytes the loaded data may take: 0 means what
	// the machine has available (MemAvailable of /proc/meminfo, or less
	// under a cgroup limit; no limit where neither can be read), and a
	// negative value means no limit.
	MemLimit int64
	// Exec decodes the images of an image folder; the zero Executor on
	// one thread.
	Exec threads.Executor
}

// Load reads data set name (one of Names, any case) from path with the
// zero Options but every core: everything, silently, within the available
// memory. Each
// name's loader is its entry's in the registry (see Infos); for mnist an
// empty path means the copy in the Go module cache.
func Load(name, path string) (*Split, error) {
	return LoadWith(name, path, Options{Exec: threads.Resolve(0)})
}

// LoadWith reads data set name from path (as Load does), refuses data that
// would not fit opt.MemLimit before reading it, cuts the limited subsets,
// and writes its progress lines to opt.Log.
func LoadWith(name, path string, opt Options) (*Split, error) {
	ld := newLoader(opt.MemLimit)
	ld.exec = opt.Exec
	name = strings.ToLower(name)
	from := path
	if d, err := Lookup(name); err == nil && from == "" && d.Module != "" {
		from = "the Go module " + d.Module
	}
	logf(opt.Log, "data: loading %s from %s", name, from)
	start := time.Now()
	sp, err := ld.load(name, path)
	if err != nil {
		return nil, err
	}
	files := fmt.Sprintf("%d files", ld.files)
	if ld.files == 1 {
		files = "1 file"
	}
	if ld.members > 0 {
		files = fmt.Sprintf("%d files in 1 archive", ld.members)
	}
	expanded := ""
	if ld.expanded > 0 {
		expanded = fmt.Sprintf("; %d grey images expanded to colour", ld.expanded)
		if ld.expanded == 1 {
			expanded = "; 1 grey image expanded to colour"
		}
	}
	logf(opt.Log, "data: %s: %s, %d train / %d test images of %d×%d×%d (%s%s), in %.1fs",
		name, files, sp.Train.Len(), sp.Test.Len(), sp.Train.C, sp.Train.H, sp.Train.W,
		formatBytes(int64(len(sp.Train.Images)+len(sp.Test.Images))), expanded, time.Since(start).Seconds())
	sp.warnings = append(sp.warnings, ld.warnings...)
	seed := opt.SubsetSeed
	if seed == 0 {
		seed = DefaultSubsetSeed
	}
	sp = sp.Limit(opt.TrainLimit, opt.TestLimit, seed)
	for _, l := range sp.CountLines() {
		logf(opt.Log, "%s", l)
	}
	for _, w := range sp.warnings {
		logf(opt.Log, "warning: %s", w)
	}
	return sp, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// loader carries what one load learns and may use: the memory left for
// the data, the files read, and warnings for the Split.
type loader struct {
	mem      int64  // bytes the data may still take; < 0: no limit
	memFrom  string // where mem came from, for messages
	files    int    // files opened
	members  int    // archive members read
	expanded int    // grey images expanded to colour
	warnings []string
	exec     threads.Executor // decodes images
	// expandCap, if positive, replaces the most bytes a compressed
	// archive may expand to (tests lower it).
	expandCap int64
}

func newLoader(limit int64) *loader {
	ld := &loader{mem: limit, memFrom: "the given limit"}
	if limit == 0 {
		ld.mem, ld.memFrom = AvailableMemory()
	}
	return ld
}

// defaultLoader is the loader of the Load* functions: within the memory
// available, on every core.
func defaultLoader() *loader {
	ld := newLoader(0)
	ld.exec = threads.Resolve(0)
	return ld
}

func (ld *loader) load(name, path string) (*Split, error) {
	d, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return d.load(path, ld)
}

func (ld *loader) warn(format string, args ...any) {
	ld.warnings = append(ld.warnings, fmt.Sprintf(format, args...))
}

// errTooBig marks the refusal of data that would not fit in memory.
var errTooBig = errors.New("not enough memory")

// reserve takes n more bytes for the data from what the loader may use, or
// refuses them with an error that starts with what and where and says what
// needs the memory.
func (ld *loader) reserve(what, where string, n int64, needs string) error {
	if ld.mem < 0 {
		return nil
	}
	if n > ld.mem {
		return fmt.Errorf("%s: %s: %w: %s needs %s, more than the %s available (%s; use a smaller data set or limit, free memory, or run where there is more)",
			what, where, errTooBig, needs, formatBytes(n), formatBytes(ld.mem), ld.memFrom)
	}
	ld.mem -= n
	return nil
}

// remaining returns what may still be reserved, or -1 without a limit.
func (ld *loader) remaining() int64 { return ld.mem }

// AvailableMemory returns the bytes this process may still allocate and
// where that figure comes from: MemAvailable of /proc/meminfo, lowered to
// what a cgroup v2 memory limit leaves (Slurm and containers set one). It
// returns -1 when neither can be read (no limit is then applied).
func AvailableMemory() (int64, string) {
	avail, from := int64(-1), ""
	if n, err := memInfoAvailable("/proc/meminfo"); err == nil {
		avail, from = n, "MemAvailable in /proc/meminfo"
	}
	if n, ok := cgroupAvailable("/sys/fs/cgroup"); ok && (avail < 0 || n < avail) {
		avail, from = n, "the cgroup memory limit (/sys/fs/cgroup/memory.max)"
	}
	return avail, from
}

// memInfoAvailable reads the MemAvailable line of a /proc/meminfo file.
func memInfoAvailable(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64)
		if !ok || err != nil || n < 0 {
			return 0, fmt.Errorf("%s: cannot read %q", file, sc.Text())
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("%s: no MemAvailable line", file)
}

// cgroupAvailable returns memory.max minus memory.current of the cgroup v2
// directory dir, if it sets a limit.
func cgroupAvailable(dir string) (int64, bool) {
	read := func(name string) (int64, bool) {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil
	}
	limit, ok := read("memory.max") // "max" when unlimited: no number
	if !ok {
		return 0, false
	}
	used, _ := read("memory.current")
	return max(limit-used, 0), true
}

// formatBytes writes n in binary units: 512 B, 1.5 MiB, 2.3 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
