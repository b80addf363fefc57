package milvus

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readIndex is an Index with only what read needs: its configuration and
// retry policy, no server.
func readIndex(readTimeout time.Duration, retries int) *Index {
	return &Index{
		cfg:   Config{Collection: "c", ReadTimeout: readTimeout},
		retry: retryPolicy{retries: retries, backoff: time.Millisecond, cap: time.Millisecond, transient: transient},
	}
}

// stuck answers only when its context ends, as a read the server never
// answers does.
func stuck(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestReadRetriesATryTheServerLeavesUnanswered(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		retries  int
		stuckFor int // how many tries hang before one answers
		wantErr  error
		tries    int32
	}{
		{name: "one stuck try, then an answer", timeout: 20 * time.Millisecond, retries: 2, stuckFor: 1, tries: 2},
		{name: "answered at once", timeout: 20 * time.Millisecond, retries: 2, stuckFor: 0, tries: 1},
		{name: "stuck on every try", timeout: 10 * time.Millisecond, retries: 2, stuckFor: 10, wantErr: ErrUnavailable, tries: 3},
		{name: "no retries", timeout: 10 * time.Millisecond, retries: 0, stuckFor: 10, wantErr: ErrUnavailable, tries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tries atomic.Int32
			err := readIndex(tt.timeout, tt.retries).read(context.Background(), "count c", func(ctx context.Context) error {
				if int(tries.Add(1)) <= tt.stuckFor {
					return stuck(ctx)
				}
				return nil
			})
			assert.Equal(t, tt.tries, tries.Load())
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.ErrorIs(t, err, errReadTimeout)
			assert.Contains(t, err.Error(), "milvus: count c: ")
		})
	}
}

func TestReadEndsWithTheCallersContext(t *testing.T) {
	// The caller's deadline is not a stuck try: it ends the call, unretried.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	var tries atomic.Int32
	err := readIndex(time.Minute, 3).read(ctx, "search c", func(ctx context.Context) error {
		tries.Add(1)
		return stuck(ctx)
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, errReadTimeout))
	assert.Equal(t, int32(1), tries.Load())
}

func TestReadWithoutTimeoutWaitsForTheCaller(t *testing.T) {
	// A negative ReadTimeout leaves only the caller's context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	cfg, err := Config{Dimension: 2, ReadTimeout: -1}.withDefaults()
	require.NoError(t, err)
	ix := readIndex(cfg.ReadTimeout, 3)
	err = ix.read(ctx, "get from c", stuck)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, errReadTimeout))
	// It returned only once the caller's deadline had passed, not at a
	// timeout of its own.
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
}

func TestReadTimeoutDefault(t *testing.T) {
	cfg, err := Config{Dimension: 2}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultReadTimeout, cfg.ReadTimeout)
}
