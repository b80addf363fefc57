package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// The service's sentinels for a caller who asks too much.
var (
	// errRateLimited reports a search over its key's rate (429).
	errRateLimited = errors.New("rate limited")
	// errBusy reports a search that found no place among the running ones
	// and none, or not in time, in the queue (503).
	errBusy = errors.New("busy")
	// errOverLimit reports a search over one of the service's own bounds
	// on what it may carry (400), as hmpps.ErrRequestTooLarge does for
	// the library's.
	errOverLimit = errors.New("over a limit")
)

// searchRates is a token bucket per caller for searches: each key, and the
// anonymous caller of a service without keys, has its own, so that one
// client cannot take the searches of all. Buckets are made at start for
// every name there is, so the map is only read while serving.
type searchRates struct {
	// now is the clock the buckets read; tests set a fake one.
	now    func() time.Time
	limit  rate.Limit
	bucket map[string]*rate.Limiter
}

// newSearchRates returns the buckets of cfg for the keys, or nil when cfg
// sets no rate.
func newSearchRates(cfg fairUseConfig, keys *keyring, now func() time.Time) *searchRates {
	if cfg.SearchRate == 0 {
		return nil
	}
	burst := cfg.SearchBurst
	if burst == 0 {
		burst = int(min(max(1, math.Ceil(cfg.SearchRate)), math.MaxInt32))
	}
	r := &searchRates{now: now, limit: rate.Limit(cfg.SearchRate), bucket: map[string]*rate.Limiter{}}
	for _, name := range append([]string{anonymous}, keys.allNames()...) {
		r.bucket[name] = rate.NewLimiter(r.limit, burst)
	}
	return r
}

// take takes one search from caller's bucket. When the bucket is empty it
// returns an error wrapping errRateLimited and how long until a search is
// allowed again.
func (r *searchRates) take(caller string) (time.Duration, error) {
	if r == nil {
		return 0, nil
	}
	b, ok := r.bucket[caller]
	if !ok {
		// Every name the service knows has a bucket; a name without one is
		// a fault here, refused rather than let through unlimited.
		return time.Second, fmt.Errorf("%w: no bucket for key %q", errRateLimited, caller)
	}
	now := r.now()
	if b.AllowN(now, 1) {
		return 0, nil
	}
	// In float seconds, capped at a day, so that a tiny rate cannot
	// overflow a Duration.
	secs := min((1-b.TokensAt(now))/float64(r.limit), (24 * time.Hour).Seconds())
	wait := time.Duration(secs * float64(time.Second))
	return wait, fmt.Errorf("%w: key %q may search %g times a second, %d at once; next in %s",
		errRateLimited, caller, float64(r.limit), b.Burst(), wait.Round(time.Millisecond))
}

// gate bounds the searches the engine runs at once, with a bounded queue
// in front: the model stages are inside a search, and a model server has
// only so much to give. A search waits its turn in order (a channel's
// senders are served first come, first served), and is refused when the
// queue is full or its wait too long.
type gate struct {
	// running holds a token per search the engine runs.
	running chan struct{}
	// admitted holds a token per search running or waiting.
	admitted chan struct{}
	// wait is the longest a search waits for its turn.
	wait time.Duration
	// timer starts the wait; tests set one they fire themselves.
	timer func(time.Duration) (<-chan time.Time, func())
}

func newGate(cfg fairUseConfig) *gate {
	return &gate{
		running:  make(chan struct{}, cfg.MaxSearches),
		admitted: make(chan struct{}, cfg.MaxSearches+cfg.SearchQueue),
		wait:     cfg.SearchQueueWait,
		timer: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTimer(d)
			return t.C, func() { t.Stop() }
		},
	}
}

// enter waits for a place to run a search. On success the caller must call
// leave when the search is done. It fails with an error wrapping errBusy
// when the queue is full or the wait runs out, or with ctx's error.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.admitted <- struct{}{}:
	default:
		return fmt.Errorf("%w: %d searches running and %d waiting, the most the service takes", errBusy, cap(g.running), cap(g.admitted)-cap(g.running))
	}
	select {
	case g.running <- struct{}{}:
		return nil
	default:
	}
	expired, stop := g.timer(g.wait)
	defer stop()
	select {
	case g.running <- struct{}{}:
		return nil
	case <-expired:
		<-g.admitted
		return fmt.Errorf("%w: no turn to search within %s", errBusy, g.wait)
	case <-ctx.Done():
		<-g.admitted
		return context.Cause(ctx)
	}
}

// leave gives back the place of a search enter let in.
func (g *gate) leave() {
	<-g.running
	<-g.admitted
}

// load reports the searches running and waiting, for the metrics.
func (g *gate) load() (running, waiting int) {
	r, a := len(g.running), len(g.admitted)
	return r, max(0, a-r)
}

// retryAfter is the Retry-After header of a wait: whole seconds, at least
// one.
func retryAfter(wait time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(wait.Seconds()))))
}

// checkSearch applies the service's bounds on what one search may carry
// that the library's Limits leave open: the size of its filter, and the
// text of each ad-hoc history product, which the engine embeds and
// summarizes for this search alone.
func (f fairUseConfig) checkSearch(req *searchRequest) error {
	if n := len(req.Filter); n > f.MaxFilterClauses {
		return fmt.Errorf("%w: the filter has %d conditions, at most %d (-max-filter-clauses)", errOverLimit, n, f.MaxFilterClauses)
	}
	values := 0
	for _, c := range req.Filter {
		values += len(c.Values)
	}
	if values > f.MaxFilterValues {
		return fmt.Errorf("%w: the filter has %d values, at most %d (-max-filter-values)", errOverLimit, values, f.MaxFilterValues)
	}
	for i, h := range req.History {
		if n := h.textBytes(); n > f.MaxHistoryText {
			return fmt.Errorf("%w: history item %d has %d bytes of text, at most %d (-max-history-text)", errTooLarge, i, n, f.MaxHistoryText)
		}
	}
	return nil
}
