package hmpps

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/retrieval"
)

// slowIndex is an index whose writes, once block is set, wait inside the
// index call until release is closed, as a slow Milvus write would.
type slowIndex struct {
	retrieval.Index
	block   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *slowIndex) wait() {
	if s.block.Load() {
		s.entered <- struct{}{}
		<-s.release
	}
}

func (s *slowIndex) Upsert(ctx context.Context, records ...retrieval.Record) error {
	s.wait()
	return s.Index.Upsert(ctx, records...)
}

func (s *slowIndex) Delete(ctx context.Context, ids ...string) error {
	s.wait()
	return s.Index.Delete(ctx, ids...)
}

// TestSearchRunsBesideASlowIndexWrite checks that a search does not wait
// for a write whose index call is in flight: the engine takes its lock only
// for the swap after the index answered. The search sees the catalog from
// before the write; once the write returns, the next search sees it.
func TestSearchRunsBesideASlowIndexWrite(t *testing.T) {
	ctx := context.Background()
	inner, err := retrieval.NewEmbedded(retrieval.DefaultTextDimension+retrieval.ColorLayoutDimension, retrieval.InnerProduct)
	require.NoError(t, err)
	slow := &slowIndex{Index: inner, entered: make(chan struct{}), release: make(chan struct{})}
	e := newTestEngine(t, WithIndex(slow))
	req := Request{Query: "waterproof gaiters", TopN: 3}

	tests := []struct {
		name  string
		write func() error
		// found says whether the write's product is found after it.
		found bool
	}{
		{"upsert", func() error {
			return e.Upsert(ctx, Product{ID: "gaiter-9", Title: "Waterproof gaiters", Category: []string{"Hiking"}})
		}, true},
		{"delete", func() error { return e.Delete(ctx, "gaiter-9") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slow.block.Store(true)
			slow.release = make(chan struct{})
			written := make(chan error, 1)
			go func() { written <- tt.write() }()
			<-slow.entered

			searched := make(chan *Response, 1)
			go func() {
				resp, err := e.Search(ctx, req)
				assert.NoError(t, err)
				searched <- resp
			}()
			select {
			case resp := <-searched:
				assert.Equal(t, !tt.found, contains(resp.Results, "gaiter-9"), "the search sees the catalog from before the write")
			case <-time.After(30 * time.Second):
				// Let the write finish, so that the engine can close.
				slow.block.Store(false)
				close(slow.release)
				t.Fatal("the search waited for the index write in flight")
			}

			slow.block.Store(false)
			close(slow.release)
			require.NoError(t, <-written)
			resp, err := e.Search(ctx, req)
			require.NoError(t, err)
			assert.Equal(t, tt.found, contains(resp.Results, "gaiter-9"))
		})
	}
}

func contains(rs []Result, id string) bool {
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}
