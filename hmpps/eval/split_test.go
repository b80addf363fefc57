package eval

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// tinyDataset has 30 products in three categories (ten each, "a", "b", "c")
// plus one without a category path, and four users:
//
//	u1 buys a0..a4 in order; u2 buys b0, b1, c0, x (x has no query);
//	u3 buys two products only; u4 buys a5, b5, c5.
func tinyDataset() *Dataset {
	d := &Dataset{Name: "tiny"}
	for _, cat := range []string{"a", "b", "c"} {
		for i := range 10 {
			d.Products = append(d.Products, hmpps.Product{
				ID: fmt.Sprintf("%s%d", cat, i), Title: fmt.Sprintf("%s product %d", cat, i),
				Category: []string{"Store", "Dept " + cat, fmt.Sprintf("Shelf %d", i%2)},
			})
		}
	}
	d.Products = append(d.Products, hmpps.Product{ID: "x", Title: "no category"})
	buy := func(user string, ids ...string) {
		for i, id := range ids {
			d.Purchases = append(d.Purchases, Purchase{User: user, Product: id, Time: int64(100 * i)})
		}
	}
	buy("u1", "a0", "a1", "a2", "a3", "a4")
	buy("u2", "b0", "b1", "c0", "x")
	buy("u3", "a0", "b0")
	buy("u4", "a5", "b5", "c5")
	return d
}

func TestBuildSplit(t *testing.T) {
	d := tinyDataset()
	s, err := BuildSplit(d, SplitConfig{Negatives: 10, MaxHistory: 2, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, RandomNegatives, s.Mode)
	assert.Equal(t, Skipped{TooFewPurchases: 1, NoTestQuery: 1}, s.Skipped)
	require.Len(t, s.Cases, 3)

	u1 := s.Cases[0]
	assert.Equal(t, "u1", u1.User)
	assert.Equal(t, []string{"a1", "a2"}, u1.History, "the two most recent before validation, oldest first")
	assert.Equal(t, "a3", u1.Validation.Product)
	assert.Equal(t, "a4", u1.Test.Product)
	assert.Equal(t, "store dept shelf 0", u1.Test.Query, `"a" is a stopword`)
	for _, tg := range []*Target{u1.Validation, u1.Test} {
		assert.Len(t, tg.Candidates, 11)
		assert.Contains(t, tg.Candidates, tg.Product)
		for _, id := range tg.Candidates {
			if id != tg.Product {
				assert.NotContains(t, []string{"a0", "a1", "a2", "a3", "a4"}, id, "a negative the user bought")
			}
		}
	}

	u2 := s.Cases[1]
	assert.Equal(t, "c0", u2.Validation.Product)
	assert.Nil(t, u2.Test, "x has no category path, so no query")

	// Train purchases leave out every target, and count users skipped for
	// too few purchases.
	assert.Equal(t, map[string]int{"a0": 2, "a1": 1, "a2": 1, "b0": 2, "b1": 1, "a5": 1}, s.TrainPurchases)

	tasks := s.Tasks(Test)
	require.Len(t, tasks, 2)
	assert.Equal(t, Task{User: "u1", Query: u1.Test.Query, History: u1.History, Candidates: u1.Test.Candidates, Target: "a4"}, tasks[0])
	assert.Len(t, s.Tasks(Validation), 3)
}

func TestBuildSplitIsDeterministic(t *testing.T) {
	d := tinyDataset()
	a, err := BuildSplit(d, SplitConfig{Negatives: 5, Seed: 9})
	require.NoError(t, err)
	b, err := BuildSplit(d, SplitConfig{Negatives: 5, Seed: 9})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := BuildSplit(d, SplitConfig{Negatives: 5, Seed: 10})
	require.NoError(t, err)
	assert.NotEqual(t, a.Cases[0].Test.Candidates, c.Cases[0].Test.Candidates)

	// One user's lists do not depend on the others.
	d2 := tinyDataset()
	d2.Purchases = d2.Purchases[:5] // u1 only
	e, err := BuildSplit(d2, SplitConfig{Negatives: 5, Seed: 9})
	require.NoError(t, err)
	assert.Equal(t, a.Cases[0], e.Cases[0])
}

func TestBuildSplitHardNegatives(t *testing.T) {
	d := tinyDataset()
	s, err := BuildSplit(d, SplitConfig{Mode: HardNegatives, Negatives: 6, Seed: 3})
	require.NoError(t, err)
	// u1's test target a4 is on Shelf 0 of Dept a; the user bought a0..a4.
	// Unbought products with the same path: a6, a8. Then Dept a: a5, a7,
	// a9. Then one from elsewhere.
	tg := s.Cases[0].Test
	cats := map[string]int{}
	for _, id := range tg.Candidates {
		if id == tg.Product {
			continue
		}
		p, _ := d.Product(id)
		cats[strings.Join(p.Category, "/")]++
	}
	assert.Equal(t, 2, cats["Store/Dept a/Shelf 0"])
	assert.Equal(t, 3, cats["Store/Dept a/Shelf 1"])
	assert.Len(t, tg.Candidates, 7)
}

func TestBuildSplitFewerProductsThanNegatives(t *testing.T) {
	s, err := BuildSplit(tinyDataset(), SplitConfig{Negatives: 1000})
	require.NoError(t, err)
	// 31 products, u1 bought 5: all 26 others are negatives.
	assert.Len(t, s.Cases[0].Test.Candidates, 27)
}

func TestBuildSplitErrors(t *testing.T) {
	for _, cfg := range []SplitConfig{{Mode: "easy"}, {Negatives: -1}, {MaxHistory: -1}} {
		_, err := BuildSplit(tinyDataset(), cfg)
		assert.ErrorIs(t, err, ErrInvalidSplit, "%+v", cfg)
	}
	d := tinyDataset()
	d.Purchases = d.Purchases[:2] // one user with two purchases: no case
	_, err := BuildSplit(d, SplitConfig{})
	assert.ErrorIs(t, err, ErrInvalidSplit)
}

func TestSplitFileRoundTrip(t *testing.T) {
	s, err := BuildSplit(tinyDataset(), SplitConfig{Negatives: 5, Seed: 2})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteSplit(&buf, s))
	back, err := ReadSplit(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, s, back)
}

func TestReadSplitRejects(t *testing.T) {
	good, err := BuildSplit(tinyDataset(), SplitConfig{Negatives: 5, Seed: 2})
	require.NoError(t, err)
	write := func(s *Split) string {
		var buf bytes.Buffer
		require.NoError(t, WriteSplit(&buf, s))
		return buf.String()
	}
	// edited returns a copy of good changed by edit.
	edited := func(edit func(s *Split)) string {
		s, err := ReadSplit(strings.NewReader(write(good)))
		require.NoError(t, err)
		edit(s)
		return write(s)
	}
	tests := []struct{ name, text string }{
		{"not json", "{"},
		{"unknown field", strings.Replace(write(good), `"version"`, `"versio"`, 1)},
		{"other version", edited(func(s *Split) { s.Version = 2 })},
		{"target not a candidate", edited(func(s *Split) { s.Cases[0].Test.Product = "zz" })},
		{"repeated candidate", edited(func(s *Split) {
			c := s.Cases[0].Test.Candidates
			c[0] = c[1]
		})},
		{"empty query", edited(func(s *Split) { s.Cases[0].Validation.Query = "" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSplit(strings.NewReader(tt.text))
			assert.ErrorIs(t, err, ErrInvalidSplit)
		})
	}
}

// TestSplitOfTheData checks the protocol on the shared data: every user has
// at least three purchases, every candidate list has the target and 99
// products the user never bought.
func TestSplitOfTheData(t *testing.T) {
	d := loadMagazine(t)
	bought := map[string]map[string]bool{}
	for _, p := range d.Purchases {
		if bought[p.User] == nil {
			bought[p.User] = map[string]bool{}
		}
		bought[p.User][p.Product] = true
	}
	for _, mode := range []CandidateMode{RandomNegatives, HardNegatives} {
		s, err := BuildSplit(d, SplitConfig{Mode: mode, Seed: 1})
		require.NoError(t, err)
		assert.Zero(t, s.Skipped.TooFewPurchases)
		tasks := append(s.Tasks(Test), s.Tasks(Validation)...)
		assert.Equal(t, 2*348-s.Skipped.NoTestQuery-s.Skipped.NoValidationQuery, len(tasks))
		for _, task := range tasks {
			require.Len(t, task.Candidates, 100)
			assert.NotEmpty(t, task.Query)
			assert.LessOrEqual(t, len(task.History), DefaultMaxHistory)
			n := 0
			for _, id := range task.Candidates {
				if bought[task.User][id] {
					n++
				}
			}
			assert.Equal(t, 1, n, "only the target was bought by %s", task.User)
		}
	}
}
