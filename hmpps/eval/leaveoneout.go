package eval

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"hmpps/hmpps"
)

// LeaveOneOut is the split of sequential recommendation (Kang and McAuley,
// ICDM 2018), the one RecBole's .inter files define: per user, in purchase
// order, the last purchase is the test target, the one before it the
// validation target, and every earlier one a training purchase. The test
// target's history includes the validation target. Unlike Split, it holds
// no candidate lists: its tasks are ranked against the whole catalog
// (EvaluateCatalog), or against negatives drawn by SampledTasks.
//
// Build it with BuildLeaveOneOut; for a dataset read by LoadRecBole it is
// exactly the split of the files.
type LeaveOneOut struct {
	// Dataset is the name of the Dataset it was built from.
	Dataset string `json:"dataset"`
	// MaxHistory is N, the most recent purchases a task or training example
	// sends as history.
	MaxHistory int `json:"max_history"`
	// Skipped counts what the protocol left out, and why.
	Skipped Skipped `json:"skipped"`
	// TrainPurchases counts each product's training purchases: what a
	// popularity baseline may know.
	TrainPurchases map[string]int `json:"train_purchases"`
	// Users holds one entry per user with at least three purchases, sorted
	// by user.
	Users []UserPurchases `json:"users"`
	// query is the product's query, from LeaveOneOutConfig.Query; the
	// training examples need one for every product bought.
	query map[string]string
}

// UserPurchases is one user's purchases and the queries of their targets.
type UserPurchases struct {
	// User is the user's ID.
	User string `json:"user"`
	// Products are the user's purchases, oldest first, repeats kept.
	Products []string `json:"products"`
	// ValidationQuery and TestQuery are the queries of the last two
	// purchases; "" when the product has none (the target is skipped).
	ValidationQuery string `json:"validation_query"`
	TestQuery       string `json:"test_query"`
}

// LeaveOneOutConfig is how BuildLeaveOneOut replays a Dataset. The zero value
// is the standard protocol.
type LeaveOneOutConfig struct {
	// MaxHistory is N, the most recent purchases kept as history. If zero,
	// DefaultMaxHistory.
	MaxHistory int
	// Query builds a target's query from its product. If nil, CategoryQuery
	// of its category path; data whose category text is one level (see
	// ReadRecBole) wants CategoryWords.
	Query func(p hmpps.Product) string
}

// BuildLeaveOneOut replays d's purchases (each user's, in time order) as a
// leave-one-out split. Users with fewer than three purchases are skipped:
// they have no training purchase to build a history from. A product missing
// from d's catalog fails with an error wrapping ErrInvalidSplit.
func BuildLeaveOneOut(d *Dataset, cfg LeaveOneOutConfig) (*LeaveOneOut, error) {
	if cfg.MaxHistory == 0 {
		cfg.MaxHistory = DefaultMaxHistory
	}
	if cfg.MaxHistory < 0 {
		return nil, fmt.Errorf("%w: max history %d is negative", ErrInvalidSplit, cfg.MaxHistory)
	}
	if cfg.Query == nil {
		cfg.Query = func(p hmpps.Product) string { return CategoryQuery(p.Category, nil) }
	}
	s := &LeaveOneOut{Dataset: d.Name, MaxHistory: cfg.MaxHistory, TrainPurchases: make(map[string]int), query: make(map[string]string)}
	queryOf := func(id string) (string, error) {
		if q, ok := s.query[id]; ok {
			return q, nil
		}
		p, ok := d.Product(id)
		if !ok {
			return "", fmt.Errorf("%w: product %q is not in the catalog", ErrInvalidSplit, id)
		}
		s.query[id] = cfg.Query(p)
		return s.query[id], nil
	}
	for _, seq := range d.Sequences() {
		ids := make([]string, len(seq.Purchases))
		for i, p := range seq.Purchases {
			ids[i] = p.Product
			if _, err := queryOf(p.Product); err != nil {
				return nil, err
			}
		}
		if len(ids) < 3 {
			s.Skipped.TooFewPurchases++
			continue
		}
		for _, id := range ids[:len(ids)-2] {
			s.TrainPurchases[id]++
		}
		u := UserPurchases{User: seq.User, Products: ids, ValidationQuery: s.query[ids[len(ids)-2]], TestQuery: s.query[ids[len(ids)-1]]}
		if u.ValidationQuery == "" {
			s.Skipped.NoValidationQuery++
		}
		if u.TestQuery == "" {
			s.Skipped.NoTestQuery++
		}
		s.Users = append(s.Users, u)
	}
	if len(s.Users) == 0 {
		return nil, fmt.Errorf("%w: no user has three purchases", ErrInvalidSplit)
	}
	return s, nil
}

// Tasks returns the part's ranking problems, in user order, for
// EvaluateCatalog: each target with its query and the up to MaxHistory
// purchases before it as history, without candidates. Targets without a
// query are left out.
func (s *LeaveOneOut) Tasks(part Part) []Task {
	var out []Task
	for _, u := range s.Users {
		at, query := len(u.Products)-1, u.TestQuery
		if part == Validation {
			at, query = len(u.Products)-2, u.ValidationQuery
		}
		if query == "" {
			continue
		}
		out = append(out, Task{User: u.User, Query: query, History: s.history(u.Products, at), Target: u.Products[at]})
	}
	return out
}

// history returns the up to MaxHistory purchases before position at.
func (s *LeaveOneOut) history(ids []string, at int) []string {
	return slices.Clone(ids[max(0, at-s.MaxHistory):at])
}

// SampledTasks returns Tasks with candidate lists, for Evaluate: each target
// among negatives products the user had not bought by then (none of their
// purchases up to the target, the target included), drawn uniformly from
// catalog with a generator that depends only on seed, the user and the
// part, in a random order. catalog must be sorted, so that the draw does not
// depend on its order. A validation list never depends on the test target.
func (s *LeaveOneOut) SampledTasks(part Part, catalog []string, negatives int, seed uint64) []Task {
	tasks := s.Tasks(part)
	byUser := make(map[string]*UserPurchases, len(s.Users))
	for i := range s.Users {
		byUser[s.Users[i].User] = &s.Users[i]
	}
	for i := range tasks {
		t := &tasks[i]
		ids := byUser[t.User].Products
		if part == Validation {
			ids = ids[:len(ids)-1]
		}
		bought := make(map[string]bool, len(ids))
		for _, id := range ids {
			bought[id] = true
		}
		rng := rngFor(seed, t.User, part)
		t.Candidates = append(drawNegatives(catalog, bought, negatives, rng), t.Target)
		shuffle(rng, t.Candidates)
	}
	return tasks
}

// drawNegatives returns n products of catalog that are not in exclude, or
// all of them when there are fewer, in random order. With few to draw from a
// large catalog it draws by rejection, a cost of n rather than of the
// catalog; else it shuffles the candidates. Either way the draw depends only
// on rng's state.
func drawNegatives(catalog []string, exclude map[string]bool, n int, rng *rand.Rand) []string {
	if n <= 0 {
		return nil
	}
	if 4*(n+len(exclude)) < len(catalog) {
		out := make([]string, 0, n)
		chosen := make(map[string]bool, n)
		for len(out) < n {
			id := catalog[rng.IntN(len(catalog))]
			if !exclude[id] && !chosen[id] {
				chosen[id] = true
				out = append(out, id)
			}
		}
		return out
	}
	pool := make([]string, 0, len(catalog))
	for _, id := range catalog {
		if !exclude[id] {
			pool = append(pool, id)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return pool[:min(n, len(pool))]
}

// TrainingSequences returns every user's training purchases: all but the
// last two, oldest first, in user order (users with fewer than three
// purchases, whom the split skips, are not included). This is what a
// collaborative signal may be learned from.
func (s *LeaveOneOut) TrainingSequences() [][]string {
	out := make([][]string, len(s.Users))
	for i, u := range s.Users {
		out[i] = slices.Clone(u.Products[:len(u.Products)-2])
	}
	return out
}

// TrainingExamples returns examples for hmpps.Train from the training
// purchases: every one with a query and at least one purchase before it,
// with the up to MaxHistory purchases before it as history. With negatives
// > 0 each gets that many Negatives drawn from catalog (sorted) among the
// products the user did not buy in training, with a generator that depends
// only on seed, the user and the purchase's place; with 0 it gets none, and
// Train draws its own. Nothing of the validation or test targets is read.
func (s *LeaveOneOut) TrainingExamples(catalog []string, negatives int, seed uint64) []hmpps.TrainingExample {
	var out []hmpps.TrainingExample
	for _, u := range s.Users {
		train := u.Products[:len(u.Products)-2]
		bought := make(map[string]bool, len(train))
		for _, id := range train {
			bought[id] = true
		}
		for i := 1; i < len(train); i++ {
			q := s.query[train[i]]
			if q == "" {
				continue
			}
			ex := hmpps.TrainingExample{User: u.User, Query: q, HistoryIDs: s.history(train, i), Positive: train[i]}
			if negatives > 0 {
				rng := rngFor(seed, u.User, Part("train "+strconv.Itoa(i)))
				ex.Negatives = drawNegatives(catalog, bought, negatives, rng)
			}
			out = append(out, ex)
		}
	}
	return out
}

// ValidationExamples returns the validation targets as examples for
// hmpps.TrainOptions.Validation, each with the candidate list
// SampledTasks(Validation, catalog, negatives, seed) gives it as
// Negatives.
func (s *LeaveOneOut) ValidationExamples(catalog []string, negatives int, seed uint64) []hmpps.TrainingExample {
	var out []hmpps.TrainingExample
	for _, t := range s.SampledTasks(Validation, catalog, negatives, seed) {
		out = append(out, hmpps.TrainingExample{
			User: t.User, Query: t.Query, HistoryIDs: t.History, Positive: t.Target,
			Negatives: slices.DeleteFunc(t.Candidates, func(id string) bool { return id == t.Target }),
		})
	}
	return out
}

// Catalog returns the IDs of d's products, sorted: the whole catalog that
// EvaluateCatalog ranks and SampledTasks draws from.
func Catalog(d *Dataset) []string {
	ids := make([]string, len(d.Products))
	for i, p := range d.Products {
		ids[i] = p.ID
	}
	return ids
}
