package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
)

// ConfusionFile is what dropexp eval writes beside a run: test images by
// true class (rows) and predicted class (columns), classes named.
const ConfusionFile = "confusion.csv"

// confusionCorner heads the class names' column of ConfusionFile.
const confusionCorner = `true\predicted`

// Confusion is a confusion matrix: Counts[t][p] images of class t predicted as p.
type Confusion struct {
	Classes []string
	Counts  [][]int
}

// WriteConfusion writes c to path atomically.
func WriteConfusion(path string, c Confusion) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(append([]string{confusionCorner}, c.Classes...))
	for t, row := range c.Counts {
		rec := []string{c.Classes[t]}
		for _, v := range row {
			rec = append(rec, strconv.Itoa(v))
		}
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes())
}

// ReadConfusion reads a file written by WriteConfusion: square, the rows'
// classes those of the header, counts non-negative integers.
func ReadConfusion(path string) (Confusion, error) {
	records, err := readCSV(path)
	if err != nil {
		return Confusion{}, err
	}
	if len(records) < 2 || len(records[0]) != len(records) || records[0][0] != confusionCorner {
		return Confusion{}, fmt.Errorf("results: %s: not a confusion matrix: want a header %s,CLASS… and one row per class", path, confusionCorner)
	}
	c := Confusion{Classes: records[0][1:]}
	for i, rec := range records[1:] {
		if len(rec) != len(records[0]) || rec[0] != c.Classes[i] {
			return Confusion{}, fmt.Errorf("results: %s:%d: want class %s and %d counts", path, i+2, c.Classes[i], len(c.Classes))
		}
		row := make([]int, len(c.Classes))
		for j, s := range rec[1:] {
			v, err := strconv.Atoi(s)
			if err != nil || v < 0 {
				return Confusion{}, fmt.Errorf("results: %s:%d: count %q is not a non-negative integer", path, i+2, s)
			}
			row[j] = v
		}
		c.Counts = append(c.Counts, row)
	}
	return c, nil
}
