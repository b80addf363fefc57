package retrieval

import "fmt"

// DefaultRescore is the Rescore a quantized index reports when none was
// given.
//
// Deprecated: a quantized search rescores every row its error bound cannot
// rule out (see EmbeddedOptions.Quantize); Rescore is ignored.
const DefaultRescore = 4

// MaxRescore bounds EmbeddedOptions.Rescore.
//
// Deprecated: Rescore is ignored (see DefaultRescore).
const MaxRescore = 1 << 10

// EmbeddedOptions tune an Embedded index. The zero value is what
// NewEmbedded uses: exact float32 scans, spread over idle CPUs when the
// index is large.
type EmbeddedOptions struct {
	// Quantize, if true, also stores every vector as int8 codes with one
	// scale per vector, and searches by scanning those: a quarter of the
	// bytes of the float32 matrix, whose streaming is what bounds a scan,
	// and only the dimensions where the query is not zero, a fraction of
	// them for a short query embedded by HashingEmbedder. Each row's exact
	// score is bounded from its codes, with a radius derived from the
	// quantization errors of the row and the query and from float32's
	// rounding; the rows whose upper bound reaches the k-th best lower
	// bound, and only they, are rescored from the float32 vectors, which
	// the index keeps for that and for Get. So a quantized search returns
	// exactly what an exact one returns, hits, scores and order, for 1.25
	// times the memory. Vectors so huge or tiny that float32 cannot bound
	// their scores (beyond about 1e30, or under 1e-36) are scanned exactly.
	Quantize bool
	// Rescore is validated (between 0 and MaxRescore) and reported by
	// Options, but no longer used.
	//
	// Deprecated: a quantized search rescores every row that its error
	// bound cannot rule out, which makes it exact; there is no shortlist
	// to size.
	Rescore int
	// Parallelism is the most goroutines one Search scans with, the
	// caller's included. Helpers are lent only while idle and only for CPUs
	// no other search of the index is scanning on, so concurrent searches
	// never queue behind each other: under load each scans on its own
	// goroutine, and a lone search gets the whole machine. Only scans of at
	// least 4 MiB of vectors are split. If zero, GOMAXPROCS as read when a
	// search first needs helpers; 1 keeps every scan on the caller's
	// goroutine. Not saved: an opened index uses zero.
	Parallelism int
}

// withDefaults validates o and fills in its defaults.
func (o EmbeddedOptions) withDefaults() (EmbeddedOptions, error) {
	if o.Rescore < 0 || o.Rescore > MaxRescore {
		return o, fmt.Errorf("%w: rescore %d outside [0, %d]", ErrInvalidConfig, o.Rescore, MaxRescore)
	}
	if o.Parallelism < 0 {
		return o, fmt.Errorf("%w: parallelism %d is negative", ErrInvalidConfig, o.Parallelism)
	}
	if !o.Quantize {
		o.Rescore = 0
	} else if o.Rescore == 0 {
		o.Rescore = DefaultRescore
	}
	return o, nil
}
