package cooccur

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameFloat is bit-for-bit equality, NaN equal to itself.
func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// equalTables reports what differs between two tables, every weight,
// count and sum compared bit for bit; "" when nothing does.
func equalTables(a, b *Table) string {
	switch {
	case a.opts.Window != b.opts.Window || !sameFloat(a.opts.Decay, b.opts.Decay):
		return "options"
	case len(a.ids) != len(b.ids) || len(a.rows) != len(b.rows) || len(a.margin) != len(b.margin) || len(a.sequences) != len(b.sequences):
		return "sizes"
	case !sameFloat(a.n, b.n) || !sameFloat(a.total, b.total):
		return "totals"
	}
	for i := range a.ids {
		if a.ids[i] != b.ids[i] || b.index[a.ids[i]] != int32(i) || len(a.index) != len(b.index) {
			return "ids"
		}
		if !sameFloat(a.sequences[i], b.sequences[i]) || !sameFloat(a.margin[i], b.margin[i]) {
			return "counts of " + a.ids[i]
		}
		if len(a.rows[i]) != len(b.rows[i]) {
			return "row of " + a.ids[i]
		}
		for k, c := range a.rows[i] {
			if c.item != b.rows[i][k].item || !sameFloat(c.weight, b.rows[i][k].weight) {
				return "row of " + a.ids[i]
			}
		}
	}
	return ""
}

// TestTableJSONRoundTrip proves that a table survives MarshalJSON and
// UnmarshalJSON whole: options, products, holder counts, every weight and
// margin bit for bit, and so every view of it; alone and inside a
// document, as a model file holds it.
func TestTableJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		seqs [][]string
		opts Options
	}{
		{"random, decayed", randomSequences(200, 50, 11), Options{Window: 4, Decay: 0.5}},
		{"random, whole sequence", randomSequences(50, 20, 12), Options{Window: -1, Decay: 1.3}},
		{"defaults", [][]string{{"a", "b", "a"}, {"c"}}, Options{}},
		{"no pairs", [][]string{{"a"}, {"b"}}, Options{Window: 1}},
		{"nothing", nil, Options{Window: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := Learn(tt.seqs, tt.opts)
			b, err := tb.MarshalJSON()
			require.NoError(t, err)
			var back Table
			require.NoError(t, back.UnmarshalJSON(b))
			assert.Empty(t, equalTables(tb, &back))
			assert.Equal(t, tb.Options(), back.Options())
			ids := idsOf(tt.seqs)
			for _, a := range ids {
				for _, c := range ids {
					assert.True(t, sameFloat(tb.Weight(a, c), back.Weight(a, c)), "%s %s", a, c)
				}
			}
			if len(tt.seqs) > 0 {
				assertViewsAgree(t, tb.Without(tt.seqs[0]), back.Without(tt.seqs[0]), ids)
			}
			again, err := back.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, string(b), string(again), "the encoding is stable")

			// Inside a document, by pointer, as a model file holds it.
			type doc struct {
				Table *Table `json:"table"`
				After int    `json:"after"`
			}
			b, err = json.Marshal(doc{Table: tb, After: 7})
			require.NoError(t, err)
			var d doc
			require.NoError(t, json.Unmarshal(b, &d))
			require.NotNil(t, d.Table)
			assert.Empty(t, equalTables(tb, d.Table))
			assert.Equal(t, 7, d.After)
		})
	}
}

// TestTableJSONRefusesCorruptInput proves that an encoding Learn could not
// have made, or one cut short anywhere, is refused with ErrInvalidTable
// and without panicking, and that a refused decoding leaves the table it
// was decoding into as it was.
func TestTableJSONRefusesCorruptInput(t *testing.T) {
	const valid = `{"window":2,"decay":0,"sequences":3,"items":["a","b","c"],"holders":[1,2,3],"a":[0,0,1],"b":[1,2,2],"w":[1,2,1]}`
	var ok Table
	require.NoError(t, ok.UnmarshalJSON([]byte(valid)))
	require.Equal(t, 2.0, ok.Weight("a", "c"))
	tests := map[string]string{
		"not JSON":              `window`,
		"null":                  `null`,
		"an array":              `[1,2]`,
		"a string window":       `{"window":"2","decay":0,"sequences":1,"items":[],"holders":[]}`,
		"NaN decay":             `{"window":2,"decay":NaN,"sequences":1,"items":[],"holders":[]}`,
		"infinite decay":        `{"window":2,"decay":1e999,"sequences":1,"items":[],"holders":[]}`,
		"negative decay":        `{"window":2,"decay":-0.5,"sequences":1,"items":[],"holders":[]}`,
		"negative sequences":    `{"window":2,"decay":0,"sequences":-1,"items":[],"holders":[]}`,
		"infinite sequences":    `{"window":2,"decay":0,"sequences":1e400,"items":[],"holders":[]}`,
		"holders long":          `{"window":2,"decay":0,"sequences":3,"items":["a"],"holders":[1,2]}`,
		"holders missing":       `{"window":2,"decay":0,"sequences":3,"items":["a"]}`,
		"negative holders":      `{"window":2,"decay":0,"sequences":3,"items":["a"],"holders":[-1]}`,
		"a list short":          `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[],"b":[1],"w":[1]}`,
		"b list short":          `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[],"w":[1]}`,
		"w list long":           `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[1],"w":[1,1]}`,
		"negative index":        `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[-1],"b":[1],"w":[1]}`,
		"index past the end":    `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[5],"w":[1]}`,
		"index beyond int32":    `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[4294967297],"w":[1]}`,
		"pair with itself":      `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[1],"b":[1],"w":[1]}`,
		"pairs without items":   `{"window":2,"decay":0,"sequences":3,"items":[],"holders":[],"a":[0],"b":[1],"w":[1]}`,
		"pairs out of order":    `{"window":2,"decay":0,"sequences":3,"items":["a","b","c"],"holders":[1,1,1],"a":[1,0],"b":[2,1],"w":[1,1]}`,
		"negative weight":       `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[1],"w":[-1]}`,
		"NaN weight":            `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[1],"w":[NaN]}`,
		"infinite weight":       `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[1],"w":[1e309]}`,
		"a string weight":       `{"window":2,"decay":0,"sequences":3,"items":["a","b"],"holders":[1,1],"a":[0],"b":[1],"w":["1"]}`,
		"an ID that is no text": `{"window":2,"decay":0,"sequences":3,"items":[1,2],"holders":[1,1]}`,
	}
	// Every cut of a valid encoding is refused.
	for i := range len(valid) {
		tests[fmt.Sprintf("cut at %d", i)] = valid[:i]
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			tb := Learn([][]string{{"x", "y"}}, Options{Window: 1})
			before, err := tb.MarshalJSON()
			require.NoError(t, err)
			require.NotPanics(t, func() { err = tb.UnmarshalJSON([]byte(doc)) })
			assert.ErrorIs(t, err, ErrInvalidTable)
			after, err := tb.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "a refused decoding changes nothing")

			// Inside a document the decoder refuses it as well.
			var d struct {
				Table *Table `json:"table"`
			}
			require.NotPanics(t, func() { err = json.Unmarshal([]byte(`{"table":`+doc+`}`), &d) })
			if doc != "null" {
				assert.Error(t, err)
			}
		})
	}
}

// FuzzTableJSON proves that no input makes UnmarshalJSON panic, that every
// refusal wraps ErrInvalidTable, and that a table it accepts answers
// without panicking and re-encodes to itself: the re-encoding decodes to
// an equal table, which encodes to the same bytes.
func FuzzTableJSON(f *testing.F) {
	for _, tb := range []*Table{
		Learn(randomSequences(30, 10, 5), Options{Window: 3, Decay: 0.7}),
		Learn([][]string{{"a", "b", "a"}, {"c"}}, Options{Window: -1}),
		Learn(nil, Options{}),
	} {
		b, err := tb.MarshalJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"window":1,"decay":-0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1],"w":[1e308]}`))
	f.Add([]byte(`{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tb Table
		if err := tb.UnmarshalJSON(data); err != nil {
			if !errors.Is(err, ErrInvalidTable) {
				t.Fatalf("refused without ErrInvalidTable: %v", err)
			}
			return
		}
		b, err := tb.MarshalJSON()
		if err != nil {
			t.Fatalf("an accepted table does not encode: %v", err)
		}
		var back Table
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("the re-encoding of an accepted table is refused: %v\n%s", err, b)
		}
		if diff := equalTables(&tb, &back); diff != "" {
			t.Fatalf("the re-encoding differs in its %s\n%s", diff, b)
		}
		again, err := back.MarshalJSON()
		if err != nil || !bytes.Equal(b, again) {
			t.Fatalf("the encoding is not stable: %v\n%s\n%s", err, b, again)
		}
		ids := append(append([]string(nil), tb.ids...), "unknown")
		if len(ids) > 20 {
			ids = ids[:20]
		}
		v := tb.Without(ids[:len(ids)/2])
		for _, n := range Normalizations() {
			for _, view := range []View{tb.Without(), v} {
				got, err := view.Strongest(ids, nil, n, 3, func(id string) bool { return !strings.HasPrefix(id, "a") })
				if err != nil {
					t.Fatal(err)
				}
				for _, nb := range got {
					if math.IsNaN(nb.Strength) || nb.Strength < 0 {
						t.Fatalf("%s strength %v", n, nb.Strength)
					}
				}
				view.TwoSteps(ids, ids)
			}
		}
	})
}
