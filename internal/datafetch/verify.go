package datafetch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dropexp/dropexp/internal/dataset"
)

// Verify checks the md5 of every file of src in dir (for mnist an empty
// dir means the module's copy) and writes one line per file to w. It
// returns an error naming each missing or damaged file and the fix.
func Verify(src Source, dir string, w io.Writer) error {
	dir, err := resolveDir(src, dir)
	if err != nil {
		return err
	}
	fetch := fmt.Sprintf("`dropexp data fetch %s --dir %s`", src.Name, dir)
	if src.Module != "" {
		fetch = "`go mod download " + src.Module + "`"
	}
	var bad []string
	for _, file := range src.Files {
		path := filepath.Join(dir, file.Name)
		got, err := sumMD5(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(w, "missing  %s\n", path)
			bad = append(bad, fmt.Sprintf("%s: missing (run %s, or put the file there by hand%s)", path, fetch, fromURL(file)))
		case err != nil:
			return err
		case !strings.EqualFold(got, file.MD5):
			fmt.Fprintf(w, "BAD      %s: md5 %s, want %s\n", path, got, file.MD5)
			bad = append(bad, fmt.Sprintf("%s: md5 is %s, want %s (corrupt or incomplete download: delete it and re-download it: run %s, or get it by hand%s)",
				path, got, file.MD5, fetch, fromURL(file)))
		default:
			fmt.Fprintf(w, "ok       %s (md5 %s)\n", path, got)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	msg := fmt.Sprintf("datafetch: %s: %d of %d files failed verification:\n  %s", src.Name, len(bad), len(src.Files), strings.Join(bad, "\n  "))
	if d, err := dataset.Lookup(src.Name); err == nil && len(d.Files) == 1 && strings.HasSuffix(d.Files[0].Name, ".tar.gz") {
		// Only the archive has a published md5; an extracted copy (which
		// its loader reads too) can still be checked by loading it.
		msg += fmt.Sprintf("\n(if you extracted the archive there instead, `dropexp data info %s --dir %s` checks that it loads)", src.Name, dir)
	}
	return errors.New(msg)
}

func fromURL(f File) string {
	if f.URL == "" {
		return ""
	}
	return " from " + f.URL
}
