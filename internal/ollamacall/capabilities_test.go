package ollamacall

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
)

func TestCapabilitiesAskedOncePerClientAndModel(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Models: []string{"m", "n"}, Capabilities: []string{"completion"}})
	ctx := context.Background()
	a, b := srv.APIClient(), NewClient(srv.URL, srv.Client())
	for range 3 {
		for _, model := range []string{"m", "n"} {
			caps, err := Capabilities(ctx, a, model, time.Second)
			require.NoError(t, err)
			assert.Equal(t, []string{"completion"}, caps)
			_, err = Capabilities(ctx, b, model, time.Second)
			require.NoError(t, err)
		}
	}
	assert.Equal(t, 4, srv.Shows(), "two clients, two models")

	_, err := Capabilities(ctx, a, "missing", time.Second)
	require.ErrorIs(t, err, ErrModelNotFound)
	_, err = Capabilities(ctx, a, "missing", time.Second)
	require.ErrorIs(t, err, ErrModelNotFound)
	assert.Equal(t, 6, srv.Shows(), "a failure is asked again")
}

// The capability answers must not keep their clients alive: a program that
// makes a client per reranker or per request keeps only the live ones.
func TestCapabilitiesGoWithTheirClient(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{})
	ctx := context.Background()
	kept := srv.APIClient()
	_, err := Capabilities(ctx, kept, "m", time.Second)
	require.NoError(t, err)
	before := countStates()

	const n = 50
	for range n {
		c := srv.APIClient()
		_, err := Capabilities(ctx, c, "m", time.Second)
		require.NoError(t, err)
		require.NotNil(t, lookup(c), "remembered while the client lives")
	}
	require.Equal(t, 1+n, srv.Shows())

	// The cleanups run after a collection, on a goroutine of their own.
	deadline := time.Now().Add(10 * time.Second)
	for countStates() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, countStates(), before, "the %d dropped clients' answers are gone", n)

	_, err = Capabilities(ctx, kept, "m", time.Second)
	require.NoError(t, err)
	assert.Equal(t, 1+n, srv.Shows(), "the live client's answer stays")
	runtime.KeepAlive(kept)
}

// countStates returns how many clients this package keeps a state for.
func countStates() int {
	n := 0
	states.Range(func(any, any) bool { n++; return true })
	return n
}
