package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/internal/democatalog"
	"hmpps/internal/milvustest"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

func TestMain(m *testing.M) { milvustest.Main(m) }

func TestMilvusExample(t *testing.T) {
	addr := milvustest.Addr(t)
	var out bytes.Buffer
	c := config{Addr: addr, Collection: milvustest.Collection(t), Query: democatalog.DefaultQuery, Top: 3, Timeout: time.Minute}
	require.NoError(t, run(context.Background(), &out, c))
	text := out.String()
	t.Log(text)
	assert.Contains(t, text, "Indexed 54 products (Milvus counts 54)")
	assert.Contains(t, text, "Alex (classic leather goods)")
	assert.Contains(t, text, "only Hallam & Webb or Thornbury footwear")

	// The collection was dropped: a second run starts from scratch.
	out.Reset()
	c.Keep = true
	require.NoError(t, run(context.Background(), &out, c))
	// With -keep, the next run clears the demo products it finds.
	out.Reset()
	c.Keep = false
	require.NoError(t, run(context.Background(), &out, c))
}

func TestMilvusExampleUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	start := time.Now()
	err = run(context.Background(), &bytes.Buffer{}, config{Addr: addr, Collection: "x", Query: "boots", Top: 1, Timeout: time.Second})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, err.Error(), "cannot reach Milvus at "+addr)
	assert.Contains(t, err.Error(), "scripts/milvus.sh start")
}

// TestMilvusEngineMatchesEmbedded switches an engine from the embedded
// index to Milvus with one option, milvus.Factory with no dimension or
// metric, and checks that the engine sized the collection itself and that
// nothing else changes: the same catalog gives the same rankings, with and
// without a filter.
func TestMilvusEngineMatchesEmbedded(t *testing.T) {
	addr := milvustest.Addr(t)
	ctx := context.Background()
	for _, index := range []milvus.IndexType{milvus.Flat, milvus.HNSW} {
		t.Run(string(index), func(t *testing.T) {
			factory := milvus.Factory(milvus.Config{Address: addr, Collection: milvustest.Collection(t), Index: index})
			var ix retrieval.Index
			withMilvus, err := hmpps.New(hmpps.WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
				made, err := factory(ctx, spec)
				ix = made
				return made, err
			}))
			require.NoError(t, err)
			require.IsType(t, &milvus.Index{}, ix)
			assert.Equal(t, retrieval.DefaultTextDimension+retrieval.ColorLayoutDimension, ix.Dimension())
			assert.Equal(t, retrieval.InnerProduct, ix.Metric())
			defer func() {
				// The engine closes the dropped index, which it accepts.
				assert.NoError(t, ix.(*milvus.Index).Drop(ctx))
				assert.NoError(t, withMilvus.Close())
			}()
			embedded, err := hmpps.New()
			require.NoError(t, err)
			defer embedded.Close()
			for _, eng := range []*hmpps.Engine{withMilvus, embedded} {
				require.NoError(t, eng.Upsert(ctx, democatalog.Products()...))
			}

			for _, u := range democatalog.Shoppers() {
				for _, f := range []retrieval.Filter{nil, {retrieval.Prefix("category", "Footwear")}} {
					req := hmpps.Request{Query: democatalog.DefaultQuery, HistoryIDs: u.HistoryIDs, TopN: 10, Filter: f}
					want, err := embedded.Search(ctx, req)
					require.NoError(t, err)
					got, err := withMilvus.Search(ctx, req)
					require.NoError(t, err)
					require.Equal(t, want.Candidates, got.Candidates, "%s, filter %v", u.Name, f)
					require.Len(t, got.Results, len(want.Results))
					for i := range want.Results {
						assert.Equal(t, want.Results[i].ID, got.Results[i].ID, "%s, filter %v, rank %d", u.Name, f, i)
						assert.InDelta(t, want.Results[i].RetrievalScore, got.Results[i].RetrievalScore, 1e-5)
					}
				}
			}
		})
	}
}
