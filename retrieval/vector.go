package retrieval

import (
	"errors"
	"fmt"
	"math"

	"github.com/viterin/vek/vek32"
)

// Sentinel errors shared by every implementation in this package. They are
// wrapped with context; test for them with errors.Is.
var (
	// ErrInvalidVector reports a vector that cannot be used: empty, with a
	// NaN or infinite component, a zero vector where a direction is needed,
	// or of the wrong length (ErrDimensionMismatch, which wraps it). Every
	// vector this package refuses is therefore errors.Is ErrInvalidVector.
	ErrInvalidVector = errors.New("retrieval: invalid vector")
	// ErrDimensionMismatch reports a vector, index or collection whose
	// length differs from the dimension expected. It wraps ErrInvalidVector,
	// so a caller that maps every bad vector to one answer tests for that
	// alone, and one that cares about the length tests for this.
	ErrDimensionMismatch = fmt.Errorf("%w: dimension mismatch", ErrInvalidVector)
	// ErrNotFound reports an ID the index does not hold.
	ErrNotFound = errors.New("retrieval: not found")
	// ErrDuplicateID reports the same ID twice in one batch.
	ErrDuplicateID = errors.New("retrieval: duplicate id in batch")
	// ErrEmptyID reports a record without an ID.
	ErrEmptyID = errors.New("retrieval: empty id")
	// ErrClosed reports a call on a closed index.
	ErrClosed = errors.New("retrieval: index closed")
)

// CheckVector returns an error wrapping ErrInvalidVector when v is empty or
// holds a NaN or infinite component, and one wrapping ErrDimensionMismatch
// (and so ErrInvalidVector too) when dim > 0 and len(v) != dim.
//
// A vector whose squared norm (one SIMD dot product) is finite has no NaN or
// infinite component, which decides the common case several times faster
// than a scalar pass; only a vector that fails it, or whose squared norm
// overflows, is checked component by component for the precise error. The
// answer does not depend on the SIMD rounding: a finite sum of squares
// proves every component finite, and any other sum sends v to the exact
// scalar pass.
func CheckVector(v []float32, dim int) error {
	if len(v) > 0 && (dim <= 0 || len(v) == dim) {
		if n := float64(vek32.Dot(v, v)); !math.IsNaN(n) && !math.IsInf(n, 0) {
			return nil
		}
	}
	if len(v) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidVector)
	}
	if dim > 0 && len(v) != dim {
		return fmt.Errorf("%w: got %d, want %d", ErrDimensionMismatch, len(v), dim)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d is %v", ErrInvalidVector, i, x)
		}
	}
	return nil
}

// Normalize scales v in place to unit Euclidean length. It returns an error
// wrapping ErrInvalidVector for an empty, non-finite or zero vector, leaving v
// unchanged.
//
// The arithmetic is exact and the same on every machine: the squared norm is
// summed in float64 (where the square of a float32 is exact and cannot
// overflow or underflow), its square root is math.Sqrt (correctly rounded by
// IEEE 754), and each component is divided in float64 and rounded once to
// float32. So the result has norm 1 to within float32 rounding whatever the
// scale of v, a one-hot vector becomes exactly one-hot, and the stored
// vectors (hence the scores) do not depend on which CPU computed them. SIMD
// is kept for the scans, where it pays.
func Normalize(v []float32) error {
	if err := CheckVector(v, 0); err != nil {
		return err
	}
	n := norm64(v)
	if n == 0 {
		return fmt.Errorf("%w: zero vector has no direction", ErrInvalidVector)
	}
	for i, x := range v {
		v[i] = float32(float64(x) / n)
	}
	return nil
}

// norm64 returns the Euclidean norm of v computed in float64. Each square of
// a float32 is exact in float64, so the sum does not depend on whether the
// compiler fuses the multiply and add, and math.Sqrt is correctly rounded:
// the result is the same on every machine. A finite v cannot overflow it.
func norm64(v []float32) float64 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	return math.Sqrt(sq)
}

// Dot returns the inner product of a and b, or 0 when either is empty or
// their lengths differ. It exists so that callers holding vectors of
// uncertain provenance never reach vek's panics; validated hot paths call
// vek32.Dot directly. Its SIMD sum may round differently from one
// architecture to another; Dot64 does not.
func Dot(a, b []float32) float32 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	return vek32.Dot(a, b)
}
