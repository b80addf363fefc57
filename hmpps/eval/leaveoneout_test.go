package eval

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

func TestBuildLeaveOneOut(t *testing.T) {
	d := tinyDataset()
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{MaxHistory: 2})
	require.NoError(t, err)
	assert.Equal(t, Skipped{TooFewPurchases: 1, NoTestQuery: 1}, s.Skipped, "u3 bought two products; u2's last has no category")
	require.Len(t, s.Users, 3)
	assert.Equal(t, map[string]int{"a0": 1, "a1": 1, "a2": 1, "b0": 1, "b1": 1, "a5": 1}, s.TrainPurchases)

	q := func(id string) string { p, _ := d.Product(id); return CategoryQuery(p.Category, nil) }
	assert.Equal(t, []Task{
		{User: "u1", Query: q("a3"), History: []string{"a1", "a2"}, Target: "a3"},
		{User: "u2", Query: q("c0"), History: []string{"b0", "b1"}, Target: "c0"},
		{User: "u4", Query: q("b5"), History: []string{"a5"}, Target: "b5"},
	}, s.Tasks(Validation))
	assert.Equal(t, []Task{
		{User: "u1", Query: q("a4"), History: []string{"a2", "a3"}, Target: "a4"},
		{User: "u4", Query: q("c5"), History: []string{"a5", "b5"}, Target: "c5"},
	}, s.Tasks(Test), "the test history holds the validation target")
	assert.Equal(t, [][]string{{"a0", "a1", "a2"}, {"b0", "b1"}, {"a5"}}, s.TrainingSequences())

	catalog := Catalog(d)
	assert.True(t, slices.IsSorted(catalog))
	examples := s.TrainingExamples(catalog, 0, 1)
	assert.Equal(t, []hmpps.TrainingExample{
		{User: "u1", Query: q("a1"), HistoryIDs: []string{"a0"}, Positive: "a1"},
		{User: "u1", Query: q("a2"), HistoryIDs: []string{"a0", "a1"}, Positive: "a2"},
		{User: "u2", Query: q("b1"), HistoryIDs: []string{"b0"}, Positive: "b1"},
	}, examples)
	withNegatives := s.TrainingExamples(catalog, 5, 1)
	training := map[string][]string{"u1": {"a0", "a1", "a2"}, "u2": {"b0", "b1"}}
	for i, ex := range withNegatives {
		assert.Len(t, ex.Negatives, 5)
		for _, id := range ex.Negatives {
			assert.NotContains(t, training[ex.User], id, "a product the user bought in training")
		}
		ex.Negatives = nil
		assert.Equal(t, examples[i], ex)
	}
	assert.Equal(t, withNegatives, s.TrainingExamples(catalog, 5, 1), "the same seed draws the same")

	_, err = BuildLeaveOneOut(&Dataset{Purchases: []Purchase{{User: "u", Product: "p"}}}, LeaveOneOutConfig{})
	assert.ErrorIs(t, err, ErrInvalidSplit, "a product the catalog lacks")
	_, err = BuildLeaveOneOut(d, LeaveOneOutConfig{MaxHistory: -1})
	assert.ErrorIs(t, err, ErrInvalidSplit)
	_, err = BuildLeaveOneOut(&Dataset{Products: d.Products, Purchases: d.Purchases[5:7]}, LeaveOneOutConfig{})
	assert.ErrorIs(t, err, ErrInvalidSplit, "no user with three purchases")
}

func TestLeaveOneOutSampledTasks(t *testing.T) {
	d := tinyDataset()
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{Query: func(p hmpps.Product) string { return CategoryWords(p.Category, nil) + " " + p.ID }})
	require.NoError(t, err)
	assert.Zero(t, s.Skipped.NoTestQuery, "a query of its own for every product")
	catalog := Catalog(d)
	val := s.SampledTasks(Validation, catalog, 8, 3)
	test := s.SampledTasks(Test, catalog, 8, 3)
	for _, tasks := range [][]Task{val, test} {
		for _, task := range tasks {
			assert.Len(t, task.Candidates, 9)
			assert.Contains(t, task.Candidates, task.Target)
			assert.Len(t, unique(task.Candidates), 9)
		}
	}
	// u1 bought a0..a4: none is a negative of the test target a4. The
	// validation list is drawn without knowing a4.
	for _, id := range test[0].Candidates {
		assert.False(t, slices.Contains([]string{"a0", "a1", "a2", "a3"}, id), id)
	}
	assert.Equal(t, val, s.SampledTasks(Validation, catalog, 8, 3))
	assert.NotEqual(t, val, s.SampledTasks(Validation, catalog, 8, 4))

	ex := s.ValidationExamples(catalog, 8, 3)
	require.Len(t, ex, len(val))
	for i, e := range ex {
		assert.Equal(t, val[i].Target, e.Positive)
		assert.Len(t, e.Negatives, 8)
		assert.NotContains(t, e.Negatives, e.Positive)
	}
}

func unique(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

func TestCategoryWords(t *testing.T) {
	assert.Equal(t, "industrial scientific abrasive finishing products sanding rolls",
		CategoryWords([]string{"Industrial & Scientific Abrasive & Finishing Products Sanding Products Sanding Rolls"}, nil))
	assert.Equal(t, "", CategoryQuery([]string{"Industrial & Scientific Abrasives"}, nil), "one level is no query for CategoryQuery")
	assert.Equal(t, "", CategoryWords(nil, nil))
}
