package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
)

// Nesting deeper than the service's bodies need is refused before it is
// decoded, however deep: a body of a million '[' costs its bytes, no more.
func TestDeeplyNestedJSON(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxBodyBytes = defaultMaxBodyBytes
	srv, eng := newTestServer(t, cfg)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, body := range []string{
		`{"query":` + deep(1_000_000) + `}`,
		strings.Repeat("[", 4_000_000),
		strings.Repeat(`{"a":`, 1_000_000),
		`{"products":[{"id":"x","title":"X","attributes":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}]}`,
	} {
		for _, ep := range []struct{ method, path string }{{"POST", "/search"}, {"PUT", "/products"}} {
			start := time.Now()
			status, _, b := call(t, srv, ep.method, ep.path, body)
			require.Equal(t, 400, status, "%.200s", b)
			assert.Contains(t, string(b), "nested deeper than 32")
			t.Logf("%s %d bytes: refused in %s", ep.method, len(body), time.Since(start).Round(time.Millisecond))
		}
	}
	assert.Equal(t, 54, eng.Len())
}

// A name twice in one object, or a field's name in another case, means one
// thing to encoding/json (the last one wins; case is ignored) and maybe
// another to whatever read the request before: refused.
func TestDuplicateKeys(t *testing.T) {
	srv, eng := newTestServer(t, testConfig(t))
	tests := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"search query twice", "POST", "/search", `{"query":"boots","query":"socks"}`, 400, `"query" is given twice`},
		{"escaped twin", "POST", "/search", `{"query":"boots","q\u0075ery":"socks"}`, 400, `"query" is given twice`},
		{"another case", "POST", "/search", `{"query":"boots","Query":"socks"}`, 400, `did you mean "query"`},
		{"Kelvin sign folds to k", "POST", "/search", `{"query":"boots","top_n":1,"history_\u212a":1}`, 400, `did you mean "history_k"`},
		{"filter value list twice", "POST", "/search", `{"query":"boots","filter":[{"field":"brand","values":["a"],"values":["Ashcombe"]}]}`, 400, `"values" is given twice`},
		{"attribute twice", "PUT", "/products", `{"products":[{"id":"x","title":"X","attributes":{"color":"red","color":"blue"}}]}`, 400, `"color" is given twice`},
		{"product id twice", "PUT", "/products", `{"products":[{"id":"boot-01","title":"X","id":"new-01"}]}`, 400, `"id" is given twice`},
		{"attributes differing in case are two", "PUT", "/products", `{"products":[{"id":"x","title":"X","attributes":{"color":"red","Color":"blue"}}]}`, 200, ""},
		{"the same name in two objects", "POST", "/search", `{"query":"boots","history":[{"id":"h1","title":"a"},{"id":"h2","title":"b"}]}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, b := call(t, srv, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, status, "%s", b)
			if tt.message != "" {
				var e errorBody
				require.NoError(t, json.Unmarshal(b, &e))
				assert.Equal(t, "bad_request", e.Error.Code)
				assert.Contains(t, e.Error.Message, tt.message)
			}
		})
	}
	_, err := eng.Get(context.Background(), "new-01")
	assert.ErrorIs(t, err, hmpps.ErrNotFound)
	p, err := eng.Get(context.Background(), "boot-01")
	require.NoError(t, err)
	assert.Equal(t, "Heritage Waterproof Leather Boots", p.Title, "refused writes changed nothing")
}

func TestCheckJSONShape(t *testing.T) {
	type inner struct {
		B string            `json:"b"`
		M map[string]string `json:"m"`
	}
	type outer struct {
		A     string  `json:"a"`
		In    inner   `json:"in"`
		List  []inner `json:"list"`
		Plain int
		Skip  int `json:"-"`
	}
	typ := reflect.TypeFor[outer]()
	tests := []struct {
		body, err string
	}{
		{`{"a":"x","in":{"b":"y","m":{"k":"v","K":"w"}},"list":[{"b":"1"},{"b":"2"}],"Plain":1}`, ""},
		{`{"a":"x","a":"y"}`, `"a" is given twice`},
		{`{"a":"x","\u0061":"y"}`, `"a" is given twice`},
		{`{"A":"x"}`, `did you mean "a"`},
		{`{"plain":1}`, `did you mean "Plain"`},
		{`{"in":{"B":"x"}}`, `did you mean "b"`},
		{`{"list":[{"b":"1","b":"2"}]}`, `"b" is given twice`},
		{`{"in":{"m":{"k":"1","k":"2"}}}`, `"k" is given twice`},
		{`{"unknown":{"x":1,"x":2}}`, `"x" is given twice`},
		{`{"unknown":{"X":1,"x":2}}`, ""}, // no field: case is not folded
		{`{"Skip":1}`, ""},                // left to the decoder
		{`[{"a":1,"a":2}]`, `"a" is given twice`},
		{`{"a":`, ""}, // syntax errors are the decoder's
		{`{"a" "x"}`, ""},
		{`{"a":"x"} {"a":1,"a":2}`, ""}, // trailing data is the decoder's
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), ""},
		{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), "nested deeper than 32"},
		{strings.Repeat(`{"a":`, maxJSONDepth+1), "nested deeper than 32"},
	}
	for _, tt := range tests {
		err := checkJSONShape([]byte(tt.body), typ)
		if tt.err == "" {
			assert.NoError(t, err, tt.body)
			continue
		}
		if assert.Error(t, err, tt.body) {
			assert.Contains(t, err.Error(), tt.err, tt.body)
		}
	}
}

// BenchmarkDecodeJSON is what reading a body costs, on a batch like one of
// TestLoad's (twenty products with pictures): decodeJSON as the handlers
// call it, its shape check (duplicate names, case, depth) alone, the
// token-based reference of that check, and encoding/json's decoding alone.
func BenchmarkDecodeJSON(b *testing.B) {
	demo := democatalog.Products()
	var batch upsertRequest
	for i := range 20 {
		p := demo[i%len(demo)]
		batch.Products = append(batch.Products, product{ID: fmt.Sprintf("load-%d", i), Title: p.Title, Brand: p.Brand,
			Category: p.Category, Description: p.Description, Attributes: p.Attributes, Images: []image{{Data: p.Images[0].Data}}})
	}
	body := mustJSON(b, batch)
	typ := reflect.TypeFor[upsertRequest]()
	for _, bm := range []struct {
		name string
		run  func() error
	}{
		{"decodeJSON", func() error {
			_, err := decodeJSON[upsertRequest](httptest.NewRequest("PUT", "/products", strings.NewReader(body)))
			return err
		}},
		{"shape check", func() error { return checkJSONShape([]byte(body), typ) }},
		{"shape check on tokens", func() error { return checkJSONShapeTokens([]byte(body), typ) }},
		{"decode only", func() error {
			var v upsertRequest
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			return dec.Decode(&v)
		}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := bm.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// checkJSONShapeTokens is checkJSONShape written the plain way, on
// json.Decoder's tokens: slower, and the reference FuzzCheckJSONShape
// holds the byte scanner to.
func checkJSONShapeTokens(data []byte, t reflect.Type) error {
	c := tokenChecker{dec: json.NewDecoder(bytes.NewReader(data))}
	err := c.value(t)
	if errors.Is(err, errJSONSyntax) {
		return nil
	}
	return err
}

// tokenChecker walks a JSON value's tokens alongside the Go type it is
// decoded into; a nil type is a part no field takes.
type tokenChecker struct {
	dec   *json.Decoder
	depth int
}

func (c *tokenChecker) value(t reflect.Type) error {
	tok, err := c.dec.Token()
	if err != nil {
		return errJSONSyntax
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		return c.nested(func() error { return c.object(t) })
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		return c.nested(func() error {
			for c.dec.More() {
				if err := c.value(elem); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return nil
}

// nested runs the members of an object or array one level deeper, then
// reads its closing token.
func (c *tokenChecker) nested(members func() error) error {
	if c.depth == maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	c.depth++
	defer func() { c.depth-- }()
	if err := members(); err != nil {
		return err
	}
	if _, err := c.dec.Token(); err != nil {
		return errJSONSyntax
	}
	return nil
}

func (c *tokenChecker) object(t reflect.Type) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return errJSONSyntax
		}
		name, ok := tok.(string)
		if !ok {
			return errJSONSyntax
		}
		if seen[name] {
			return fmt.Errorf("the name %q is given twice in one object", name)
		}
		seen[name] = true
		ft := elem
		if fields != nil {
			var known bool
			if ft, known = fields[name]; !known {
				for field := range fields {
					if strings.EqualFold(name, field) {
						return fmt.Errorf("unknown field %q: names are case-sensitive; did you mean %q?", name, field)
					}
				}
			}
		}
		if err := c.value(ft); err != nil {
			return err
		}
	}
	return nil
}

// FuzzCheckJSONShape: on any valid JSON the byte scanner finds what the
// token reference finds, and on any input it does not panic.
func FuzzCheckJSONShape(f *testing.F) {
	for _, s := range []string{
		`{"query":"boots","history":[{"id":"h","title":"a","attributes":{"k":"v","K":"w"}}],"filter":[{"field":"brand","values":["a"]}]}`,
		`{"query":"a","q\u0075ery":"b"}`, `{"Query":"a"}`, `{"history":[{"id":"a","images":[{"data":"AAAA"}]}]}`,
		`{"query":"a\"b\\","top_n":1e3,"exclude_history":true,"history_k":null}`, `[[[[]]]]`,
		"{\"a\xff\":1,\"a\xfe\":2}", `{"x":{"y":[1,{"y":2,"y":3}]}}`, `"s"`, `1`,
	} {
		f.Add([]byte(s))
	}
	typ := reflect.TypeFor[searchRequest]()
	f.Fuzz(func(t *testing.T, data []byte) {
		got := checkJSONShape(data, typ)
		if !json.Valid(data) {
			return
		}
		want := checkJSONShapeTokens(data, typ)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: scanner says %v, tokens say %v", data, got, want)
		}
	})
}
