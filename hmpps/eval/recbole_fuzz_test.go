package eval

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func FuzzParseInterRow(f *testing.F) {
	f.Add("user_id:token\titem_id_list:token_seq\titem_id:token", "0\t0 1 2 3\t4")
	f.Add("item_id:token\tuser_id:token\titem_id_list:token_seq\textra:float", "4\t0\t\t1.5")
	f.Add("user_id:token\titem_id_list:token_seq", "0\t1")
	f.Add("user_id:token\titem_id_list:token_seq\titem_id:token", "a b\t\tc")
	f.Fuzz(func(t *testing.T, header, line string) {
		c, err := parseInterHeader(header)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("header error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		r, err := parseInterRow(line, c)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("row error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		if r.User == "" || r.Item == "" || strings.ContainsAny(r.User+r.Item, " \t") {
			t.Fatalf("accepted a row without single-token user and item: %+v", r)
		}
		for _, tok := range r.List {
			if tok == "" || strings.ContainsAny(tok, " \t\n") {
				t.Fatalf("list token %q is not a token", tok)
			}
		}
	})
}

func FuzzParseIndexLine(f *testing.F) {
	f.Add("B00TNNWMXI\t0")
	f.Add("A B C")
	f.Add("   ")
	f.Fuzz(func(t *testing.T, line string) {
		id, token, err := parseIndexLine(line)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		if id == "" || token == "" || strings.ContainsAny(id+token, " \t") {
			t.Fatalf("accepted %q as %q, %q", line, id, token)
		}
	})
}

func FuzzParseTextRow(f *testing.F) {
	f.Add("item_id:token\ttext:token_seq", "B0000223SI\tPORTER-CABLE Roll. Industrial & Scientific Sanding Rolls. PORTER-CABLE. ", "Industrial & Scientific")
	f.Add("item_id:token\ttext:token_seq", "X\tMr. Heater. Industrial & Scientific Pipe. Mr. Heater. ", "Industrial & Scientific")
	f.Add("text:token_seq\titem_id:token", "T. . B. \tX", "")
	f.Add("item_id:token\ttext:token_seq", "X\t . ", "")
	f.Fuzz(func(t *testing.T, header, line, root string) {
		c, err := parseTextHeader(header)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("header error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		id, text, err := parseTextRow(line, c)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("row error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		if id == "" || strings.ContainsAny(id, " \t") {
			t.Fatalf("accepted item %q", id)
		}
		title, category, brand := splitItemText(text, root)
		if title == "" {
			t.Fatalf("no title from %q (root %q)", text, root)
		}
		// Nothing is invented: every part is text of the line.
		for _, part := range []string{title, category, brand} {
			if !strings.Contains(text, part) {
				t.Fatalf("%q is not part of %q", part, text)
			}
		}
	})
}

func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(`{"asin": "B0000223SI", "description": ["Amazon.com This superior sandpaper", "x"]}`))
	f.Add([]byte(`{"asin": "B1", "description": "one string"}`))
	f.Add([]byte(`{"asin": "B1", "description": null}`))
	f.Add([]byte(`{"asin": "", "description": []}`))
	f.Add([]byte(`{"asin": 3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDescription(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) {
				t.Fatalf("error %v does not wrap ErrMalformedRecord", err)
			}
			return
		}
		if strings.TrimSpace(d.ASIN) == "" || d.ASIN != strings.TrimSpace(d.ASIN) {
			t.Fatalf("accepted asin %q", d.ASIN)
		}
	})
}

// FuzzReadRecBole reads arbitrary .inter files: it either fails with one of
// the package's errors or returns sequences whose last purchase is each
// test row's item.
func FuzzReadRecBole(f *testing.F) {
	header := "user_id:token\titem_id_list:token_seq\titem_id:token\n"
	f.Add(header+"u\tA\tB\nu\t\tA\n", header+"u\tA B\tC\n", header+"u\tA B C\tA\n")
	f.Add(header, header+"u\tA\tB\nv\tB\tA\n", header+"u\tA B\tA\nv\tB A\tB\n")
	f.Add(header+"u\tA B\tA\nu\tA B\tB\n", header+"u\tB A B\tA\n", header+"u\tA B A\tC\n")
	f.Fuzz(func(t *testing.T, train, valid, test string) {
		text := "item_id:token\ttext:token_seq\nA\tTitle A. Cat. Brand. \n"
		d, err := ReadRecBole(context.Background(), "fuzz", RecBoleFiles{Text: strings.NewReader(text),
			Train: strings.NewReader(train), Valid: strings.NewReader(valid), Test: strings.NewReader(test)})
		if err != nil {
			if !errors.Is(err, ErrMalformedRecord) && !errors.Is(err, ErrNoData) {
				t.Fatalf("error %v wraps neither ErrMalformedRecord nor ErrNoData", err)
			}
			return
		}
		for _, s := range d.Sequences() {
			if len(s.Purchases) < 2 {
				t.Fatalf("user %q has %d purchases, fewer than a validation and a test row", s.User, len(s.Purchases))
			}
			for i, p := range s.Purchases {
				if p.Time != int64(i) {
					t.Fatalf("user %q: purchase %d at time %d", s.User, i, p.Time)
				}
			}
		}
		if _, ok := d.Product("A"); !ok {
			t.Fatal("the catalog lost the product with text")
		}
	})
}
