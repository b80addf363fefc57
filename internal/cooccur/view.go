package cooccur

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"hmpps/internal/topk"
)

// View reads a Table as if some of the sequences it learned from had never
// been seen: what a model trained on a shopper's purchases must read when it
// learns from that same shopper, so that the shopper's own purchases are
// not evidence for themselves (their purchase would co-occur with their own
// history in the table, which it never does for a purchase still to come).
// The zero View reads nothing; Table.Without makes one. A View is safe for
// concurrent use.
type View struct {
	t *Table
	// d is what the left-out sequences added to t; nil for none.
	d *delta
}

// delta is the share of a table's sums that some sequences contributed.
type delta struct {
	// own are the indexes of the left-out sequences' products, sorted:
	// a pair or margin of any other product is the table's as it is.
	own    []int32
	pairs  map[[2]int32]float64
	margin map[int32]float64
	holds  map[int32]float64
	total  float64
	n      float64
}

// residue is below what any pair weighs: a difference of sums this small
// is a pair that only the left-out sequences held, less rounding.
const residue = 1e-9

// Without returns a view of t without the co-occurrences, margins and
// holder counts that seqs contributed; with no seqs, t as it is. Each of
// seqs must be one of the sequences t learned from (not checked: a
// sequence it did not learn from is subtracted all the same, and sums that
// would turn negative read as 0).
func (t *Table) Without(seqs ...[]string) View {
	v := View{t: t}
	if len(seqs) == 0 {
		return v
	}
	d := &delta{pairs: make(map[[2]int32]float64), margin: make(map[int32]float64), holds: make(map[int32]float64)}
	var items []int32
	for _, seq := range seqs {
		items = items[:0]
		held := false
		for _, id := range seq {
			i, ok := t.index[id]
			if id == "" || !ok {
				continue
			}
			items = append(items, i)
			held = true
			d.holds[i] = 1
		}
		if held {
			d.n++
		}
		countPairs(items, t.opts, func(x, y int32, w float64) {
			d.pairs[[2]int32{x, y}] += w
			d.margin[x] += w
			d.margin[y] += w
			d.total += 2 * w
		})
	}
	// holds counts sequences: a product in two left-out sequences was held
	// by both.
	if len(seqs) > 1 {
		clear(d.holds)
		for _, seq := range seqs {
			seen := make(map[int32]bool)
			for _, id := range seq {
				if i, ok := t.index[id]; ok && id != "" && !seen[i] {
					seen[i] = true
					d.holds[i]++
				}
			}
		}
	}
	for i := range d.holds {
		d.own = append(d.own, i)
	}
	slices.Sort(d.own)
	v.d = d
	return v
}

// owns reports whether product i is one of the left-out sequences'.
func (d *delta) owns(i int32) bool {
	_, ok := slices.BinarySearch(d.own, i)
	return ok
}

// Table returns the table the view reads.
func (v View) Table() *Table { return v.t }

// Weight returns the summed weight of a and b's co-occurrences in the view.
func (v View) Weight(a, b string) float64 {
	i, j, ok := v.pair(a, b)
	if !ok {
		return 0
	}
	return v.weight(i, j)
}

// Strength is Table.Strength in the view.
func (v View) Strength(from, to string, n Normalization) float64 {
	i, j, ok := v.pair(from, to)
	if !ok {
		return 0
	}
	return v.strength(i, j, v.weight(i, j), n)
}

// Holders returns how many of the view's sequences hold the product.
func (v View) Holders(id string) float64 {
	if v.t == nil {
		return 0
	}
	i, ok := v.t.index[id]
	if !ok {
		return 0
	}
	return v.holders(i)
}

func (v View) pair(a, b string) (int32, int32, bool) {
	if v.t == nil {
		return 0, 0, false
	}
	i, okA := v.t.index[a]
	j, okB := v.t.index[b]
	return i, j, okA && okB
}

// weight is the view's weight of the pair (i, j), 0 when it is only the
// left-out sequences'.
func (v View) weight(i, j int32) float64 {
	w := v.t.weight(i, j)
	return v.less(w, i, j)
}

// less takes the left-out sequences' part out of the weight w of (i, j).
func (v View) less(w float64, i, j int32) float64 {
	if v.d == nil || w == 0 || !v.d.owns(i) || !v.d.owns(j) {
		return w
	}
	w -= v.d.pairs[[2]int32{min(i, j), max(i, j)}]
	if w < residue {
		return 0
	}
	return w
}

func (v View) margin(i int32) float64 {
	m := v.t.margin[i]
	if v.d != nil && v.d.owns(i) {
		m -= v.d.margin[i]
	}
	return max(m, 0)
}

func (v View) holders(i int32) float64 {
	s := v.t.sequences[i]
	if v.d != nil && v.d.owns(i) {
		s -= v.d.holds[i]
	}
	return max(s, 0)
}

func (v View) totals() (total, n float64) {
	total, n = v.t.total, v.t.n
	if v.d != nil {
		total -= v.d.total
		n -= v.d.n
	}
	return total, n
}

// strength normalizes the weight w of the pair (i, j).
func (v View) strength(i, j int32, w float64, n Normalization) float64 {
	if w <= 0 {
		return 0
	}
	switch n {
	case NormConditional:
		return w / v.margin(i)
	case NormCosine:
		return w / math.Sqrt(v.margin(i)*v.margin(j))
	case NormPMI:
		total, _ := v.totals()
		return max(0, math.Log(w*total/(v.margin(i)*v.margin(j))))
	case NormIDF:
		_, seqs := v.totals()
		return w * math.Log(1+seqs/v.holders(j))
	}
	return w
}

// Related is Table.Related in the view.
func (v View) Related(from []string, weights []float64, n Normalization) ([]Neighbor, error) {
	return v.Strongest(from, weights, n, -1, nil)
}

// Strongest is Related cut to the k strongest products (all of them for a
// negative k) that keep accepts (all for a nil keep), in the same order:
// what a caller that wants a few new neighbours asks, without sorting all
// of them.
func (v View) Strongest(from []string, weights []float64, n Normalization, k int, keep func(id string) bool) ([]Neighbor, error) {
	if weights != nil && len(weights) != len(from) {
		return nil, fmt.Errorf("cooccur: %d weights for %d products", len(weights), len(from))
	}
	if v.t == nil || k == 0 {
		return nil, nil
	}
	for i, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("cooccur: weight %v of %q is not a finite non-negative number", w, from[i])
		}
	}
	acc := sumsPool.Get().(*sums)
	defer sumsPool.Put(acc)
	if len(acc.sum) < len(v.t.ids) {
		acc.sum = make([]float64, len(v.t.ids))
	}
	for i, id := range from {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		x, ok := v.t.index[id]
		if !ok || w == 0 {
			continue
		}
		for _, c := range v.t.rows[x] {
			if s := v.strength(x, c.item, v.less(c.weight, x, c.item), n); s > 0 {
				acc.add(c.item, w*s)
			}
		}
	}
	worse := func(a, b Neighbor) bool {
		if a.Strength != b.Strength {
			return a.Strength < b.Strength
		}
		return a.ID > b.ID
	}
	var out []Neighbor
	// The products in the order they were first reached, so that the
	// sums, and the selection among equals, do not depend on a map's
	// order.
	for _, j := range acc.touched {
		s := acc.sum[j]
		acc.sum[j] = 0
		if s <= 0 {
			continue
		}
		nb := Neighbor{ID: v.t.ids[j], Strength: s}
		if keep != nil && !keep(nb.ID) {
			continue
		}
		if k < 0 || len(out) < k || worse(out[0], nb) {
			if k < 0 {
				out = append(out, nb)
			} else {
				out = topk.Push(out, k, nb, worse)
			}
		}
	}
	acc.touched = acc.touched[:0]
	slices.SortFunc(out, func(a, b Neighbor) int {
		if c := cmp.Compare(b.Strength, a.Strength); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// sumsPool holds the accumulators of Strongest; each is all zeros when it
// is put back.
var sumsPool = sync.Pool{New: func() any { return new(sums) }}

// sums accumulates strengths by product index: a dense array, cleared as
// it is read, and the indexes it holds.
type sums struct {
	sum     []float64
	touched []int32
}

func (s *sums) add(j int32, x float64) {
	if s.sum[j] == 0 {
		s.touched = append(s.touched, j)
	}
	s.sum[j] += x
}

// Index returns the table's index of a product, which the At methods
// read; false for a product it does not know. Looking the products of a
// list up once and then reading pairs by index is cheaper than reading
// them by ID.
func (v View) Index(id string) (int32, bool) {
	if v.t == nil {
		return 0, false
	}
	i, ok := v.t.index[id]
	return i, ok
}

// Margin returns the summed weight of product i's co-occurrences with
// everything, by index (see Index); 0 when known is false.
func (v View) Margin(i int32, known bool) float64 {
	if !known || v.t == nil {
		return 0
	}
	return v.margin(i)
}

// WeightAt is Weight by index (see Index).
func (v View) WeightAt(i, j int32) float64 { return v.weight(i, j) }

// StrengthAt is Strength by index, given the pair's WeightAt.
func (v View) StrengthAt(i, j int32, w float64, n Normalization) float64 {
	return v.strength(i, j, w, n)
}

// TwoSteps returns, for each of to, the chance of reaching it from the
// products of from in two steps of a walk that goes from a product to one
// bought with it, in proportion to their co-purchases (the conditional
// strength): Σ over f of from and over every n of P(n | f)·P(t | n). It
// reaches products that were never bought with any of from but with what
// was bought with them, which is where most purchases lie that one step
// misses. Products the view does not know get 0.
func (v View) TwoSteps(from, to []string) []float64 {
	out := make([]float64, len(to))
	if v.t == nil {
		return out
	}
	acc := sumsPool.Get().(*sums)
	defer sumsPool.Put(acc)
	if len(acc.sum) < len(v.t.ids) {
		acc.sum = make([]float64, len(v.t.ids))
	}
	// First step: the chance of each n from the products of from.
	for _, id := range from {
		f, ok := v.t.index[id]
		if !ok {
			continue
		}
		m := v.margin(f)
		if m <= 0 {
			continue
		}
		for _, c := range v.t.rows[f] {
			if w := v.less(c.weight, f, c.item); w > 0 {
				acc.add(c.item, w/m)
			}
		}
	}
	// Second step, read from each target's side: the co-purchases of t
	// with every n reached, over n's margin.
	for k, id := range to {
		t, ok := v.t.index[id]
		if !ok {
			continue
		}
		var sum float64
		for _, c := range v.t.rows[t] {
			r := acc.sum[c.item]
			if r == 0 {
				continue
			}
			if w := v.less(c.weight, t, c.item); w > 0 {
				sum += r * w / v.margin(c.item)
			}
		}
		out[k] = sum
	}
	for _, j := range acc.touched {
		acc.sum[j] = 0
	}
	acc.touched = acc.touched[:0]
	return out
}
