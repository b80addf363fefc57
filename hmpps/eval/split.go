package eval

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Defaults of SplitConfig.
const (
	// DefaultNegatives is M, the number of sampled negatives per target: with
	// the target, 100 candidates, the usual setting of the literature.
	DefaultNegatives = 99
	// DefaultMaxHistory is N, the most recent purchases kept as history.
	// Long enough to hold every purchase of most users of a 5-core dataset,
	// short enough that an unfiltered history still fits a model prompt.
	DefaultMaxHistory = 20
)

// CandidateMode says how negatives are drawn.
type CandidateMode string

const (
	// RandomNegatives draws negatives uniformly from the products the user
	// never bought.
	RandomNegatives CandidateMode = "random"
	// HardNegatives takes first the products that share the target's whole
	// category path, then those sharing the longest prefix of it, drawing at
	// random within each level. A query built from the category cannot tell
	// these apart, so only personalization can rank the target first.
	HardNegatives CandidateMode = "hard"
)

// SplitConfig is how BuildSplit replays a Dataset. The zero value is the
// standard protocol with random negatives and seed 0.
type SplitConfig struct {
	// Mode is how negatives are drawn. If blank, RandomNegatives.
	Mode CandidateMode
	// Negatives is M, the number of negatives per target; a user who never
	// bought fewer than M products gets all of them. If zero,
	// DefaultNegatives.
	Negatives int
	// MaxHistory is N, the most recent purchases kept as history. If zero,
	// DefaultMaxHistory.
	MaxHistory int
	// Seed fixes the draw of negatives and the order of candidates.
	Seed uint64
	// Stopwords are passed to CategoryQuery; nil means its default.
	Stopwords map[string]bool
}

// Split is a replay of a Dataset: per user, the history and the targets with
// their candidate lists. Written to a file (WriteSplit) and read back
// (ReadSplit), it makes every method rank exactly the same lists.
type Split struct {
	// Version is the file format's version, SplitVersion.
	Version int `json:"version"`
	// Dataset is the name of the Dataset it was built from.
	Dataset string `json:"dataset"`
	// Mode, Negatives, MaxHistory and Seed are the settings it was built
	// with, defaults filled in.
	Mode       CandidateMode `json:"mode"`
	Negatives  int           `json:"negatives"`
	MaxHistory int           `json:"max_history"`
	Seed       uint64        `json:"seed"`
	// Skipped counts what the protocol left out, and why.
	Skipped Skipped `json:"skipped"`
	// TrainPurchases counts each product's purchases outside every
	// validation and test target: what a popularity baseline may know.
	TrainPurchases map[string]int `json:"train_purchases"`
	// Cases holds one entry per user with at least one usable target,
	// sorted by user.
	Cases []Case `json:"cases"`
}

// SplitVersion is the version of the split file format.
const SplitVersion = 1

// Skipped counts users and targets the protocol could not use.
type Skipped struct {
	// TooFewPurchases counts users with fewer than three distinct purchases:
	// a test target, a validation target and at least one history item.
	TooFewPurchases int `json:"too_few_purchases"`
	// NoTestQuery and NoValidationQuery count targets without a query,
	// because their product has no category path of two or more levels.
	NoTestQuery       int `json:"no_test_query"`
	NoValidationQuery int `json:"no_validation_query"`
}

// Case is one user's replay.
type Case struct {
	// User is the user's ID.
	User string `json:"user"`
	// History holds the MaxHistory most recent purchases before the
	// validation target, oldest first. Both targets are ranked with it, so
	// validation and test measure the same thing.
	History []string `json:"history"`
	// Validation is the second-to-last purchase, for tuning; nil when it had
	// no query.
	Validation *Target `json:"validation,omitempty"`
	// Test is the last purchase; nil when it had no query.
	Test *Target `json:"test,omitempty"`
}

// Target is one held-out purchase to rank.
type Target struct {
	// Product is the purchased product's ID.
	Product string `json:"product"`
	// Query is CategoryQuery of the product's category path.
	Query string `json:"query"`
	// Candidates are the target and its negatives in a random order.
	Candidates []string `json:"candidates"`
}

// Part names one of a Case's targets.
type Part string

// The two parts of a Split.
const (
	Validation Part = "validation"
	Test       Part = "test"
)

// Task is one ranking problem: what a Method sees, plus the answer.
type Task struct {
	// User, Query and History are the search a method personalizes.
	User    string
	Query   string
	History []string
	// Candidates are the products to score; Target is the one bought.
	Candidates []string
	Target     string
}

// Tasks returns the split's ranking problems for one part, in user order.
func (s *Split) Tasks(part Part) []Task {
	var out []Task
	for _, c := range s.Cases {
		t := c.Test
		if part == Validation {
			t = c.Validation
		}
		if t == nil {
			continue
		}
		out = append(out, Task{User: c.User, Query: t.Query, History: c.History, Candidates: t.Candidates, Target: t.Product})
	}
	return out
}

// BuildSplit replays d under cfg: for each user, in time order, the last
// purchase is the test target, the one before it the validation target, and
// up to MaxHistory purchases before that the history. Each target with a
// query gets candidates: itself and Negatives products the user never bought,
// drawn by cfg.Mode with a generator seeded by cfg.Seed and the user, so one
// user's lists do not depend on the others.
func BuildSplit(d *Dataset, cfg SplitConfig) (*Split, error) {
	if cfg.Mode == "" {
		cfg.Mode = RandomNegatives
	}
	if cfg.Negatives == 0 {
		cfg.Negatives = DefaultNegatives
	}
	if cfg.MaxHistory == 0 {
		cfg.MaxHistory = DefaultMaxHistory
	}
	switch {
	case cfg.Mode != RandomNegatives && cfg.Mode != HardNegatives:
		return nil, fmt.Errorf("%w: unknown candidate mode %q", ErrInvalidSplit, cfg.Mode)
	case cfg.Negatives < 0:
		return nil, fmt.Errorf("%w: negatives %d is negative", ErrInvalidSplit, cfg.Negatives)
	case cfg.MaxHistory < 0:
		return nil, fmt.Errorf("%w: max history %d is negative", ErrInvalidSplit, cfg.MaxHistory)
	}
	s := &Split{
		Version: SplitVersion, Dataset: d.Name, Mode: cfg.Mode, Negatives: cfg.Negatives,
		MaxHistory: cfg.MaxHistory, Seed: cfg.Seed, TrainPurchases: make(map[string]int),
	}
	sampler := newNegativeSampler(d, cfg.Mode)
	for _, seq := range d.Sequences() {
		ps := seq.Purchases
		if len(ps) < 3 {
			s.Skipped.TooFewPurchases++
			for _, p := range ps {
				s.TrainPurchases[p.Product]++
			}
			continue
		}
		train := ps[:len(ps)-2]
		for _, p := range train {
			s.TrainPurchases[p.Product]++
		}
		c := Case{User: seq.User}
		for _, p := range train[max(0, len(train)-cfg.MaxHistory):] {
			c.History = append(c.History, p.Product)
		}
		bought := make(map[string]bool, len(ps))
		for _, p := range ps {
			bought[p.Product] = true
		}
		c.Validation = sampler.target(ps[len(ps)-2].Product, bought, cfg, seq.User, Validation)
		c.Test = sampler.target(ps[len(ps)-1].Product, bought, cfg, seq.User, Test)
		if c.Validation == nil {
			s.Skipped.NoValidationQuery++
		}
		if c.Test == nil {
			s.Skipped.NoTestQuery++
		}
		if c.Validation != nil || c.Test != nil {
			s.Cases = append(s.Cases, c)
		}
	}
	if len(s.Cases) == 0 {
		return nil, fmt.Errorf("%w: no user has a target with a query", ErrInvalidSplit)
	}
	return s, nil
}

// rngFor returns a generator that depends only on the seed, the user and the
// part, so that adding a user or a part changes no other list.
func rngFor(seed uint64, user string, part Part) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(part))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
