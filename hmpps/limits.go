package hmpps

import "fmt"

// Defaults of Limits.
const (
	// DefaultMaxQueryBytes is the longest query a search accepts, in bytes:
	// far above any typed query, far below what would make embedding and
	// summarizing around it slow (a 1 MB query took over half a second).
	DefaultMaxQueryBytes = 4096
	// DefaultMaxHistory is the most history items one search accepts,
	// Request.History and Request.HistoryIDs together. Stage one scores all
	// of them and keeps a few, so a longer history only costs time.
	DefaultMaxHistory = 1000
	// DefaultMaxCandidates is the most Request.CandidateIDs one search
	// accepts.
	DefaultMaxCandidates = 1000
)

// Limits bound what one search request may ask for, so that a service that
// passes its callers' requests to Search cannot be made to embed a megabyte
// of query or look up a million products. A request over a limit fails,
// before any work is done, with an error wrapping ErrRequestTooLarge (and so
// ErrInvalidRequest) that names the limit.
type Limits struct {
	// QueryBytes is the longest Request.Query, in bytes. If zero,
	// DefaultMaxQueryBytes.
	QueryBytes int
	// History is the most history items, Request.History and
	// Request.HistoryIDs together. If zero, DefaultMaxHistory.
	History int
	// Candidates is the most Request.CandidateIDs. If zero,
	// DefaultMaxCandidates.
	Candidates int
}

// WithLimits sets the request limits; a zero field keeps its default (see
// Limits). Negative fields are refused by New. A service that wants no
// limit on a field sets it to math.MaxInt.
func WithLimits(l Limits) Option {
	return func(c *config) { c.limits = l }
}

// resolve fills l's zero fields with the defaults and refuses negative ones.
func (l Limits) resolve() (Limits, error) {
	if l.QueryBytes < 0 || l.History < 0 || l.Candidates < 0 {
		return l, fmt.Errorf("hmpps: limits must not be negative, got %+v", l)
	}
	if l.QueryBytes == 0 {
		l.QueryBytes = DefaultMaxQueryBytes
	}
	if l.History == 0 {
		l.History = DefaultMaxHistory
	}
	if l.Candidates == 0 {
		l.Candidates = DefaultMaxCandidates
	}
	return l, nil
}

// check returns an error wrapping ErrRequestTooLarge when req is over a
// limit. It looks only at lengths, so it is cheap enough to run before
// anything else.
func (l Limits) check(req *Request) error {
	if n := len(req.Query); n > l.QueryBytes {
		return fmt.Errorf("%w: query is %d bytes, at most %d (Limits.QueryBytes)", ErrRequestTooLarge, n, l.QueryBytes)
	}
	if n := len(req.History) + len(req.HistoryIDs); n > l.History {
		return fmt.Errorf("%w: %d history items, at most %d (Limits.History)", ErrRequestTooLarge, n, l.History)
	}
	if n := len(req.CandidateIDs); n > l.Candidates {
		return fmt.Errorf("%w: %d candidate IDs, at most %d (Limits.Candidates)", ErrRequestTooLarge, n, l.Candidates)
	}
	return nil
}
