package cooccur

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithoutIsTheTableNeverShownThoseSequences checks, on random
// sequences, that a table read without some of its sequences gives every
// weight, strength and neighbour list of the table learned without them.
func TestWithoutIsTheTableNeverShownThoseSequences(t *testing.T) {
	for _, opts := range []Options{{Window: 1}, {Window: 3, Decay: 1}, {Window: -1}} {
		seqs := randomSequences(200, 40, 3)
		full := Learn(seqs, opts)
		for _, out := range [][]int{{0}, {5}, {7, 8, 9}} {
			var left [][]string
			var gone [][]string
			for i, s := range seqs {
				if contains(out, i) {
					gone = append(gone, s)
				} else {
					left = append(left, s)
				}
			}
			want := Learn(left, opts)
			v := full.Without(gone...)
			for _, a := range full.ids {
				assert.Equal(t, want.Without().Holders(a), v.Holders(a), "holders of %s", a)
				for _, b := range full.ids {
					assert.InDelta(t, want.Weight(a, b), v.Weight(a, b), 1e-9, "%s %s", a, b)
					for _, n := range Normalizations() {
						assert.InDelta(t, want.Strength(a, b, n), v.Strength(a, b, n), 1e-9, "%v %s %s %s", opts, n, a, b)
					}
				}
			}
			for _, n := range Normalizations() {
				from := []string{"p1", "p2", "p30"}
				got, err := v.Related(from, nil, n)
				require.NoError(t, err)
				exp, err := want.Related(from, nil, n)
				require.NoError(t, err)
				require.Len(t, got, len(exp), "%s", n)
				for i := range got {
					assert.InDelta(t, exp[i].Strength, got[i].Strength, 1e-9)
				}
			}
		}
	}
	var zero View
	assert.Zero(t, zero.Strength("a", "b", NormRaw))
	got, err := zero.Related([]string{"a"}, nil, NormRaw)
	assert.NoError(t, err)
	assert.Empty(t, got)
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestEncodingRoundTrips(t *testing.T) {
	for _, tb := range []*Table{
		Learn(randomSequences(300, 60, 9), Options{Window: 4, Decay: 0.5}),
		Learn(nil, Options{}),
		Learn([][]string{{"a"}}, Options{Window: -1}),
	} {
		b, err := json.Marshal(tb)
		require.NoError(t, err)
		var back Table
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, tb.Options(), back.Options())
		assert.Equal(t, tb.Len(), back.Len())
		assert.Equal(t, tb.Pairs(), back.Pairs())
		for _, a := range tb.ids {
			for _, c := range tb.ids {
				for _, n := range Normalizations() {
					assert.Equal(t, tb.Strength(a, c, n), back.Strength(a, c, n), "bit for bit: %s %s %s", n, a, c)
				}
			}
		}
		again, err := json.Marshal(&back)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(again))
	}
}

func TestDecodingRejectsWhatLearnCannotMake(t *testing.T) {
	valid := `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1],"w":[1]}`
	var ok Table
	require.NoError(t, json.Unmarshal([]byte(valid), &ok))
	assert.Equal(t, 1.0, ok.Weight("a", "b"))
	tests := map[string]string{
		"no window":         `{"window":0,"decay":0,"sequences":1,"items":[],"holders":[]}`,
		"negative decay":    `{"window":1,"decay":-1,"sequences":1,"items":[],"holders":[]}`,
		"holders short":     `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1],"a":[],"b":[],"w":[]}`,
		"held by none":      `{"window":1,"decay":0,"sequences":2,"items":["a"],"holders":[0]}`,
		"held by too many":  `{"window":1,"decay":0,"sequences":2,"items":["a"],"holders":[3]}`,
		"empty ID":          `{"window":1,"decay":0,"sequences":2,"items":[""],"holders":[1]}`,
		"ID twice":          `{"window":1,"decay":0,"sequences":2,"items":["a","a"],"holders":[1,1]}`,
		"pair out of range": `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[2],"w":[1]}`,
		"pair reversed":     `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[1],"b":[0],"w":[1]}`,
		"pair twice":        `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0,0],"b":[1,1],"w":[1,1]}`,
		"zero weight":       `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1],"w":[0]}`,
		"lists of unequal":  `{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1],"w":[]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			var tb Table
			assert.ErrorIs(t, json.Unmarshal([]byte(doc), &tb), ErrInvalidTable)
		})
	}
	assert.False(t, finite(math.NaN()))
}

func FuzzDecodeTable(f *testing.F) {
	b, _ := json.Marshal(Learn(randomSequences(20, 8, 1), Options{Window: 2, Decay: 1}))
	f.Add(b)
	f.Add([]byte(`{"window":1,"decay":0,"sequences":2,"items":["a","b"],"holders":[1,2],"a":[0],"b":[1],"w":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var tb Table
		if err := json.Unmarshal(data, &tb); err != nil {
			return
		}
		// A decoded table answers without panicking, never negative.
		for _, a := range tb.ids {
			for _, n := range Normalizations() {
				got, err := tb.Related([]string{a}, nil, n)
				if err != nil {
					t.Fatal(err)
				}
				for _, nb := range got {
					if !(nb.Strength > 0) || math.IsInf(nb.Strength, 0) {
						t.Fatalf("strength %v", nb.Strength)
					}
				}
			}
		}
	})
}
