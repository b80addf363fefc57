package milvus

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

func TestMilvusQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"acme", `"acme"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\dir\`, `"C:\\dir\\"`},
		{`\"`, `"\\\""`},
		{"a\nb\rc", `"a\nb\rc"`},
		{"tab\tand nul\x00", "\"tab\tand nul\x00\""},
		{"100% wool_blend", `"100% wool_blend"`},
		{"Été ☃", `"Été ☃"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := quote(tt.in)
			assert.Equal(t, tt.want, got)
			e := &exprEval{src: got}
			back, err := e.literal()
			require.NoError(t, err)
			assert.Equal(t, tt.in, back, "the server decodes the literal to the value")
			assert.Equal(t, len(got), e.pos, "the literal ends where it should")
		})
	}
}

func TestPrefixUpperBound(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a", "b", true},
		{"Clothing > Shoes", "Clothing > Shoet", true},
		{"a\x7f", "a\u0080", true},
		{"é", "ê", true},
		{"\uD7FF", "\uE000", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF\U0010FFFF", "", false},
	}
	for _, tt := range tests {
		got, ok := prefixUpperBound(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		if ok {
			assert.Greater(t, got, tt.in)
			assert.True(t, utf8.ValidString(got))
		}
	}
}

func TestMilvusFilterExpr(t *testing.T) {
	columns := []string{"brand", "category", "color"}
	tests := []struct {
		name   string
		filter retrieval.Filter
		want   string
	}{
		{"empty", nil, ""},
		{"column in", retrieval.Filter{retrieval.In("brand", "a", `b"`, "a")}, `((brand in ["a", "b\""]))`},
		{"column in with empty", retrieval.Filter{retrieval.In("brand", "", "a")},
			`((brand in ["a"]) or (brand == "" and exists metadata["brand"]))`},
		{"column prefix", retrieval.Filter{retrieval.Prefix("category", "Shoes > ")}, `(category >= "Shoes > " and category < "Shoes >!")`},
		{"column has key", retrieval.Filter{retrieval.Prefix("color", "")}, `((color != "") or (exists metadata["color"]))`},
		{"json in", retrieval.Filter{retrieval.In("size", "M", "")}, `(metadata["size"] in ["M", ""])`},
		{"json odd key", retrieval.Filter{retrieval.In(`we"ird`, "x")}, `(metadata["_x776522697264"] in ["x"])`},
		{"json prefix", retrieval.Filter{retrieval.Prefix("size", `a\`)}, `(metadata["size"] >= "a\\" and metadata["size"] < "a]")`},
		{"json has key", retrieval.Filter{retrieval.Prefix("size", "")}, `(exists metadata["size"])`},
		{"two conditions", retrieval.Filter{retrieval.In("brand", "a"), retrieval.Prefix("size", "b")},
			`((brand in ["a"])) and (metadata["size"] >= "b" and metadata["size"] < "c")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := filterExpr(tt.filter, columns)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	_, err := filterExpr(retrieval.Filter{retrieval.In("brand", "ok", "\xff")}, columns)
	require.ErrorIs(t, err, retrieval.ErrInvalidFilter)
	require.ErrorIs(t, err, ErrNotUTF8)
	_, err = filterExpr(retrieval.Filter{{Field: "brand", Op: retrieval.OpIn}}, columns)
	require.ErrorIs(t, err, retrieval.ErrInvalidFilter)
}

func TestMilvusMetadataLayout(t *testing.T) {
	columns := []string{"brand", "category", "color"}
	tests := []struct {
		name     string
		md       map[string]string
		wantCols []string
		wantJSON string
	}{
		{"none", nil, []string{"", "", ""}, `{}`},
		{"columns only", map[string]string{"brand": "a", "color": "red"}, []string{"a", "", "red"}, `{}`},
		{"empty column value is marked", map[string]string{"brand": ""}, []string{"", "", ""}, `{"brand":""}`},
		{"rest in json", map[string]string{"size": "M", "<b>": "&"}, []string{"", "", ""}, `{"_x3c623e":"&","size":"M"}`},
		{"key that looks encoded", map[string]string{"_x41": "v"}, []string{"", "", ""}, `{"_x5f783431":"v"}`},
		{"empty key", map[string]string{"": "v"}, []string{"", "", ""}, `{"_x":"v"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := splitMetadata(tt.md, columns)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCols, row.columns)
			assert.JSONEq(t, tt.wantJSON, string(row.json))
			back, err := joinMetadata(row, columns)
			require.NoError(t, err)
			if len(tt.md) == 0 {
				assert.Nil(t, back)
			} else {
				assert.Equal(t, tt.md, back)
			}
		})
	}
	_, err := splitMetadata(map[string]string{"brand": "\xc3"}, columns)
	require.ErrorIs(t, err, ErrNotUTF8)
	_, err = splitMetadata(map[string]string{"brand": string(make([]byte, MaxLength+1))}, columns)
	require.ErrorIs(t, err, retrieval.ErrRecordTooLarge)
}

// FuzzMilvusFilterExpr checks that no filter value, field name or metadata
// can make the translated expression select differently from the filter:
// the expression is parsed by Milvus's lexical rules and evaluated against
// the row the metadata is stored as, and must agree with retrieval.Filter.Match.
func FuzzMilvusFilterExpr(f *testing.F) {
	f.Add("brand", false, `a"b`, `c\`, `a"b`, "x", uint8(3))
	f.Add("category", true, "Shoes", "", "Shoes > Boots", "", uint8(1))
	f.Add("size", true, `100%_`, "", `100%_x`, `" or "" == "`, uint8(7))
	f.Add("color", false, "", "red", "", "red\n", uint8(6))
	f.Add("brand", true, "", "", "", "", uint8(2))
	f.Add(`we"ird\`, false, "\" or id != \"", `'`, "\" or id != \"", "\r\n", uint8(5))
	f.Add("brand", true, "\U0010FFFF", "", "\U0010FFFF\U0010FFFF", "é", uint8(3))
	columns := []string{"brand", "category", "color"}
	f.Fuzz(func(t *testing.T, field string, prefix bool, v1, v2, m1, m2 string, present uint8) {
		c := retrieval.In(field, v1, v2)
		if prefix {
			c = retrieval.Prefix(field, v1)
		}
		filter := retrieval.Filter{c}
		if present&4 != 0 {
			filter = append(filter, retrieval.In("brand", m1, v2))
		}
		expr, err := filterExpr(filter, columns)
		if field == "" {
			require.ErrorIs(t, err, retrieval.ErrInvalidFilter)
			return
		}
		valid := utf8.ValidString
		if !valid(v1) || (!prefix && !valid(v2)) || (present&4 != 0 && !(valid(m1) && valid(v2))) {
			require.ErrorIs(t, err, ErrNotUTF8)
			return
		}
		require.NoError(t, err)
		if !utf8.ValidString(field) || !utf8.ValidString(m1) || !utf8.ValidString(m2) {
			return // such metadata cannot be stored
		}
		md := map[string]string{}
		if present&1 != 0 {
			md[field] = m1
		}
		if present&2 != 0 {
			md["brand"] = m2
		}
		if present&8 != 0 {
			md["color"] = m2
		}
		row, err := splitMetadata(md, columns)
		require.NoError(t, err)
		cols := map[string]string{idField: "id"}
		for i, c := range columns {
			cols[c] = row.columns[i]
		}
		var stored map[string]string
		require.NoError(t, json.Unmarshal(row.json, &stored))
		got, err := evalExpr(expr, cols, stored)
		require.NoError(t, err, "expression %s", expr)
		assert.Equal(t, filter.Match(md), got, "filter %q on %q: expression %s", filter, md, expr)
	})
}
