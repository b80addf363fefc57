package retrieval

import "fmt"

// DefaultRescore is the shortlist a quantized search rescores when
// EmbeddedOptions.Rescore is zero, as a multiple of k. At 100,000 vectors of
// 384 dimensions, the int8 scores alone put 98.8% (uniform random data) and
// 97.8% (clustered, embedding-like data) of the exact top 10 in their own
// top 10, and all of it in their top 15; rescoring four times k, and at
// least k+32, leaves a wide margin for harder data at the cost of a few
// dozen exact dot products.
const DefaultRescore = 4

// minShortlist is the smallest shortlist a quantized search rescores, so
// that a small k, where one swapped row weighs most, still gets a margin.
const minShortlist = 32

// MaxRescore bounds EmbeddedOptions.Rescore. Past it, a quantized search
// rescores so much that an exact one would be faster.
const MaxRescore = 1 << 10

// EmbeddedOptions tune an Embedded index. The zero value is what
// NewEmbedded uses: exact float32 scans, spread over idle CPUs when the
// index is large.
type EmbeddedOptions struct {
	// Quantize, if true, also stores every vector as int8 codes with one
	// scale per vector, and searches by scanning those: a quarter of the
	// bytes of the float32 matrix, whose streaming is what bounds a scan.
	// The best max(Rescore·k, k+32) rows by quantized score are then
	// rescored from the float32 vectors, which the index keeps for that and
	// for Get, so returned scores are exact and the index takes 1.25 times
	// the memory of an exact one. A true top-k row is missed only when
	// quantization error pushes it out of that shortlist. The choice is
	// saved with the index.
	Quantize bool
	// Rescore is the shortlist a quantized search rescores, as a multiple of
	// k, between 1 and MaxRescore. If zero, DefaultRescore. Larger buys
	// recall for a few exact dot products per row. Ignored without Quantize;
	// saved with the index.
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

// shortlist returns how many rows a quantized search of k rescores out of
// n, without overflowing for a huge k.
func (o EmbeddedOptions) shortlist(k, n int) int {
	if k >= n || k > n/o.Rescore {
		return n
	}
	return min(n, max(k*o.Rescore, k+minShortlist))
}
