package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/cooccur"
)

// withOtherTestTargets returns a copy of d in which every user's last
// purchase is another product.
func withOtherTestTargets(d *Dataset) *Dataset {
	out := *d
	out.Purchases = append([]Purchase(nil), d.Purchases...)
	for i := range out.Purchases {
		p := &out.Purchases[i]
		if i == len(out.Purchases)-1 || out.Purchases[i+1].User != p.User {
			j := (slicesIndex(d.Products, p.Product) + 7) % len(d.Products)
			p.Product = d.Products[j].ID
		}
	}
	return &out
}

func slicesIndex(products []hmpps.Product, id string) int {
	for i, p := range products {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// learned is everything the whole-catalog protocol learns from a split's
// training purchases, and tunes on its validation targets.
type learned struct {
	examples, validation []hmpps.TrainingExample
	sequences            [][]string
	table                *cooccur.Table
	tuned                []CoPurchaseResult
	model                []byte
}

func learn(t *testing.T, d *Dataset, withModel bool) learned {
	t.Helper()
	ctx := context.Background()
	s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{})
	require.NoError(t, err)
	catalog := Catalog(d)
	var l learned
	l.examples = s.TrainingExamples(catalog, 20, 1)
	l.validation = s.ValidationExamples(catalog, 20, 1)
	l.sequences = s.TrainingSequences()
	l.table = cooccur.Learn(l.sequences, cooccur.Options{Window: 2, Decay: 1})
	if !withModel {
		return l
	}
	bm25 := NewBM25(d.Products)
	grid := CoPurchaseGrid{Windows: []int{1, 3}, Decays: []float64{0}, Normalizations: []string{"raw", "cosine"}, Recents: []int{1, 0}, Weights: []float64{0.2, 1}}
	l.tuned, err = TuneCoPurchase(ctx, bm25, catalog, s.Tasks(Validation), l.sequences, grid, Options{})
	require.NoError(t, err)
	e, err := NewEngine(ctx, d.Products)
	require.NoError(t, err)
	defer e.Close()
	m, err := hmpps.Train(ctx, e, l.examples, hmpps.TrainOptions{Validation: l.validation, Epochs: 6, Seed: 1, Refit: true})
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = m.WriteTo(&b)
	require.NoError(t, err)
	l.model = withoutTook(t, b.Bytes())
	return l
}

// withoutTook returns the JSON payload of a model file without the training
// time, the one thing two trainings on the same input may not share.
func withoutTook(t *testing.T, file []byte) []byte {
	t.Helper()
	const head = len("HMPPSMDL") + 8 // magic, version, payload length
	require.Greater(t, len(file), head+4)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(file[head:len(file)-4], &doc))
	summary, ok := doc["summary"].(map[string]any)
	require.True(t, ok, "the model file has a training summary")
	require.Contains(t, summary, "took")
	delete(summary, "took")
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

// TestCatalogTrainingNeverSeesTheTestTargets proves that no test target
// reaches what the whole-catalog protocol learns: changing every user's last
// purchase changes neither the training examples, nor the validation lists
// that early stopping and tuning read, nor the co-purchase table, nor the
// co-purchase baseline's tuning, nor, bit for bit, the trained model, which
// is refit on the training and validation purchases as make eval refits it.
func TestCatalogTrainingNeverSeesTheTestTargets(t *testing.T) {
	d := leakyDataset()
	changed := withOtherTestTargets(d)
	require.NotEqual(t, d.Purchases, changed.Purchases)
	a, b := learn(t, d, true), learn(t, changed, true)
	assert.Equal(t, a.examples, b.examples)
	assert.Equal(t, a.validation, b.validation)
	assert.Equal(t, a.sequences, b.sequences)
	assert.Equal(t, a.table, b.table)
	assert.Equal(t, a.tuned, b.tuned)
	assert.Positive(t, a.table.Pairs())
	require.NotEmpty(t, a.model)
	assert.True(t, bytes.Equal(a.model, b.model), "the model file")
	for _, ex := range a.examples {
		require.NotEmpty(t, ex.Negatives)
	}
}

// TestCatalogTrainingNeverSeesTheTestTargetsOnTheData is the same proof on
// the Amazon Scientific data, read back from files whose test rows name
// other products, without the (slow) model.
func TestCatalogTrainingNeverSeesTheTestTargetsOnTheData(t *testing.T) {
	d := loadScientific(t)
	a, b := learn(t, d, false), learn(t, withOtherTestTargets(d), false)
	require.True(t, reflect.DeepEqual(a.examples, b.examples), "training examples")
	require.True(t, reflect.DeepEqual(a.validation, b.validation), "validation lists")
	require.True(t, reflect.DeepEqual(a.table, b.table), "co-purchase table")
	assert.Len(t, a.sequences, 8442)
}

// TestRecBoleTestRowsDoNotReachTraining changes the items of the test rows
// of the files themselves: the training purchases read back are the same.
func TestRecBoleTestRowsDoNotReachTraining(t *testing.T) {
	read := func(f RecBoleFiles) [][]string {
		d, err := ReadRecBole(context.Background(), "tiny", f)
		require.NoError(t, err)
		s, err := BuildLeaveOneOut(d, LeaveOneOutConfig{})
		require.NoError(t, err)
		return s.TrainingSequences()
	}
	f := tinyRecBole()
	g := tinyRecBole()
	g.Test = strings.NewReader("user_id:token\titem_id_list:token_seq\titem_id:token\n" +
		"1\t4 0 2\t3\n0\t2 3 0\t3\n")
	assert.Equal(t, read(f), read(g))
}
