package hmpps

import (
	"fmt"
	"math"
	"strconv"

	"hmpps/internal/cooccur"
)

// Defaults of what Train learns from who bought what.
const (
	// DefaultCoPurchaseWindow is how many places apart two purchases of one
	// shopper may be and still count as bought together: the window the
	// validation study found best on the Amazon Scientific data (see
	// docs/training.md).
	DefaultCoPurchaseWindow = 10
	// recencyScale is how many purchases from the end of a shopper's
	// sequence a purchase counts e⁻¹ of a latest one in the "recent
	// popularity" prior.
	recencyScale = 2
)

// collaborative is what a Model learned from who bought what: the
// co-purchase table of the shoppers' sequences (cooccur, symmetric, within a
// window) and each product's purchases weighed by how late in its
// shopper's sequence they came, a popularity that follows what shoppers buy
// now rather than what they bought first. It is immutable once trained.
// A product no training purchase holds has no co-purchases and no recent
// popularity: it is ranked by content alone.
type collaborative struct {
	table   *cooccur.Table
	recency map[string]float64
	// lateness sums each product's places in its shoppers' sequences
	// (0 for a first purchase, 1 for a last), and counts them.
	lateness map[string][2]float64
}

// shopper is what one list's features read of the collaborative signal: all
// of it for a search, and, for a training example, all of it but the
// shopper's own purchases, which must not be evidence for themselves (a
// purchase still to come is never in the table with its own history).
type shopper struct {
	co cooccur.View
	// own are the shopper's products, each with its share of recency; nil
	// for a search. ownLate is their share of lateness.
	own     map[string]float64
	ownLate map[string][2]float64
	// popularity is the model's buyer counts, recency the recent ones.
	popularity, recency map[string]float64
	lateness            map[string][2]float64
}

// late is the mean place of id in its shoppers' sequences, the shopper
// left out; 0.5 when no other shopper bought it.
func (s *shopper) late(id string) float64 {
	l := s.lateness[id]
	if own, ok := s.ownLate[id]; ok {
		l[0], l[1] = l[0]-own[0], l[1]-own[1]
	}
	if l[1] < 0.5 {
		return 0.5
	}
	return l[0] / l[1]
}

// popularity is the number of buyers of id, the shopper left out.
func (s *shopper) buyers(id string) float64 {
	n := s.popularity[id]
	if _, ok := s.own[id]; ok {
		n = max(n-1, 0)
	}
	return n
}

// recent is the recent popularity of id, the shopper's own share left out.
func (s *shopper) recent(id string) float64 {
	r := s.recency[id]
	if own, ok := s.own[id]; ok {
		r = max(r-own, 0)
	}
	return r
}

// shopperSequences rebuilds each shopper's purchases, oldest first, from
// the examples: a shopper's examples (by TrainingExample.User, in the
// order given) each hold a window of the sequence, the history and then
// the purchase, and overlap. An example without a User is a shopper of its
// own. of[i] is the sequence of examples[i].
func shopperSequences(examples []TrainingExample) (seqs [][]string, of []int) {
	of = make([]int, len(examples))
	byUser := make(map[string]int)
	for i, ex := range examples {
		window := exampleSequence(&ex)
		user := ex.User
		if user == "" {
			user = "\x00" + strconv.Itoa(i)
		}
		k, ok := byUser[user]
		if !ok {
			k = len(seqs)
			byUser[user] = k
			seqs = append(seqs, nil)
		}
		of[i] = k
		seqs[k] = extend(seqs[k], window)
	}
	return seqs, of
}

// exampleSequence is an example's history and then its positive, as IDs.
func exampleSequence(ex *TrainingExample) []string {
	out := make([]string, 0, len(ex.History)+len(ex.HistoryIDs)+1)
	for _, p := range ex.History {
		out = append(out, p.ID)
	}
	out = append(out, ex.HistoryIDs...)
	return append(out, ex.Positive)
}

// extend appends to seq what window adds after their overlap: the longest
// prefix of window (shorter than window) that seq ends with.
func extend(seq, window []string) []string {
	for k := min(len(window)-1, len(seq)); k > 0; k-- {
		if equalStrings(seq[len(seq)-k:], window[:k]) {
			return append(seq, window[k:]...)
		}
	}
	if len(seq) == 0 {
		return append(seq, window...)
	}
	// No overlap: the shopper's history was sent without its latest
	// purchases; the example's purchase still follows the sequence.
	return append(seq, window...)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// learnCollaborative learns the co-purchase table and the recent
// popularity of the shoppers' sequences.
func learnCollaborative(seqs [][]string, window int) *collaborative {
	c := &collaborative{table: cooccur.Learn(seqs, cooccur.Options{Window: window}), recency: make(map[string]float64),
		lateness: make(map[string][2]float64)}
	for _, seq := range seqs {
		for id, r := range recencyOf(seq) {
			c.recency[id] += r
		}
		for id, l := range latenessOf(seq) {
			x := c.lateness[id]
			c.lateness[id] = [2]float64{x[0] + l[0], x[1] + l[1]}
		}
	}
	return c
}

// latenessOf sums each product's places in seq (0 first, 1 last; 1 for
// the one purchase of a sequence of one) and counts them.
func latenessOf(seq []string) map[string][2]float64 {
	out := make(map[string][2]float64, len(seq))
	for i, id := range seq {
		if id == "" {
			continue
		}
		place := 1.0
		if len(seq) > 1 {
			place = float64(i) / float64(len(seq)-1)
		}
		x := out[id]
		out[id] = [2]float64{x[0] + place, x[1] + 1}
	}
	return out
}

// recencyOf weighs each product of seq by exp(−age/recencyScale), age 0 for
// the latest purchase; a product bought twice counts twice.
func recencyOf(seq []string) map[string]float64 {
	out := make(map[string]float64, len(seq))
	for i, id := range seq {
		if id != "" {
			out[id] += math.Exp(-float64(len(seq)-1-i) / recencyScale)
		}
	}
	return out
}

// view returns what a search reads: the whole signal, with the model's
// buyer counts.
func (c *collaborative) view(popularity map[string]float64) *shopper {
	s := &shopper{popularity: popularity}
	if c != nil {
		s.co, s.recency, s.lateness = c.table.Without(), c.recency, c.lateness
	}
	return s
}

// without returns what a training example of the shopper whose sequence is
// seq reads: the signal without the shopper's purchases.
func (c *collaborative) without(seq []string, popularity map[string]float64) *shopper {
	s := &shopper{popularity: popularity, own: recencyOf(seq), ownLate: latenessOf(seq)}
	if c != nil {
		s.co, s.recency, s.lateness = c.table.Without(seq), c.recency, c.lateness
	}
	return s
}

// Recount returns a copy of m whose counts of who bought what (each
// product's buyers, the co-purchase table, the recent popularity and the
// lateness) are counted anew from purchases, read as Train reads its
// examples (by User, the history and then the purchase; queries and
// negatives are not read), with the learned weights and standardization
// kept. Counts move with every purchase while weights change slowly: a shop
// can recount daily and train weekly. The purchases must come before
// anything the model is then evaluated on. No purchases, or one without a
// positive, fail with an error wrapping ErrInvalidTraining. A model of
// version 1, which reads no co-purchases, gets its buyer counts only.
func (m *Model) Recount(purchases []TrainingExample) (*Model, error) {
	if len(purchases) == 0 {
		return nil, fmt.Errorf("%w: no purchases to count", ErrInvalidTraining)
	}
	for i := range purchases {
		if purchases[i].Positive == "" {
			return nil, fmt.Errorf("%w: purchase %d has no positive", ErrInvalidTraining, i)
		}
	}
	c := m.clone()
	c.popularity = popularity(purchases)
	if m.collab != nil {
		seqs, _ := shopperSequences(purchases)
		c.collab = learnCollaborative(seqs, m.collab.table.Options().Window)
	}
	return c, nil
}
