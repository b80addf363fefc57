package eval

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

func TestTrainingExamples(t *testing.T) {
	d := tinyDataset()
	s, err := BuildSplit(d, SplitConfig{Negatives: 10, MaxHistory: 2, Seed: 1})
	require.NoError(t, err)
	got, err := TrainingExamples(s, d)
	require.NoError(t, err)
	// u1 trains on a0, a1, a2 (a3 and a4 are its targets): two examples;
	// u2 on b0, b1: one; u3 (skipped, two purchases) on a0, b0: one; u4 on
	// a5 alone: none.
	require.Len(t, got, 4)
	type short struct {
		user, positive string
		history        []string
	}
	var shorts []short
	for _, ex := range got {
		shorts = append(shorts, short{ex.User, ex.Positive, ex.HistoryIDs})
		assert.Len(t, ex.Negatives, 10)
		assert.NotContains(t, ex.Negatives, ex.Positive)
		assert.NotEmpty(t, ex.Query)
	}
	assert.Equal(t, []short{
		{"u1", "a1", []string{"a0"}}, {"u1", "a2", []string{"a0", "a1"}},
		{"u2", "b1", []string{"b0"}}, {"u3", "b0", []string{"a0"}},
	}, shorts)

	hard, err := BuildSplit(d, SplitConfig{Mode: HardNegatives, Negatives: 5, MaxHistory: 2, Seed: 1})
	require.NoError(t, err)
	got, err = TrainingExamples(hard, d)
	require.NoError(t, err)
	for _, id := range got[0].Negatives {
		assert.Equal(t, "a", id[:1], "hard negatives share the positive's category")
	}

	val := ValidationExamples(s)
	require.Len(t, val, 3)
	assert.Equal(t, "a3", val[0].Positive)
	assert.Equal(t, []string{"a1", "a2"}, val[0].HistoryIDs)
	assert.Len(t, val[0].Negatives, 10)

	other := tinyDataset()
	other.Purchases[4].Product = "a9" // u1's test target
	_, err = TrainingExamples(s, other)
	assert.ErrorIs(t, err, ErrInvalidSplit, "a split of another dataset")
}

// leakyDataset is a catalog of 40 products in four categories and 30 users
// who each buy six products, mostly from one category.
func leakyDataset() *Dataset {
	d := &Dataset{Name: "leak"}
	cats := []string{"cooking", "sports", "garden", "science"}
	for i := range 40 {
		cat := cats[i%4]
		d.Products = append(d.Products, hmpps.Product{
			ID: fmt.Sprintf("p%02d", i), Title: fmt.Sprintf("%s magazine %d", cat, i), Brand: fmt.Sprintf("pub %d", i%5),
			Category:    []string{"Magazines", cat, fmt.Sprintf("shelf %d", i%3)},
			Description: fmt.Sprintf("A magazine about %s, issue %d.", cat, i),
		})
	}
	for u := range 30 {
		for k := range 6 {
			p := (u%4 + 4*((u+3*k)%10)) % 40
			if k == 5 {
				p = (p + 1) % 40 // one purchase outside the user's category
			}
			d.Purchases = append(d.Purchases, Purchase{User: fmt.Sprintf("u%02d", u), Product: fmt.Sprintf("p%02d", p), Time: int64(k)})
		}
	}
	slices.SortStableFunc(d.Purchases, func(a, b Purchase) int {
		if a.User < b.User {
			return -1
		} else if a.User > b.User {
			return 1
		}
		return 0
	})
	return d
}

// TestTrainingNeverSeesTheTargets proves the examples do not leak: no
// example holds a user's validation or test target, and changing every test
// target in the dataset changes neither the examples nor, bit for bit, the
// model trained on them. (The split's validation lists do depend on the
// test targets: BuildSplit keeps every product a user bought, the test
// target included, out of both lists. That tells early stopping only that
// the test product is not a validation negative.)
func TestTrainingNeverSeesTheTargets(t *testing.T) {
	ctx := context.Background()
	d := leakyDataset()
	s, err := BuildSplit(d, SplitConfig{Mode: HardNegatives, Negatives: 20, Seed: 2})
	require.NoError(t, err)
	examples, err := TrainingExamples(s, d)
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	targets := map[string][]string{}
	for _, c := range s.Cases {
		for _, tg := range []*Target{c.Validation, c.Test} {
			if tg != nil {
				targets[c.User] = append(targets[c.User], tg.Product)
			}
		}
	}
	for _, ex := range examples {
		for _, tg := range targets[ex.User] {
			assert.NotEqual(t, tg, ex.Positive, "user %s", ex.User)
			assert.NotContains(t, ex.HistoryIDs, tg, "user %s", ex.User)
		}
	}

	// Every user's last purchase becomes another product it never bought.
	changed := leakyDataset()
	for i := range changed.Purchases {
		p := &changed.Purchases[i]
		if i == len(changed.Purchases)-1 || changed.Purchases[i+1].User != p.User {
			p.Product = fmt.Sprintf("p%02d", (atoi(p.Product[1:])+2)%40)
		}
	}
	s2, err := BuildSplit(changed, SplitConfig{Mode: HardNegatives, Negatives: 20, Seed: 2})
	require.NoError(t, err)
	examples2, err := TrainingExamples(s2, changed)
	require.NoError(t, err)
	assert.Equal(t, examples, examples2, "the test targets do not reach the examples")

	e, err := NewEngine(ctx, d.Products)
	require.NoError(t, err)
	defer e.Close()
	val := ValidationExamples(s)
	train := func(ex []hmpps.TrainingExample) []hmpps.FeatureWeight {
		m, err := hmpps.Train(ctx, e, ex, hmpps.TrainOptions{Validation: val, Epochs: 8, Seed: 1})
		require.NoError(t, err)
		return m.FeatureWeights()
	}
	assert.Equal(t, train(examples), train(examples2), "nor the model")
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = 10*n + int(r-'0')
	}
	return n
}
