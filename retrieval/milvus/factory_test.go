package milvus

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// TestFactoryRefusesConflicts gives Factory a dimension or metric that
// differs from the one asked for: refused at once, before any connection
// (the address is one nothing could answer on).
func TestFactoryRefusesConflicts(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		spec    retrieval.IndexSpec
		wantIs  error
		wantMsg string
	}{
		{"dimension", Config{Dimension: 256}, retrieval.IndexSpec{Dimension: 320, Metric: retrieval.InnerProduct},
			retrieval.ErrDimensionMismatch, "dimension 256, the engine stores 320"},
		{"metric", Config{Metric: retrieval.InnerProduct}, retrieval.IndexSpec{Dimension: 320, Metric: retrieval.Cosine},
			nil, "metric inner_product, the engine needs cosine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Address = "unreachable.invalid:1"
			ix, err := Factory(tt.cfg)(context.Background(), tt.spec)
			require.Error(t, err)
			assert.Nil(t, ix)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotErrorIs(t, err, ErrUnavailable, "refused before dialing")
		})
	}
}

// TestFactoryPassesTheSpec checks that the asked dimension and metric
// reach New: a spec New refuses fails with New's own message, and a
// failed connection returns a nil interface, not a typed nil.
func TestFactoryPassesTheSpec(t *testing.T) {
	ix, err := Factory(Config{})(context.Background(), retrieval.IndexSpec{Dimension: retrieval.MaxDimension + 1, Metric: retrieval.InnerProduct})
	require.ErrorContains(t, err, "dimension 65537 outside")
	assert.Nil(t, ix)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ix, err = Factory(Config{Address: "127.0.0.1:1"})(ctx, retrieval.IndexSpec{Dimension: 8, Metric: retrieval.InnerProduct})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, ix == nil, "a nil retrieval.Index, not a nil *Index inside one")
}
