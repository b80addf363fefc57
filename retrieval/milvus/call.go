package milvus

// How one call of the Milvus index runs: begin guards it against a closed
// index and lets Close cut it short, observeWrite keeps the timestamps that
// Session reads wait for, and retryPolicy retries transient failures.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"hmpps/retrieval"
)

// begin starts a call: it fails when ctx is done or m is closed, and
// returns a context that Close cancels, and the function ending the call.
func (m *Index) begin(ctx context.Context) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	m.mu.RLock()
	if m.closed.Load() {
		m.mu.RUnlock()
		return nil, nil, retrieval.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(m.done, cancel)
	return ctx, func() {
		stop()
		cancel()
		m.mu.RUnlock()
	}, nil
}

// errReadTimeout marks a try of a read that the server left unanswered for
// Config.ReadTimeout; transient reports it as worth another try.
var errReadTimeout = errors.New("no answer within the read timeout")

// read runs a read like call, each try bounded by Config.ReadTimeout (when
// positive): a try the server leaves unanswered is retried, while the end
// of ctx itself still ends the call.
func (m *Index) read(ctx context.Context, op string, fn func(context.Context) error) error {
	if m.cfg.ReadTimeout <= 0 {
		return m.call(ctx, op, fn)
	}
	return m.call(ctx, op, func(ctx context.Context) error {
		try, cancel := context.WithTimeout(ctx, m.cfg.ReadTimeout)
		defer cancel()
		err := fn(try)
		if err != nil && ctx.Err() == nil && errors.Is(try.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w (%v): %w", errReadTimeout, m.cfg.ReadTimeout, err)
		}
		return err
	})
}

// observeWrite records the timestamp of a write, for Session reads.
func (m *Index) observeWrite(ts uint64) {
	for {
		last := m.lastWrite.Load()
		if ts <= last || m.lastWrite.CompareAndSwap(last, ts) {
			return
		}
	}
}

// retryPolicy retries a call that failed with a transient error, waiting
// longer each time, a bounded number of times.
type retryPolicy struct {
	// retries is how many times a call is repeated after its first try.
	retries int
	// backoff is the wait before the first retry; it doubles up to cap.
	backoff time.Duration
	cap     time.Duration
	// transient tells the errors worth another try.
	transient func(error) bool
}

// do runs call until it succeeds, fails with an error that is not
// transient, the retries are spent or ctx ends. A transient error that
// outlives the retries is wrapped with ErrUnavailable; op names the call in
// errors.
func (p retryPolicy) do(ctx context.Context, op string, call func(context.Context) error) error {
	wait := p.backoff
	for attempt := 0; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if errors.Is(err, ctxErr) {
				return fmt.Errorf("milvus: %s: %w", op, err)
			}
			return fmt.Errorf("milvus: %s: %w (last error: %v)", op, ctxErr, err)
		}
		if !p.transient(err) {
			return fmt.Errorf("milvus: %s: %w", op, err)
		}
		if attempt >= p.retries {
			return fmt.Errorf("milvus: %s: %w after %d tries: %w", op, ErrUnavailable, attempt+1, err)
		}
		// Full jitter over the upper half keeps clients that failed
		// together from retrying in lockstep.
		sleep := wait/2 + rand.N(wait/2+1)
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("milvus: %s: %w (last error: %v)", op, ctx.Err(), err)
		case <-timer.C:
		}
		wait = min(2*wait, p.cap)
	}
}
