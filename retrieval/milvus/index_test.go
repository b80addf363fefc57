package milvus

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/indextest"
	"hmpps/internal/milvustest"
	"hmpps/retrieval"
)

// TestMilvusConformance runs the conformance suite against a real Milvus:
// exact under FLAT, at least 0.95 recall@10 against brute force under HNSW
// and IVF_FLAT. The suite flushes half way, so HNSW searches a built graph.
func TestMilvusConformance(t *testing.T) {
	addr := milvustest.Addr(t)
	tests := []struct {
		name string
		cfg  Config
		c    indextest.Conformance
	}{
		{"FLAT", Config{Index: Flat}, indextest.Conformance{Exact: true, Metrics: []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct}}},
		{"HNSW", Config{Index: HNSW}, indextest.Conformance{MinRecall: 0.95, Metrics: []retrieval.Metric{retrieval.Cosine, retrieval.InnerProduct}}},
		{"IVF_FLAT", Config{Index: IVFFlat, IVFNList: 64, SearchNProbe: 32}, indextest.Conformance{MinRecall: 0.95, Metrics: []retrieval.Metric{retrieval.InnerProduct}}},
		// color and size become fields of their own instead of JSON keys.
		{"FLAT_filter_fields", Config{Index: Flat, FilterFields: []string{"color", "size"}},
			indextest.Conformance{Exact: true, Metrics: []retrieval.Metric{retrieval.InnerProduct}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			indextest.Run(t, func(t *testing.T, dim int, metric retrieval.Metric) retrieval.Index {
				cfg := tt.cfg
				cfg.Dimension, cfg.Metric, cfg.BatchSize = dim, metric, 100
				return newTestIndex(t, addr, cfg)
			}, tt.c)
		})
	}
}

// TestMilvusNotRunning dials a port nothing listens on: the error must come
// within the timeout and say what failed.
func TestMilvusNotRunning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	t.Run("dial timeout", func(t *testing.T) {
		start := time.Now()
		_, err := New(context.Background(), Config{Address: addr, Dimension: 4, DialTimeout: time.Second})
		elapsed := time.Since(start)
		require.ErrorIs(t, err, ErrUnavailable)
		assert.Contains(t, err.Error(), addr)
		assert.Contains(t, err.Error(), "connection refused")
		assert.Less(t, elapsed, 3*time.Second)
		t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
	})
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := New(ctx, Config{Address: addr, Dimension: 4, DialTimeout: time.Minute})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

// TestMilvusIncompatibleCollection opens existing collections with a
// configuration that does not fit them: a clear error, and the collection
// and its records untouched.
func TestMilvusIncompatibleCollection(t *testing.T) {
	addr := milvustest.Addr(t)
	ctx := context.Background()
	base := Config{Dimension: 8, Metric: retrieval.InnerProduct, Index: Flat}
	orig := newTestIndex(t, addr, base)
	rec := retrieval.Record{ID: "kept", Vector: []float32{1, 2, 3, 4, 5, 6, 7, 8}, Metadata: map[string]string{"brand": "b"}}
	require.NoError(t, orig.Upsert(ctx, rec))
	base.Collection = orig.cfg.Collection
	base.Address = addr

	tests := []struct {
		name   string
		change func(*Config)
		want   []error
		msg    string
	}{
		{"dimension", func(c *Config) { c.Dimension = 16 }, []error{ErrIncompatibleCollection, retrieval.ErrDimensionMismatch}, "holds 8-dimensional vectors"},
		{"metric", func(c *Config) { c.Metric = retrieval.Cosine }, []error{ErrIncompatibleCollection}, "metric IP"},
		{"missing filter field", func(c *Config) { c.FilterFields = []string{"color"} }, []error{ErrIncompatibleCollection}, `lacks field "color"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			m, err := New(ctx, cfg)
			require.Error(t, err)
			assert.Nil(t, m)
			for _, want := range tt.want {
				require.ErrorIs(t, err, want)
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}

	t.Run("collection untouched", func(t *testing.T) {
		got, err := orig.Get(ctx, "kept")
		require.NoError(t, err)
		assert.Equal(t, rec.Vector, got[0].Vector)
	})
	t.Run("another index type is used as it is", func(t *testing.T) {
		cfg := base
		cfg.Index = HNSW
		m, err := New(ctx, cfg)
		require.NoError(t, err)
		defer m.Close()
		assert.Equal(t, Flat, m.index)
		hits, err := m.Search(ctx, rec.Vector, 1, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"kept"}, indextest.HitIDs(hits))
	})
}

// TestMilvusRestart stops the server between calls: calls fail with
// ErrUnavailable within the retry bound, and once the server is back the
// same index recovers, with every product upserted before the stop there.
func TestMilvusRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a Milvus server")
	}
	srv := milvustest.Start(t)
	ctx := context.Background()
	const dim, n = 16, 500
	ix := newTestIndex(t, srv.Addr(), Config{
		Dimension: dim, Metric: retrieval.InnerProduct, BatchSize: 200,
		MaxRetries: 3, RetryBackoff: 100 * time.Millisecond,
	})
	var recs []retrieval.Record
	var ids []string
	for i := range n {
		recs = append(recs, retrieval.Record{ID: indextest.ID(i), Vector: unitVector(dim, i), Metadata: map[string]string{"brand": fmt.Sprint("b", i%7)}})
		ids = append(ids, indextest.ID(i))
	}
	require.NoError(t, ix.Upsert(ctx, recs...))

	require.NoError(t, srv.Stop())
	late := retrieval.Record{ID: "late", Vector: unitVector(dim, 3)}
	start := time.Now()
	err := ix.Upsert(ctx, late)
	require.ErrorIs(t, err, ErrUnavailable)
	t.Logf("upsert with the server down failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	assert.Less(t, time.Since(start), 15*time.Second, "retries are bounded")
	_, err = ix.Search(ctx, recs[0].Vector, 5, nil)
	require.ErrorIs(t, err, ErrUnavailable)

	err = srv.Start()
	require.NoError(t, err)
	// The server answers health checks before it has reloaded the
	// collection; the index's own retries cover most of that, and the
	// caller retries the rest.
	start = time.Now()
	deadline := start.Add(3 * time.Minute)
	for {
		if err = ix.Upsert(ctx, late); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	require.NoError(t, err)
	t.Logf("the index recovered %v after the server restarted", time.Since(start).Round(time.Millisecond))

	count, err := ix.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, n+1, count)
	got, err := ix.Get(ctx, append(ids, "late")...)
	require.NoError(t, err, "every product upserted before the stop is still there")
	for i, r := range got[:n] {
		require.Equal(t, recs[i].Vector, r.Vector, "record %s", r.ID)
		require.Equal(t, recs[i].Metadata, r.Metadata, "record %s", r.ID)
	}
	hits, err := ix.Search(ctx, recs[42].Vector, 1, retrieval.Filter{retrieval.In("brand", "b0")})
	require.NoError(t, err)
	assert.Equal(t, []string{indextest.ID(42)}, indextest.HitIDs(hits))
}

// unitVector returns a vector that differs for every i.
func unitVector(dim, i int) []float32 {
	v := make([]float32, dim)
	v[i%dim] = 1
	v[(i/dim)%dim] += 0.5
	v[(i/(dim*dim))%dim] += 0.25
	return v
}

func TestMilvusConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{Dimension: 384}, ""},
		{"no dimension", Config{}, "dimension 0"},
		{"unknown metric", Config{Dimension: 4, Metric: 9}, "unknown metric"},
		{"unknown index", Config{Dimension: 4, Index: "DISKANN"}, "unknown index type"},
		{"unknown consistency", Config{Dimension: 4, Consistency: "Sometimes"}, "consistency"},
		{"bad collection name", Config{Dimension: 4, Collection: `x"; drop`}, "collection name"},
		{"bad filter field", Config{Dimension: 4, FilterFields: []string{"a-b"}}, "filter field"},
		{"reserved filter field", Config{Dimension: 4, FilterFields: []string{"brand"}}, "reserved"},
		{"repeated filter field", Config{Dimension: 4, FilterFields: []string{"color", "color"}}, "twice"},
		{"negative batch", Config{Dimension: 4, BatchSize: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.cfg.withDefaults()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, DefaultAddress, cfg.Address)
			assert.Equal(t, DefaultCollection, cfg.Collection)
			assert.Equal(t, HNSW, cfg.Index)
			assert.Equal(t, Session, cfg.Consistency)
			assert.Equal(t, DefaultRetries, cfg.MaxRetries)
			assert.Equal(t, []string{"brand", "category"}, cfg.columns())
		})
	}
	cfg, err := Config{Dimension: 4, MaxRetries: -1}.withDefaults()
	require.NoError(t, err)
	assert.Zero(t, cfg.MaxRetries, "negative means no retries")
}
