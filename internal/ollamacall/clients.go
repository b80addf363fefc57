package ollamacall

import (
	"runtime"
	"sync"
	"weak"

	"github.com/ollama/ollama/api"
)

// state is what this package keeps about one client.
type state struct {
	// ep is where Chat and Generate send the client's requests
	// themselves, or nil when they go through the official client (see
	// direct.go). Set before NewClient returns the client, never after.
	ep *endpoint
	// caps holds what the client's server said each model can do, so that
	// /api/show is asked once per client and model.
	caps sync.Map // model name -> []string
}

// states maps each client to its state without keeping the client alive:
// an entry goes when its client is garbage collected, so that a program
// making clients as it goes (one per request, one per reranker) keeps only
// the live ones.
var states sync.Map // weak.Pointer[api.Client] -> *state

// stateOf returns c's state, made empty if c has none yet.
func stateOf(c *api.Client) *state {
	key := weak.Make(c)
	if s, ok := states.Load(key); ok {
		return s.(*state)
	}
	s, loaded := states.LoadOrStore(key, new(state))
	if !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[api.Client]) { states.Delete(k) }, key)
	}
	return s.(*state)
}

// lookup returns c's state, or nil if it has none.
func lookup(c *api.Client) *state {
	s, ok := states.Load(weak.Make(c))
	if !ok {
		return nil
	}
	return s.(*state)
}
