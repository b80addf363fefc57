package eval

import (
	"fmt"
	"slices"
	"strconv"

	"hmpps/hmpps"
)

// TrainingExamples turns the training purchases of d into examples for
// hmpps.Train, the way s replays the held-out ones: for every user, every
// purchase strictly before the validation target (all of them for a user
// the split skipped) that has a query and at least one purchase before it
// becomes an example, with the up to s.MaxHistory purchases before it as
// history, CategoryQuery of its category path as query, and s.Negatives
// negatives drawn in s.Mode from the products the user did not buy before
// the validation target. Nothing of the validation or test targets is read:
// not as examples, not as history, not even to keep them out of the
// negatives, so a model trained on the examples cannot have seen them.
//
// d must be the dataset s was built from; a user whose purchases do not end
// with the split's targets fails with an error wrapping ErrInvalidSplit.
func TrainingExamples(s *Split, d *Dataset) ([]hmpps.TrainingExample, error) {
	cases := make(map[string]*Case, len(s.Cases))
	for i := range s.Cases {
		cases[s.Cases[i].User] = &s.Cases[i]
	}
	cfg := SplitConfig{Mode: s.Mode, Negatives: s.Negatives, MaxHistory: s.MaxHistory, Seed: s.Seed}
	sampler := newNegativeSampler(d, s.Mode)
	var out []hmpps.TrainingExample
	for _, seq := range d.Sequences() {
		ps := seq.Purchases
		if len(ps) >= 3 {
			if c, ok := cases[seq.User]; ok {
				if err := checkTargets(c, ps); err != nil {
					return nil, err
				}
			}
			ps = ps[:len(ps)-2]
		}
		bought := make(map[string]bool, len(ps))
		for _, p := range ps {
			bought[p.Product] = true
		}
		for i := 1; i < len(ps); i++ {
			t := sampler.target(ps[i].Product, bought, cfg, seq.User, Part("train "+strconv.Itoa(i)))
			if t == nil {
				continue
			}
			ex := hmpps.TrainingExample{User: seq.User, Query: t.Query, Positive: t.Product}
			for _, p := range ps[max(0, i-s.MaxHistory):i] {
				ex.HistoryIDs = append(ex.HistoryIDs, p.Product)
			}
			ex.Negatives = slices.DeleteFunc(t.Candidates, func(id string) bool { return id == t.Product })
			out = append(out, ex)
		}
	}
	return out, nil
}

// checkTargets reports whether a case's targets are the last two purchases.
func checkTargets(c *Case, ps []Purchase) error {
	for _, x := range []struct {
		t *Target
		p Purchase
	}{{c.Validation, ps[len(ps)-2]}, {c.Test, ps[len(ps)-1]}} {
		if x.t != nil && x.t.Product != x.p.Product {
			return fmt.Errorf("%w: user %q: target %q is not the purchase %q of the dataset; was the split built from another one?",
				ErrInvalidSplit, c.User, x.t.Product, x.p.Product)
		}
	}
	return nil
}

// ValidationExamples returns the split's validation targets as examples for
// hmpps.TrainOptions.Validation: each with the case's history and its
// candidate list as negatives, so early stopping measures what the
// validation tasks measure.
func ValidationExamples(s *Split) []hmpps.TrainingExample {
	var out []hmpps.TrainingExample
	for _, c := range s.Cases {
		t := c.Validation
		if t == nil {
			continue
		}
		out = append(out, hmpps.TrainingExample{
			User: c.User, Query: t.Query, HistoryIDs: slices.Clone(c.History), Positive: t.Product,
			Negatives: slices.DeleteFunc(slices.Clone(t.Candidates), func(id string) bool { return id == t.Product }),
		})
	}
	return out
}
