package runner

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository's top directory, seen from this package.
var repoRoot = filepath.Join("..", "..")

// docPages returns README.md and every page of docs/, relative to repoRoot.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

// quote is a passage of a documentation page copied from a committed file:
// the lines between <!-- quote PATH --> and <!-- end quote -->, each of
// which must be in the file, white space aside.
type quote struct {
	page, source string
	line         int      // of the opening marker, 1-based
	lines        []string // the quoted lines, blank ones and code fences left out
}

var (
	quoteOpen  = regexp.MustCompile(`^<!-- quote (\S+) -->$`)
	quoteClose = "<!-- end quote -->"
)

// parseQuotes returns the quotes of page, whose text is text.
func parseQuotes(page, text string) ([]quote, error) {
	var (
		quotes []quote
		cur    *quote
	)
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if m := quoteOpen.FindStringSubmatch(l); m != nil {
			if cur != nil {
				return nil, &quoteError{page, i + 1, "a quote opens inside the quote of line " + itoa(cur.line)}
			}
			cur = &quote{page: page, source: m[1], line: i + 1}
			continue
		}
		if l == quoteClose {
			if cur == nil {
				return nil, &quoteError{page, i + 1, "end quote without a quote"}
			}
			quotes = append(quotes, *cur)
			cur = nil
			continue
		}
		if cur == nil || l == "" || strings.HasPrefix(l, "```") {
			continue
		}
		// A quoted line may be set as a block quote or a list item.
		l = strings.TrimSpace(strings.TrimPrefix(l, ">"))
		cur.lines = append(cur.lines, strings.TrimSpace(strings.TrimPrefix(l, "- ")))
	}
	if cur != nil {
		return nil, &quoteError{page, cur.line, "quote not closed"}
	}
	return quotes, nil
}

type quoteError struct {
	page string
	line int
	msg  string
}

func (e *quoteError) Error() string { return e.page + ":" + itoa(e.line) + ": " + e.msg }

func itoa(n int) string { return strconv.Itoa(n) }

// flat collapses every run of white space to one space.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// checkQuote returns a problem for each line of q that its source file does
// not hold (white space aside), or the source's, if it cannot be read.
func checkQuote(q quote) []string {
	if filepath.IsAbs(q.source) || strings.HasPrefix(filepath.Clean(q.source), "..") {
		return []string{q.page + ":" + itoa(q.line) + ": quotes " + q.source + ", which is outside the repository"}
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(q.source)))
	if err != nil {
		return []string{q.page + ":" + itoa(q.line) + ": " + err.Error()}
	}
	if len(q.lines) == 0 {
		return []string{q.page + ":" + itoa(q.line) + ": empty quote of " + q.source}
	}
	src := flat(string(data))
	var problems []string
	for _, l := range q.lines {
		if !strings.Contains(src, flat(l)) {
			problems = append(problems, q.page+":"+itoa(q.line)+": "+q.source+" does not hold: "+l)
		}
	}
	return problems
}

// Every number README.md and docs/ quote from results (Table 1, the report's
// findings and run counts, speed, the cross-check, gradient noise) sits in a
// quote block naming the committed file it comes from, and each of its lines
// must still be in that file; the README must quote Table 1 and the findings.
func TestDocsQuoteCommittedFiles(t *testing.T) {
	quoted := map[string]bool{}
	for _, page := range docPages(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		quotes, err := parseQuotes(page, string(data))
		if err != nil {
			t.Error(err)
			continue
		}
		for _, q := range quotes {
			for _, p := range checkQuote(q) {
				t.Error(p)
			}
			if page == "README.md" {
				quoted[q.source] = true
			}
		}
	}
	for _, want := range []string{"results/table1-jpeg/report/table1.md", "results/table1-jpeg/report/findings.md"} {
		if !quoted[want] {
			t.Errorf("README.md quotes nothing from %s", want)
		}
	}
}

// The quote checker itself: a changed number, a path outside the repository
// and unbalanced markers are found.
func TestCheckQuote(t *testing.T) {
	const table = "results/table1-jpeg/report/table1.md"
	for _, tc := range []struct {
		name, text string
		problem    string // "" = none
	}{
		{"verbatim", "<!-- quote " + table + " -->\n| plain | – | – | 3 | 0.7461 | [0.7436, 0.7486] | 0.0010 | 0.5548 [0.5225, 0.5870] |\n<!-- end quote -->", ""},
		{"white space aside", "<!-- quote " + table + " -->\n```\n|  plain | – | – | 3 |   0.7461 |\n```\n<!-- end quote -->", ""},
		{"block quote and list item", "<!-- quote " + table + " -->\n> Plain network: 0.7461 ± 0.0025 [0.7579].\n- | plain | – | – | 3 | 0.7461 |\n<!-- end quote -->", ""},
		{"a changed number", "<!-- quote " + table + " -->\n| plain | – | – | 3 | 0.7462 | [0.7436, 0.7486] |\n<!-- end quote -->", "does not hold"},
		{"outside the repository", "<!-- quote ../shared/x.md -->\nx\n<!-- end quote -->", "outside the repository"},
		{"missing file", "<!-- quote results/none.md -->\nx\n<!-- end quote -->", "no such file"},
		{"empty", "<!-- quote " + table + " -->\n<!-- end quote -->", "empty quote"},
		{"not closed", "<!-- quote " + table + " -->\nx", "not closed"},
		{"closed twice", "<!-- quote " + table + " -->\nx\n<!-- end quote -->\n<!-- end quote -->", "without a quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var problems []string
			quotes, err := parseQuotes("page.md", tc.text)
			if err != nil {
				problems = append(problems, err.Error())
			}
			for _, q := range quotes {
				problems = append(problems, checkQuote(q)...)
			}
			got := strings.Join(problems, "\n")
			if tc.problem == "" && got != "" || tc.problem != "" && !strings.Contains(got, tc.problem) {
				t.Errorf("problems %q, want %q", got, tc.problem)
			}
		})
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Relative links of README.md and docs/ lead to files of the repository,
// and no page names a path outside it.
func TestDocsLinksStayInTheRepository(t *testing.T) {
	for _, page := range docPages(t) {
		data, err := os.ReadFile(filepath.Join(repoRoot, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "#") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			link, anchor, _ := strings.Cut(link, "#")
			target := filepath.Join(repoRoot, filepath.Dir(page), filepath.FromSlash(link))
			rel, err := filepath.Rel(repoRoot, target)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links to %s, outside the repository", page, m[1])
				continue
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s: %v", page, m[1], err)
				continue
			}
			if anchor != "" && strings.HasSuffix(target, ".md") && !hasHeading(t, target, anchor) {
				t.Errorf("%s links to %s: %s has no heading %q", page, m[1], link, anchor)
			}
		}
		for _, outside := range []string{"../shared", "/work/", "/root/", "/tmp/"} {
			if strings.Contains(string(data), outside) {
				t.Errorf("%s names %s, a path outside the repository", page, outside)
			}
		}
	}
}

// docs/reproduction.md says that four runs of the committed Table 1 grid,
// trained again from scratch, wrote metrics.csv files byte-identical to the
// kept ones.
func TestDocsRetrainedRunsAreByteIdentical(t *testing.T) {
	for _, tc := range []struct{ again, run string }{
		{"results/diag-table1", "plain-layer-s1"},
		{"results/diag-table1", "standard-p0.3-layer-s1"},
		{"results/retrain-table1", "standard-p0.05-layer-s1"},
		{"results/retrain-table1", "backward-p0.005-layer-s1"},
	} {
		kept, err := os.ReadFile(filepath.Join(repoRoot, "results", "table1-jpeg", "runs", tc.run, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(tc.again), "runs", tc.run, "metrics.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if string(kept) != string(again) {
			t.Errorf("%s/runs/%s/metrics.csv differs from the kept run's", tc.again, tc.run)
		}
	}
}

// hasHeading reports whether the Markdown file holds a heading whose
// GitHub anchor is anchor: lower case, spaces to hyphens, punctuation other
// than hyphens and underscores dropped.
func hasHeading(t *testing.T, file, anchor string) bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#"))) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}
