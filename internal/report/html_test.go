package report

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dropexp/dropexp/internal/results"
)

// writeIndex writes the index.json a sweep writes into dir, naming base as every run's base config.
func writeIndex(t *testing.T, dir, base string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Dir  string `json:"dir"`
		Base string `json:"base"`
	}
	var ix struct {
		Runs []entry `json:"runs"`
	}
	for _, e := range entries {
		ix.Runs = append(ix.Runs, entry{Dir: "runs/" + e.Name(), Base: base})
	}
	data, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// lrReport writes the report of the train.lr sweep, its unfinished run
// included, with index.json naming the shipped Table 1 config as the base.
func lrReport(t *testing.T, out string) string {
	t.Helper()
	dir, _ := collect(t, lrSweep)
	base, err := filepath.Abs("../../configs/convnet-quick-cifar10.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeIndex(t, dir, base)
	if _, _, err := Write(Options{In: []string{dir}, Out: out, Partial: true}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	return string(page)
}

func TestIndexHTML(t *testing.T) {
	page := lrReport(t, t.TempDir())
	// Self-contained: nothing loaded from elsewhere, no script.
	for _, bad := range []string{"<script", "<link", " src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html holds %q", bad)
		}
	}
	for _, u := range regexp.MustCompile(`https?://[^"' ]+`).FindAllString(page, -1) {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Errorf("index.html names %s", u)
		}
	}
	for _, want := range []string{
		"<!DOCTYPE html>",
		`<td class="num">0.7050</td>`, // Table 1's cell of lr 0.001
		`<td class="num">0.6100</td>`, // and of lr 0.01, finished runs only
		`<figure id="fig-figure1"`, `<figure id="fig-accuracy_vs_ratio"`, `<figure id="fig-curves_by_setting"`,
		`id="doc-findings"`, `id="doc-table1"`,
		"<tr><td>train.lr</td><td>0.001</td><td>0.01</td></tr>", // a run's difference from its base
		"unfinished (running), at iteration 300 of 5000",
		`<h3>standard-p0.3-layer-s2-lr0.01: finished</h3>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// Three figures and five runs' curves, every one inline.
	if n := strings.Count(page, "<svg"); n != 3+5 {
		t.Errorf("%d inline SVGs, want 8", n)
	}
	// What every run changes from the base is said once, above the runs.
	if !strings.Contains(page, "Every run differs from its base config") || strings.Count(page, "<td>dataset.train_limit</td>") != 1 {
		t.Errorf("dataset.train_limit, which every run changes, is not said once")
	}
}

func TestMarkdownHTML(t *testing.T) {
	for _, tc := range []struct{ md, want string }{
		{"# Title\n\nSome *text* and **bold** `code` <x>.\nmore\n", "<h2>Title</h2>\n<p>Some <em>text</em> and <strong>bold</strong> <code>code</code> &lt;x&gt;. more</p>\n"},
		{"| a | b |\n|---|---|\n| 0.5 ▲ | x |\n", "<table>\n<tr><th>a</th><th>b</th></tr>\n<tr><td class=\"num\">0.5 ▲</td><td>x</td></tr>\n</table>\n"},
		{"- one\n  two\n- three\n", "<ul>\n<li>one two</li>\n<li>three</li>\n</ul>\n"},
		{"p (Holm) *\n", "<p>p (Holm) *</p>\n"},
		{"sites *.conv2 and *.conv1\n", "<p>sites *.conv2 and *.conv1</p>\n"},
	} {
		if got := markdownHTML(tc.md, 1); got != tc.want {
			t.Errorf("markdownHTML(%q)\n got %q\nwant %q", tc.md, got, tc.want)
		}
	}
}

// TestIndexHTMLInChromium renders the report in headless Chromium and
// checks the DOM it builds: the table cells and the figures. It runs when
// DROPEXP_HTML_CHECK is set (make html-check), and then needs chromium on
// PATH; DROPEXP_HTML_SHOT=FILE also saves a screenshot (1400×2000).
func TestIndexHTMLInChromium(t *testing.T) {
	if os.Getenv("DROPEXP_HTML_CHECK") == "" {
		t.Skip("set DROPEXP_HTML_CHECK=1 (make html-check) to render the report in headless Chromium")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("DROPEXP_HTML_CHECK is set but there is no chromium on PATH: %v", err)
	}
	out := t.TempDir()
	if d := os.Getenv("DROPEXP_HTML_OUT"); d != "" {
		out = d
	}
	lrReport(t, out)
	index, err := filepath.Abs(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(index)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir()}
	dom, err := exec.Command(chromium, append(args, "--dump-dom", url)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	d := string(dom)
	for _, want := range []string{
		`<td class="num">0.7050</td>`, `<td class="num">0.6100</td>`,
		`<figure id="fig-figure1"`, `<figure id="fig-curves_by_setting"`, `<figure id="fig-accuracy_vs_ratio"`,
		`<th>train.lr</th>`, "at iteration 300 of 5000",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the DOM Chromium built lacks %q", want)
		}
	}
	// Every figure's SVG and every run's curves are parsed as SVG elements with drawing in them.
	if n := len(regexp.MustCompile(`<svg[^>]*>\s*<(g|rect)`).FindAllString(d, -1)); n != 8 {
		t.Errorf("%d SVG elements with content in the DOM, want 8", n)
	}
	if n := strings.Count(d, "<polyline"); n < 5*3 {
		t.Errorf("%d curves in the runs' SVGs, want 3 per run", n)
	}
	if shot := os.Getenv("DROPEXP_HTML_SHOT"); shot != "" {
		if err := exec.Command(chromium, append(args, "--screenshot="+shot, "--window-size=1400,2000", url)...).Run(); err != nil {
			t.Fatalf("chromium --screenshot: %v", err)
		}
		if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
			t.Fatalf("no screenshot at %s (%v)", shot, err)
		}
		t.Logf("screenshot: %s", shot)
	}
}

// hostileRuns are run directories named (by a sweep's data-set label, a
// copy, a name taken by another identity) with markup in their names.
var hostileRuns = []fakeRun{
	with(cq("standard", "0.3", 1, 0.70), func(r *fakeRun) { r.suffix = "-b\"><svg\tonload=alert(1)>" }),
	with(cq("standard", "0.3", 2, 0.71), func(r *fakeRun) { r.label = "x'><img src=x onerror=alert(2)>" }),
	with(cq("forward", "0.3", 1, 0.60), func(r *fakeRun) { r.suffix = "-<\\code><script>alert(3)<\\script><b onmouseover=alert(4)>" }),
	with(cq("backward", "0.3", 1, 0.72), func(r *fakeRun) { r.suffix = "-a b&amp;\"c"; r.status = results.StatusRunning }),
}

// injected matches an element the page's own markup never makes: a script,
// an image, or any element with an event handler attribute.
var injected = regexp.MustCompile(`(?i)<(script|img)\b|<[a-z][^>]*\son[a-z]+\s*=`)

// TestIndexHTMLHostileNames reports runs whose directory names carry
// markup: every name reaches the page escaped, as text and in attributes
// (the run anchors are one token of safe characters), and, with chromium
// on PATH, the DOM Chromium builds holds no element the names made.
func TestIndexHTMLHostileNames(t *testing.T) {
	dir := t.TempDir()
	writeRuns(t, dir, hostileRuns)
	out := t.TempDir()
	if _, _, err := Write(Options{In: []string{dir}, Out: out, Partial: true}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	if m := injected.FindAllString(page, -1); m != nil {
		t.Errorf("index.html holds markup from run names: %q", m)
	}
	for _, r := range hostileRuns {
		for _, p := range []string{r.suffix, r.label} {
			if p != "" && strings.Contains(page, p) {
				t.Errorf("index.html holds %q unescaped", p)
			}
		}
	}
	ids := regexp.MustCompile(`\b(id|href)="#?(run-[^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(ids) != 2*len(hostileRuns) {
		t.Errorf("%d run anchors and links, want %d", len(ids), 2*len(hostileRuns))
	}
	for _, m := range ids {
		if !regexp.MustCompile(`^run-[A-Za-z0-9_.-]+$`).MatchString(m[2]) {
			t.Errorf("run anchor %q is not one token of safe characters", m[2])
		}
	}
	if !strings.Contains(page, "-b&#34;&gt;&lt;svg\tonload=alert(1)&gt;") {
		t.Errorf("the first run's name is not shown, escaped")
	}
	if t.Failed() {
		return // the page is not safe to open, even headless
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil || testing.Short() {
		t.Log("no chromium on PATH (or -short): the page is not rendered")
		return
	}
	index, err := filepath.Abs(filepath.Join(out, IndexHTML))
	if err != nil {
		t.Fatal(err)
	}
	// A script the names smuggled in blocks Chromium on its alert dialog.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dom, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--dump-dom", "file://"+filepath.ToSlash(index)).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v (a script on the page may have opened a dialog)", err)
	}
	if m := injected.FindAllString(string(dom), -1); m != nil {
		t.Errorf("the DOM Chromium built holds elements from run names: %q", m)
	}
	if n := strings.Count(string(dom), `class="run"`); n != len(hostileRuns) {
		t.Errorf("%d runs in the DOM, want %d", n, len(hostileRuns))
	}
}

// A run that dropexp eval evaluated shows its confusion matrix, class names
// escaped; one that does not read is left out.
func TestIndexHTMLConfusion(t *testing.T) {
	dir := t.TempDir()
	writeRuns(t, dir, table1Runs[:4])
	runDirs, _ := filepath.Glob(filepath.Join(dir, "runs", "*"))
	if len(runDirs) < 2 {
		t.Fatalf("%d run directories", len(runDirs))
	}
	hostile := results.Confusion{Classes: []string{"<img src=x onerror=alert(5)>", `a"b`}, Counts: [][]int{{2, 1}, {0, 1}}}
	if err := results.WriteConfusion(filepath.Join(runDirs[0], results.ConfusionFile), hostile); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(runDirs[0], "eval-svhn-0123abcd"), 0o755)
	if err := results.WriteConfusion(filepath.Join(runDirs[0], "eval-svhn-0123abcd", results.ConfusionFile), hostile); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(runDirs[1], results.ConfusionFile), []byte("not,a\nmatrix\n"), 0o644)
	out := t.TempDir()
	if _, _, err := Write(Options{In: []string{dir}, Out: out}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(out, IndexHTML))
	page := string(data)
	if n := strings.Count(page, `class="confusion"`); n != 2 {
		t.Errorf("%d confusion matrices drawn, want 2 (own test set and other data)", n)
	}
	for _, w := range []string{"overall accuracy 0.7500 (3 of 4)", "dropexp eval on other data (eval-svhn-0123abcd)", "&lt;img src=x onerror=alert(5)&gt;"} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if m := injected.FindAllString(page, -1); m != nil {
		t.Errorf("index.html holds markup from class names: %q", m)
	}
}
