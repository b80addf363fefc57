package eval

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"hmpps/hmpps"
)

// maxLineBytes bounds one JSON line. Metadata lines carry long also_buy lists
// and descriptions, but a line past this is a corrupt file, not a product.
const maxLineBytes = 16 << 20

// LoadAmazon reads a folder in the Amazon Review Data (2018) layout of one
// category (Ni, Li and McAuley, EMNLP 2019): a reviews file whose name ends
// in "_5.json" (the 5-core) or ".json", and a metadata file whose name starts
// with "meta_", each JSON lines, plain or gzip-compressed. The dataset is
// named after the folder. See ReadAmazon for what is kept.
//
// A folder without both files returns an error wrapping ErrNoData.
func LoadAmazon(ctx context.Context, dir string) (*Dataset, error) {
	reviewsPath, metaPath, err := amazonFiles(dir)
	if err != nil {
		return nil, err
	}
	reviews, err := openMaybeGzip(reviewsPath)
	if err != nil {
		return nil, err
	}
	defer reviews.Close()
	meta, err := openMaybeGzip(metaPath)
	if err != nil {
		return nil, err
	}
	defer meta.Close()
	return ReadAmazon(ctx, filepath.Base(filepath.Clean(dir)), reviews, meta)
}

// amazonFiles finds the reviews and metadata files in dir.
func amazonFiles(dir string) (reviews, meta string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrNoData, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.Contains(name, ".json") {
			continue
		}
		switch {
		case strings.HasPrefix(name, "meta_"):
			meta = filepath.Join(dir, name)
		case reviews == "" || strings.Contains(name, "_5.json"):
			reviews = filepath.Join(dir, name)
		}
	}
	if reviews == "" || meta == "" {
		return "", "", fmt.Errorf("%w: %s needs a reviews file (*_5.json) and a metadata file (meta_*.json.gz)", ErrNoData, dir)
	}
	return reviews, meta, nil
}

// openMaybeGzip opens path and decompresses it if it starts with the gzip
// magic number, whatever its name says.
func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return readCloser{br, f}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("eval: %s: %w", path, err)
	}
	return readCloser{zr, f}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// ReadAmazon reads reviews and metadata in the Amazon Review Data (2018)
// format into a Dataset named name:
//
//   - every review row is a purchase of asin by reviewerID at
//     unixReviewTime; a (user, product) pair that appears more than once is
//     collapsed to its earliest row (ties: the first in the file);
//   - metadata rows of products nobody reviewed are ignored, and a product
//     with two metadata rows keeps the first;
//   - text fields are HTML-unescaped and stripped of tags; a title that
//     contains '<' (the 2018 scrape left "<span class=..." for most
//     products) is treated as missing, and a display title is built from the
//     brand and the first sentence of the description;
//   - image URLs become hmpps.Image references (high-resolution ones when
//     given); nothing is downloaded;
//   - a purchased product without metadata is kept with its ASIN as title, so
//     that it can still be a candidate or a history item.
//
// A malformed line fails the whole read with an error wrapping
// ErrMalformedRecord that names the line: silently skipping rows would change
// the dataset's known facts.
func ReadAmazon(ctx context.Context, name string, reviews, meta io.Reader) (*Dataset, error) {
	type row struct {
		review
		line int
	}
	var rows []row
	err := eachLine(ctx, reviews, func(line int, b []byte) error {
		r, err := parseReview(b)
		if err != nil {
			return fmt.Errorf("reviews line %d: %w", line, err)
		}
		rows = append(rows, row{r, line})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no review rows", ErrNoData)
	}

	d := &Dataset{Name: name}
	d.Stats.Rows = len(rows)
	// Rows are in file order, so a stable sort by time keeps the first row
	// among equal times.
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.Time, b.Time) })
	type pair struct{ user, product string }
	seen := make(map[pair]int, len(rows))
	users := make(map[string]bool)
	products := make(map[string]bool)
	for _, r := range rows {
		p := pair{r.User, r.ASIN}
		seen[p]++
		if seen[p] > 1 {
			d.Stats.DroppedRows++
			if seen[p] == 2 {
				d.Stats.DuplicatePairs++
			}
			continue
		}
		users[r.User] = true
		products[r.ASIN] = true
		d.Purchases = append(d.Purchases, Purchase{User: r.User, Product: r.ASIN, Time: r.Time})
	}
	slices.SortStableFunc(d.Purchases, func(a, b Purchase) int { return cmp.Compare(a.User, b.User) })
	d.Stats.Users, d.Stats.Products = len(users), len(products)

	metaByID := make(map[string]metadata, len(products))
	err = eachLine(ctx, meta, func(line int, b []byte) error {
		m, err := parseMetadata(b)
		if err != nil {
			return fmt.Errorf("metadata line %d: %w", line, err)
		}
		if _, dup := metaByID[m.ASIN]; products[m.ASIN] && !dup {
			metaByID[m.ASIN] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	for id := range products {
		m, ok := metaByID[id]
		var p hmpps.Product
		if ok {
			var broken bool
			p, broken = m.product()
			d.Stats.WithMetadata++
			count(&d.Stats.BrokenTitles, broken)
			count(&d.Stats.WithCategory, len(p.Category) > 0)
			count(&d.Stats.WithCategoryPath, len(p.Category) >= 2)
			count(&d.Stats.WithDescription, p.Description != "")
			count(&d.Stats.WithBrand, p.Brand != "")
			count(&d.Stats.WithImage, len(p.Images) > 0)
		} else {
			p = hmpps.Product{ID: id, Title: id}
		}
		d.Products = append(d.Products, p)
	}
	slices.SortFunc(d.Products, func(a, b hmpps.Product) int { return cmp.Compare(a.ID, b.ID) })
	return d, nil
}

func count(n *int, cond bool) {
	if cond {
		*n++
	}
}

// eachLine calls fn with every non-blank line of r, without its line ending,
// and its 1-based number, checking ctx between lines.
func eachLine(ctx context.Context, r io.Reader, fn func(line int, b []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLineBytes)
	for line := 1; sc.Scan(); line++ {
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Only the line ending is cut: a tab-separated line may end with
		// an empty field.
		b := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := fn(line, b); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: read: %w", err)
	}
	return ctx.Err()
}
