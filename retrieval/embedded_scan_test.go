package retrieval

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parallelCases are indexes just large enough for Search to lend helpers
// (minParallelBytes of vectors scanned, several chunks: a quantized chunk
// is a block of codes, codeBlockRows rows).
var parallelCases = []struct {
	name   string
	dim, n int
	opts   EmbeddedOptions
}{
	{"exact", 384, 4000, EmbeddedOptions{}},
	{"int8", 1024, 3*codeBlockRows + 200, EmbeddedOptions{Quantize: true}},
}

// TestEmbeddedParallelScanMatchesSerial checks that a scan split across
// helpers returns exactly what one goroutine returns, with and without a
// filter, for any number of helpers, from concurrent searches too.
func TestEmbeddedParallelScanMatchesSerial(t *testing.T) {
	ctx := context.Background()
	for _, tc := range parallelCases {
		t.Run(tc.name, func(t *testing.T) {
			e := randomIndexWith(t, tc.dim, tc.n, InnerProduct, tc.opts, 3)
			require.GreaterOrEqual(t, tc.n*max(e.stride, 4*e.dim*boolInt(e.stride == 0)), minParallelBytes)
			rng := rand.New(rand.NewPCG(8, 8))
			queries := make([][]float32, 4)
			for i := range queries {
				queries[i] = randomVector(rng, tc.dim)
			}
			filters := []Filter{nil, {In("brand", "acme")}}
			search := func(parallelism int) [][]Hit {
				e.opts.Parallelism = parallelism
				defer func() { e.opts.Parallelism = 0 }()
				var out [][]Hit
				for _, q := range queries {
					for _, f := range filters {
						for _, k := range []int{1, 10, 500} {
							hits, err := e.Search(ctx, q, k, f)
							require.NoError(t, err)
							out = append(out, hits)
						}
					}
				}
				return out
			}
			want := search(1)
			assert.Equal(t, want, search(0), "GOMAXPROCS participants")

			// Parallelism is read when the helpers start, so a second index
			// over the same rows tests a pool larger than the CPUs.
			wide := randomIndexWith(t, tc.dim, tc.n, InnerProduct, EmbeddedOptions{Quantize: tc.opts.Quantize, Parallelism: 5}, 3)
			e, wide = wide, e
			assert.Equal(t, want, search(5), "five participants")
			e = wide

			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for i, q := range queries {
						hits, err := e.Search(ctx, q, 10, nil)
						assert.NoError(t, err)
						assert.Equal(t, want[i*6+1], hits, "concurrent search %d", i)
					}
				})
			}
			wg.Wait()
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestEmbeddedParallelSearchAllocations pins a scan with helpers to the
// same single allocation, the result, as a serial one.
func TestEmbeddedParallelSearchAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	ctx := context.Background()
	for _, tc := range parallelCases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			// Three participants whatever GOMAXPROCS, which AllocsPerRun
			// sets to 1 while it measures.
			opts.Parallelism = 3
			e := randomIndexWith(t, tc.dim, tc.n, Cosine, opts, 4)
			query := randomVector(rand.New(rand.NewPCG(1, 1)), tc.dim)
			for _, f := range []Filter{nil, {In("brand", "acme")}} {
				_, err := e.Search(ctx, query, 10, f) // starts the helpers
				require.NoError(t, err)
				var hits []Hit
				allocs := testing.AllocsPerRun(50, func() {
					hits, err = e.Search(ctx, query, 10, f)
				})
				require.NoError(t, err)
				require.Len(t, hits, 10)
				assert.LessOrEqual(t, allocs, 1.0, "filter %v", f)
			}
		})
	}
}

// countdownCtx reports Canceled once Err has been called after more than
// left times: a context cancelled in the middle of a scan.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestEmbeddedScanCancelledMidway(t *testing.T) {
	for _, tc := range parallelCases {
		for _, parallelism := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/parallelism=%d", tc.name, parallelism), func(t *testing.T) {
				opts := tc.opts
				opts.Parallelism = parallelism
				e := randomIndexWith(t, tc.dim, tc.n, Cosine, opts, 5)
				ctx := &countdownCtx{Context: context.Background()}
				ctx.left.Store(3) // Search's own check, then two chunks
				hits, err := e.Search(ctx, randomVector(rand.New(rand.NewPCG(2, 2)), tc.dim), 10, nil)
				require.ErrorIs(t, err, context.Canceled)
				assert.Nil(t, hits)

				// The index is usable afterwards, its scratch cleaned.
				hits, err = e.Search(context.Background(), randomVector(rand.New(rand.NewPCG(2, 2)), tc.dim), 10, nil)
				require.NoError(t, err)
				assert.Len(t, hits, 10)
			})
		}
	}
}

// blockingCtx holds every scan participant in its look at the context
// until release is closed.
type blockingCtx struct {
	context.Context
	release chan struct{}
}

func (c blockingCtx) Err() error {
	<-c.release
	return nil
}

// idleJob returns a job that gives a helper nothing to scan, or, with ctx
// a blockingCtx, holds it until released.
func idleJob(ctx context.Context, chunks, parts int) *scanJob {
	j := &scanJob{e: &Embedded{}, ctx: ctx, chunks: chunks}
	j.ensureParts(parts, 1, false)
	return j
}

func TestHelperPoolLendsOnlyIdleHelpers(t *testing.T) {
	p := newHelperPool(3)
	defer p.stop()

	// Helpers park as they start; eventually all three take a job.
	require.Eventually(t, func() bool {
		j := idleJob(context.Background(), 0, 4)
		n := p.lend(j)
		j.helping.Wait()
		return n == 3
	}, 5*time.Second, time.Millisecond)

	// Other scans in progress leave fewer CPUs to lend: with two scanning
	// (this one and another), two of the three helpers; with four, none.
	for _, tt := range []struct{ scanning, want int }{{2, 2}, {4, 0}, {1, 3}} {
		p.scanning.Store(int32(tt.scanning))
		require.Eventually(t, func() bool {
			j := idleJob(context.Background(), 0, 4)
			n := p.lend(j)
			j.helping.Wait()
			return n == tt.want
		}, 5*time.Second, time.Millisecond, "%d scanning", tt.scanning)
	}
	p.scanning.Store(0)

	// Three chunks, so that each helper claims one and blocks in it.
	busy := blockingCtx{Context: context.Background(), release: make(chan struct{})}
	held := idleJob(busy, 3, 4)
	assert.Equal(t, 3, p.lend(held))
	// The helpers are stuck in held: another search gets none, and does not wait.
	other := idleJob(context.Background(), 0, 4)
	assert.Zero(t, p.lend(other))
	close(busy.release)
	held.helping.Wait()
}

// TestHelpersStop checks that Close stops an index's helpers, and so does
// the garbage collector for an index dropped without Close.
func TestHelpersStop(t *testing.T) {
	tc := parallelCases[0]
	start := func() *helperPool {
		e := randomIndexWith(t, tc.dim, tc.n, Cosine, EmbeddedOptions{Parallelism: 4}, 6)
		_, err := e.Search(context.Background(), randomVector(rand.New(rand.NewPCG(3, 3)), tc.dim), 1, nil)
		require.NoError(t, err)
		require.NotNil(t, e.helpers)
		require.NoError(t, e.Close())
		return e.helpers
	}
	stopped := func(p *helperPool, collect bool) bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if collect {
				runtime.GC()
			}
			select {
			case <-p.quit:
				return true
			default:
			}
		}
		return false
	}
	// gone reports whether no helper takes a job any more: one that has
	// seen quit may take a last job before it returns, never one after.
	gone := func(p *helperPool) bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			j := idleJob(context.Background(), 0, 1+p.size)
			n := p.lend(j)
			j.helping.Wait()
			if n == 0 {
				return true
			}
		}
		return false
	}

	closed := start()
	assert.True(t, stopped(closed, false), "Close stops the pool")
	assert.True(t, gone(closed), "helpers exit once stopped")

	var dropped *helperPool
	func() {
		e := randomIndexWith(t, tc.dim, tc.n, Cosine, EmbeddedOptions{Parallelism: 4}, 6)
		_, err := e.Search(context.Background(), randomVector(rand.New(rand.NewPCG(3, 3)), tc.dim), 1, nil)
		require.NoError(t, err)
		dropped = e.helpers
	}()
	assert.True(t, stopped(dropped, true), "collecting the index stops the pool")
	assert.True(t, gone(dropped), "helpers exit once stopped")
}

// TestEmbeddedTiesAcrossScans checks the documented tie-break, score
// descending then ID ascending, where it is hardest to keep: scans split
// across helpers and merged, and the int8 shortlist with its rescoring. The
// records come in groups of identical vectors, so every group is an exact
// tie, inserted in an order unrelated to their IDs; the groups' scores are
// far enough apart (0.01) that quantization cannot reorder them.
func TestEmbeddedTiesAcrossScans(t *testing.T) {
	ctx := context.Background()
	const groups = 40
	for _, tc := range parallelCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			ids := rng.Perm(tc.n)
			type rec struct {
				id    string
				group int
			}
			recs := make([]Record, tc.n)
			want := make([]rec, tc.n)
			for i := range recs {
				g := i % groups
				v := make([]float32, tc.dim)
				v[g] = 1
				recs[i] = Record{ID: fmt.Sprintf("p%05d", ids[i]), Vector: v}
				want[i] = rec{recs[i].ID, g}
			}
			query := make([]float32, tc.dim)
			for g := range groups {
				query[g] = 1 - 0.01*float32(g) // group 0 scores best
			}
			slices.SortFunc(want, func(a, b rec) int {
				if c := cmp.Compare(a.group, b.group); c != 0 {
					return c
				}
				return strings.Compare(a.id, b.id)
			})

			for _, parallelism := range []int{1, 0, 5} {
				opts := tc.opts
				opts.Parallelism = parallelism
				e, err := NewEmbeddedWith(tc.dim, InnerProduct, opts)
				require.NoError(t, err)
				require.NoError(t, e.Upsert(ctx, recs...))
				for _, k := range []int{1, 7, 100, 250, tc.n} {
					hits, err := e.Search(ctx, query, k, nil)
					require.NoError(t, err)
					require.Len(t, hits, k)
					for i, h := range hits {
						w := want[i]
						require.Equal(t, w.id, h.ID, "parallelism %d, k %d, rank %d", parallelism, k, i)
						assert.InDelta(t, query[w.group], h.Score, handScoreTolerance, "score of %q", h.ID)
					}
				}
				require.NoError(t, e.Close())
			}
		})
	}
}

// randomIndexWith returns an index of n random records of dim dimensions.
func randomIndexWith(t testing.TB, dim, n int, metric Metric, opts EmbeddedOptions, seed uint64) *Embedded {
	t.Helper()
	e, err := NewEmbeddedWith(dim, metric, opts)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, seed))
	var recs []Record
	for i := range n {
		recs = append(recs, randomRecord(rng, testID(i), dim))
	}
	require.NoError(t, e.Upsert(context.Background(), recs...))
	return e
}
