package hmpps

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOneQueryCheck checks that a query without a word is ErrEmptyQuery
// wherever the engine takes one: a search, training and the export.
func TestOneQueryCheck(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, q := range []string{"", "   ", "!!!", "— … —"} {
		t.Run(q, func(t *testing.T) {
			_, err := e.Search(ctx, Request{Query: q, HistoryIDs: leatherFan})
			assert.ErrorIs(t, err, ErrEmptyQuery, "Search")
			ex := []TrainingExample{{Query: q, HistoryIDs: leatherFan, Positive: "boot-trail-1"}}
			_, err = Train(ctx, e, ex, TrainOptions{Epochs: 1})
			assert.ErrorIs(t, err, ErrEmptyQuery, "Train")
			_, err = e.ExportTraining(ctx, io.Discard, ex, ExportOptions{})
			assert.ErrorIs(t, err, ErrEmptyQuery, "ExportTraining")
		})
	}
}

// TestHistoryIsBuiltAlike checks that a search and training read the same
// history: ad-hoc products first, then catalog ones, each product once, and
// unknown IDs named.
func TestHistoryIsBuiltAlike(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	// An ad-hoc product may carry a catalog ID: it comes first and stands
	// for the catalog's.
	adhoc := []Product{{ID: leatherFan[1], Title: "Leather gloves"}}
	got, _, err := e.history(ctx, adhoc, []string{leatherFan[0], leatherFan[1], leatherFan[0]})
	require.NoError(t, err)
	var gotIDs []string
	for _, en := range got {
		gotIDs = append(gotIDs, en.product.ID)
	}
	assert.Equal(t, []string{leatherFan[1], leatherFan[0]}, gotIDs)
	assert.Equal(t, "Leather gloves", got[0].product.Title)

	_, _, err = e.history(ctx, nil, []string{"nope", leatherFan[0], "nada", "nope"})
	var unknown *UnknownIDsError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, []string{"nope", "nada"}, unknown.IDs)
	assert.ErrorIs(t, err, ErrNotFound)
}
