package hmpps

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// recordingFactory is an IndexFactory of Embedded indexes that remembers
// the specs it was asked for and the indexes it made.
type recordingFactory struct {
	specs []retrieval.IndexSpec
	made  []retrieval.Index
}

func (f *recordingFactory) make(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
	f.specs = append(f.specs, spec)
	ix, err := retrieval.EmbeddedFactory(retrieval.EmbeddedOptions{})(ctx, spec)
	if err == nil {
		f.made = append(f.made, ix)
	}
	return ix, err
}

// TestWithIndexFactoryDerivesSpec checks that the engine asks its factory
// for the dimension of its fused vectors (text plus image block, or text
// alone with images off) and for inner product, whatever the embedders.
func TestWithIndexFactoryDerivesSpec(t *testing.T) {
	text128, err := retrieval.NewHashingEmbedder(128)
	require.NoError(t, err)
	tests := []struct {
		name string
		opts []Option
		want retrieval.IndexSpec
	}{
		{"defaults", nil, retrieval.IndexSpec{Dimension: retrieval.DefaultTextDimension + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct}},
		{"other text dimension", []Option{WithTextEmbedder(text128)}, retrieval.IndexSpec{Dimension: 128 + retrieval.ColorLayoutDimension, Metric: retrieval.InnerProduct}},
		{"images off", []Option{WithTextEmbedder(text128), WithImageEmbedder(nil)}, retrieval.IndexSpec{Dimension: 128, Metric: retrieval.InnerProduct}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f recordingFactory
			e, err := New(append(tt.opts, WithIndexFactory(f.make))...)
			require.NoError(t, err)
			defer e.Close()
			require.Equal(t, []retrieval.IndexSpec{tt.want}, f.specs)

			ctx := context.Background()
			require.NoError(t, e.Upsert(ctx, Product{ID: "boot", Title: "Waterproof leather boots"}))
			resp, err := e.Search(ctx, Request{Query: "waterproof boots"})
			require.NoError(t, err)
			require.Len(t, resp.Results, 1)
			n, err := f.made[0].Len(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the engine writes into the factory's index")

			require.NoError(t, e.Close())
			_, err = f.made[0].Len(ctx)
			assert.ErrorIs(t, err, retrieval.ErrClosed, "the engine owns the index")
		})
	}
}

// TestWithIndexFactoryErrors covers the ways making the index can fail;
// an index the factory made is closed when New refuses it.
func TestWithIndexFactoryErrors(t *testing.T) {
	ctx := context.Background()
	errDown := errors.New("server down")
	t.Run("factory error", func(t *testing.T) {
		_, err := New(WithIndexFactory(func(context.Context, retrieval.IndexSpec) (retrieval.Index, error) {
			return nil, errDown
		}))
		require.ErrorIs(t, err, errDown)
		assert.Contains(t, err.Error(), "index factory")
	})
	t.Run("no index", func(t *testing.T) {
		_, err := New(WithIndexFactory(func(context.Context, retrieval.IndexSpec) (retrieval.Index, error) {
			return nil, nil
		}))
		require.ErrorContains(t, err, "returned no index")
	})
	t.Run("both options", func(t *testing.T) {
		ix, err := retrieval.NewEmbedded(retrieval.DefaultTextDimension+retrieval.ColorLayoutDimension, retrieval.InnerProduct)
		require.NoError(t, err)
		var f recordingFactory
		_, err = New(WithIndex(ix), WithIndexFactory(f.make))
		require.ErrorContains(t, err, "WithIndex and WithIndexFactory")
		assert.Empty(t, f.specs, "the factory is not called")
	})
	t.Run("wrong dimension is refused and closed", func(t *testing.T) {
		var made retrieval.Index
		_, err := New(WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
			ix, err := retrieval.NewEmbedded(spec.Dimension+1, spec.Metric)
			made = ix
			return ix, err
		}))
		require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
		_, err = made.Len(ctx)
		assert.ErrorIs(t, err, retrieval.ErrClosed)
	})
	t.Run("non-empty index is refused and closed", func(t *testing.T) {
		var made retrieval.Index
		_, err := New(WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
			ix, err := retrieval.NewEmbedded(spec.Dimension, spec.Metric)
			require.NoError(t, err)
			v := make([]float32, spec.Dimension)
			v[0] = 1
			require.NoError(t, ix.Upsert(ctx, retrieval.Record{ID: "stranger", Vector: v}))
			made = ix
			return ix, nil
		}))
		require.ErrorContains(t, err, "holds 1 records")
		_, err = made.Len(ctx)
		assert.ErrorIs(t, err, retrieval.ErrClosed)
	})
}

// TestOpenWithIndexFactory reopens a saved engine through a factory: it is
// asked for the same spec, under Open's context, and receives the catalog.
func TestOpenWithIndexFactory(t *testing.T) {
	ctx := context.Background()
	e, err := New()
	require.NoError(t, err)
	require.NoError(t, e.Upsert(ctx, Product{ID: "boot", Title: "Waterproof leather boots"}, Product{ID: "sock", Title: "Wool hiking socks"}))
	path := filepath.Join(t.TempDir(), "engine.hmpps")
	require.NoError(t, e.Save(ctx, path))
	require.NoError(t, e.Close())

	var f recordingFactory
	opened, err := Open(ctx, path, WithIndexFactory(f.make))
	require.NoError(t, err)
	defer opened.Close()
	require.Len(t, f.specs, 1)
	assert.Equal(t, retrieval.DefaultTextDimension+retrieval.ColorLayoutDimension, f.specs[0].Dimension)
	n, err := f.made[0].Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Open(cancelled, path, WithIndexFactory(retrieval.EmbeddedFactory(retrieval.EmbeddedOptions{})))
	require.ErrorIs(t, err, context.Canceled, "the factory runs under Open's context")
}
