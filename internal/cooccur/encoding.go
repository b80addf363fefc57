package cooccur

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrInvalidTable reports an encoded table that does not decode to one Learn
// could have made.
var ErrInvalidTable = errors.New("cooccur: invalid table")

// tableJSON is a table's encoding: its options, its products with the
// number of sequences that hold each, and its pairs in key order, as three
// parallel lists (lower index, higher index, weight).
type tableJSON struct {
	Window    int       `json:"window"`
	Decay     float64   `json:"decay"`
	Sequences float64   `json:"sequences"`
	Items     []string  `json:"items"`
	Holders   []float64 `json:"holders"`
	A         []int32   `json:"a"`
	B         []int32   `json:"b"`
	W         []float64 `json:"w"`
}

// MarshalJSON implements json.Marshaler.
func (t *Table) MarshalJSON() ([]byte, error) {
	doc := tableJSON{Window: t.opts.Window, Decay: t.opts.Decay, Sequences: t.n, Items: t.ids, Holders: t.sequences}
	for i, row := range t.rows {
		for _, c := range row {
			if int32(i) < c.item {
				doc.A, doc.B, doc.W = append(doc.A, int32(i)), append(doc.B, c.item), append(doc.W, c.weight)
			}
		}
	}
	if doc.Items == nil {
		doc.Items, doc.Holders = []string{}, []float64{}
	}
	return json.Marshal(doc)
}

// UnmarshalJSON implements json.Unmarshaler. An encoding Learn could not
// have made (pairs out of order or out of range, a product twice, a
// weight or count that is not a finite positive number) is an error
// wrapping ErrInvalidTable. The decoded table's strengths are those of the
// encoded one, bit for bit.
func (t *Table) UnmarshalJSON(b []byte) error {
	var doc tableJSON
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidTable, err)
	}
	n := len(doc.Items)
	switch {
	case doc.Window == 0 || doc.Decay < 0 || math.IsNaN(doc.Decay) || math.IsInf(doc.Decay, 0):
		return fmt.Errorf("%w: window %d, decay %v", ErrInvalidTable, doc.Window, doc.Decay)
	case len(doc.Holders) != n:
		return fmt.Errorf("%w: %d holder counts for %d products", ErrInvalidTable, len(doc.Holders), n)
	case len(doc.A) != len(doc.B) || len(doc.A) != len(doc.W):
		return fmt.Errorf("%w: pair lists of %d, %d and %d", ErrInvalidTable, len(doc.A), len(doc.B), len(doc.W))
	case !finite(doc.Sequences) || doc.Sequences < 0:
		return fmt.Errorf("%w: %v sequences", ErrInvalidTable, doc.Sequences)
	}
	out := Table{index: make(map[string]int32, n), opts: Options{Window: doc.Window, Decay: doc.Decay},
		ids: doc.Items, sequences: doc.Holders, n: doc.Sequences}
	for i, id := range doc.Items {
		if _, dup := out.index[id]; dup || id == "" {
			return fmt.Errorf("%w: product %q is empty or listed twice", ErrInvalidTable, id)
		}
		out.index[id] = int32(i)
		if h := doc.Holders[i]; !finite(h) || h < 1 || h > doc.Sequences {
			return fmt.Errorf("%w: product %q held by %v of %v sequences", ErrInvalidTable, id, h, doc.Sequences)
		}
	}
	keys := make([][2]int32, len(doc.A))
	for k := range doc.A {
		a, b, w := doc.A[k], doc.B[k], doc.W[k]
		switch {
		case a < 0 || b >= int32(n) || a >= b:
			return fmt.Errorf("%w: pair (%d, %d) of %d products", ErrInvalidTable, a, b, n)
		case k > 0 && comparePairs(keys[k-1], [2]int32{a, b}) >= 0:
			return fmt.Errorf("%w: pairs out of order at %d", ErrInvalidTable, k)
		case !finite(w) || w <= 0:
			return fmt.Errorf("%w: pair (%d, %d) weighs %v", ErrInvalidTable, a, b, w)
		}
		keys[k] = [2]int32{a, b}
	}
	out.fill(keys, doc.W)
	*t = out
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
