package milvus

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hmpps/internal/milvustest"
)

// The Milvus tests run against a real server (see internal/milvustest):
// MILVUS_ADDR, or one this test binary starts with scripts/milvus.sh.

func TestMain(m *testing.M) { milvustest.Main(m) }

// newTestIndex opens an index on a fresh collection of the server at addr
// and drops the collection when t ends.
func newTestIndex(t testing.TB, addr string, cfg Config) *Index {
	t.Helper()
	cfg.Address = addr
	if cfg.Collection == "" {
		cfg.Collection = milvustest.Collection(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := New(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ix := m
		if m.closed.Load() {
			// A test that closed the index drops through a new one.
			if ix, err = New(ctx, m.cfg); err != nil {
				t.Logf("reopen collection %s to drop it: %v", cfg.Collection, err)
				return
			}
		}
		if err := ix.Drop(ctx); err != nil {
			t.Logf("drop collection %s: %v", cfg.Collection, err)
		}
	})
	return m
}
