package eval

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"hmpps/hmpps"
	"hmpps/internal/htmltext"
)

// RecBoleFiles are the files of a data set in RecBole's atomic-file layout as
// UniSRec (Hou et al., KDD 2022) prepared the Amazon categories, for
// ReadRecBole. Text and the three .inter files are required.
type RecBoleFiles struct {
	// Text is NAME.text: a header naming the item_id:token and
	// text:token_seq columns, then one product a line, its text
	// "TITLE. CATEGORY. BRAND. ".
	Text io.Reader
	// ItemIndex and UserIndex are NAME.item2index and NAME.user2index: an
	// original ID and the token the .inter files use for it, a line each.
	// If nil, the .inter tokens are the IDs.
	ItemIndex, UserIndex io.Reader
	// Train, Valid and Test are NAME.train.inter, NAME.valid.inter and
	// NAME.test.inter: a header naming the user_id:token,
	// item_id_list:token_seq and item_id:token columns, then per line a
	// user, the items bought before (oldest first, at most a fixed window)
	// and the item bought next.
	Train, Valid, Test io.Reader
	// Descriptions, if not nil, holds JSON lines {"asin": ...,
	// "description": [...]} that give products their description.
	Descriptions io.Reader
}

// LoadRecBole reads a folder in RecBole's atomic-file layout (see
// RecBoleFiles): the files named NAME.text, NAME.item2index,
// NAME.user2index, NAME.train.inter, NAME.valid.inter, NAME.test.inter and,
// if present, NAME.descriptions.jsonl, for the one NAME the folder holds a
// .text file of. The dataset is named after the folder. See ReadRecBole for
// what is kept.
//
// A folder without the .text file or one of the .inter files returns an
// error wrapping ErrNoData.
func LoadRecBole(ctx context.Context, dir string) (*Dataset, error) {
	texts, err := filepath.Glob(filepath.Join(dir, "*.text"))
	if err != nil || len(texts) != 1 {
		return nil, fmt.Errorf("%w: %s needs exactly one NAME.text file, found %d", ErrNoData, dir, len(texts))
	}
	base := strings.TrimSuffix(texts[0], ".text")
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	open := func(suffix string, required bool) (io.Reader, error) {
		f, err := os.Open(base + suffix)
		switch {
		case err == nil:
			files = append(files, f)
			return f, nil
		case !required && os.IsNotExist(err):
			return nil, nil
		case os.IsNotExist(err):
			return nil, fmt.Errorf("%w: %s: %w", ErrNoData, dir, err)
		}
		return nil, fmt.Errorf("eval: %w", err)
	}
	var fs RecBoleFiles
	for _, x := range []struct {
		r        *io.Reader
		suffix   string
		required bool
	}{
		{&fs.Text, ".text", true}, {&fs.ItemIndex, ".item2index", false}, {&fs.UserIndex, ".user2index", false},
		{&fs.Train, ".train.inter", true}, {&fs.Valid, ".valid.inter", true}, {&fs.Test, ".test.inter", true},
		{&fs.Descriptions, ".descriptions.jsonl", false},
	} {
		if *x.r, err = open(x.suffix, x.required); err != nil {
			return nil, err
		}
	}
	return ReadRecBole(ctx, filepath.Base(filepath.Clean(dir)), fs)
}

// ReadRecBole reads a data set in RecBole's atomic-file layout into a
// Dataset named name:
//
//   - the catalog is every product of the .text file (title, category text
//     and brand; the category text joins the levels of the category path
//     with spaces, so it is kept as a path of one level) and every product
//     the .inter files name without text, with its ID as title;
//   - descriptions are joined by ID, HTML-stripped; lines of products the
//     catalog lacks are ignored, and a product's first line wins;
//   - each user's purchases are rebuilt from the three .inter files, whose
//     rows are windows of one sequence: every training row, then the
//     validation row, then the test row, each extending the sequence by
//     its item. Time is the purchase's place in the sequence (0 for the
//     first), for the files have no timestamps. Repeat purchases are kept:
//     the files' split counts them, so the last purchase is the test target
//     even when the user bought it before.
//
// Rows that are not windows of one sequence ending with the validation and
// then the test row, unknown index tokens, a user without a validation or
// test row, and malformed lines fail the read with an error wrapping
// ErrMalformedRecord that names the file and line.
func ReadRecBole(ctx context.Context, name string, f RecBoleFiles) (*Dataset, error) {
	if f.Text == nil || f.Train == nil || f.Valid == nil || f.Test == nil {
		return nil, fmt.Errorf("%w: the .text and the three .inter files are required", ErrNoData)
	}
	items, err := readIndex(ctx, "item2index", f.ItemIndex)
	if err != nil {
		return nil, err
	}
	users, err := readIndex(ctx, "user2index", f.UserIndex)
	if err != nil {
		return nil, err
	}
	texts, err := readTexts(ctx, f.Text)
	if err != nil {
		return nil, err
	}
	var parts [3][]interRow
	for i, x := range []struct {
		name string
		r    io.Reader
	}{{"train.inter", f.Train}, {"valid.inter", f.Valid}, {"test.inter", f.Test}} {
		if parts[i], err = readInter(ctx, x.name, x.r, items, users); err != nil {
			return nil, err
		}
	}
	seqs, truncated, err := rebuildSequences(parts[0], parts[1], parts[2])
	if err != nil {
		return nil, err
	}
	descs := map[string]string{}
	if f.Descriptions != nil {
		err := eachLine(ctx, f.Descriptions, func(line int, b []byte) error {
			d, err := parseDescription(b)
			if err != nil {
				return fmt.Errorf("descriptions line %d: %w", line, err)
			}
			if _, dup := descs[d.ASIN]; !dup {
				descs[d.ASIN] = joinPlain(d.Description)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	d := &Dataset{Name: name}
	d.Stats.TruncatedLists = truncated
	purchased := make(map[string]bool)
	type pair struct{ user, product string }
	seen := make(map[pair]int)
	for _, s := range seqs {
		for i, id := range s.items {
			d.Purchases = append(d.Purchases, Purchase{User: s.user, Product: id, Time: int64(i)})
			purchased[id] = true
			p := pair{s.user, id}
			if seen[p]++; seen[p] == 2 {
				d.Stats.DuplicatePairs++
			}
		}
	}
	if len(d.Purchases) == 0 {
		return nil, fmt.Errorf("%w: no purchases", ErrNoData)
	}
	d.Stats.Rows, d.Stats.Users, d.Stats.Products = len(d.Purchases), len(seqs), len(purchased)

	for id, t := range texts {
		p := hmpps.Product{ID: id, Title: t.Title, Brand: t.Brand, Description: descs[id]}
		if t.Category != "" {
			p.Category = []string{t.Category}
		}
		d.Products = append(d.Products, p)
		if purchased[id] {
			d.Stats.WithMetadata++
			count(&d.Stats.WithCategory, len(p.Category) > 0)
			count(&d.Stats.WithCategoryPath, len(p.Category) >= 2)
			count(&d.Stats.WithDescription, p.Description != "")
			count(&d.Stats.WithBrand, p.Brand != "")
		}
	}
	for id := range purchased {
		if _, ok := texts[id]; !ok {
			d.Products = append(d.Products, hmpps.Product{ID: id, Title: id})
		}
	}
	slices.SortFunc(d.Products, func(a, b hmpps.Product) int { return cmp.Compare(a.ID, b.ID) })
	return d, nil
}

// joinPlain joins a description's paragraphs as plain text, one a line.
func joinPlain(paragraphs []string) string {
	var out []string
	for _, s := range paragraphs {
		if s = htmltext.Plain(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}

// readIndex reads an item2index or user2index file into a map from the
// .inter token to the original ID; nil r gives a nil map (tokens are IDs).
func readIndex(ctx context.Context, name string, r io.Reader) (map[string]string, error) {
	if r == nil {
		return nil, nil
	}
	out := make(map[string]string)
	ids := make(map[string]bool)
	err := eachLine(ctx, r, func(line int, b []byte) error {
		id, token, err := parseIndexLine(string(b))
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
		if _, dup := out[token]; dup || ids[id] {
			return fmt.Errorf("%s line %d: %w: %q or %q appears twice", name, line, ErrMalformedRecord, id, token)
		}
		out[token], ids[id] = id, true
		return nil
	})
	return out, err
}

// readTexts reads a .text file into a map from product ID to its text,
// split by splitItemText under the root the categories share.
func readTexts(ctx context.Context, r io.Reader) (map[string]itemText, error) {
	var cols textColumns
	raw := make(map[string]string)
	err := eachLine(ctx, r, func(line int, b []byte) error {
		if cols.n == 0 {
			var err error
			if cols, err = parseTextHeader(string(b)); err != nil {
				return fmt.Errorf("text line %d: %w", line, err)
			}
			return nil
		}
		id, text, err := parseTextRow(string(b), cols)
		if err != nil {
			return fmt.Errorf("text line %d: %w", line, err)
		}
		if _, dup := raw[id]; dup {
			return fmt.Errorf("text line %d: %w: item %q appears twice", line, ErrMalformedRecord, id)
		}
		raw[id] = text
		return nil
	})
	if err == nil && cols.n == 0 {
		err = fmt.Errorf("%w: the .text file is empty", ErrNoData)
	}
	if err != nil {
		return nil, err
	}
	var categories []string
	for _, text := range raw {
		_, c, _ := splitItemText(text, "")
		categories = append(categories, c)
	}
	root := categoryRoot(categories)
	out := make(map[string]itemText, len(raw))
	for id, text := range raw {
		t := itemText{ID: id}
		t.Title, t.Category, t.Brand = splitItemText(text, root)
		out[id] = t
	}
	return out, nil
}

// readInter reads a sequential .inter file, mapping its tokens to IDs
// through items and users when they are not nil.
func readInter(ctx context.Context, name string, r io.Reader, items, users map[string]string) ([]interRow, error) {
	var cols interColumns
	var out []interRow
	lookup := func(index map[string]string, token, what string) (string, error) {
		if index == nil {
			return token, nil
		}
		id, ok := index[token]
		if !ok {
			return "", fmt.Errorf("%w: %s %q is not in the %s2index file", ErrMalformedRecord, what, token, what)
		}
		return id, nil
	}
	err := eachLine(ctx, r, func(line int, b []byte) error {
		if cols.n == 0 {
			var err error
			if cols, err = parseInterHeader(string(b)); err != nil {
				return fmt.Errorf("%s line %d: %w", name, line, err)
			}
			return nil
		}
		row, err := parseInterRow(string(b), cols)
		if err == nil {
			row.User, err = lookup(users, row.User, "user")
		}
		if err == nil {
			row.Item, err = lookup(items, row.Item, "item")
		}
		for i := 0; err == nil && i < len(row.List); i++ {
			row.List[i], err = lookup(items, row.List[i], "item")
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
		out = append(out, row)
		return nil
	})
	if err == nil && cols.n == 0 {
		err = fmt.Errorf("%w: %s is empty", ErrNoData, name)
	}
	return out, err
}
