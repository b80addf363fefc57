package retrieval

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidConfig reports a setting outside its documented range: a VectorFusion
// weight, a HistoryFilter field, a hashing dimension or an image size limit.
var ErrInvalidConfig = errors.New("retrieval: invalid configuration")

// DefaultVectorFusion weighs text 0.7 and image 0.3: product titles and
// descriptions carry most of what shoppers search for, while the picture adds
// colour and look.
var DefaultVectorFusion = VectorFusion{TextWeight: 0.7, ImageWeight: 0.3}

// VectorFusion combines a product's text vector t and image vector i into one
// vector that an Index with the InnerProduct metric can store and search.
//
// With wt and wi the weights scaled to sum to 1, and t̂, î the unit-length
// inputs, a product's fused vector is the concatenation
//
//	p = [ sqrt(wt)·t̂ ; sqrt(wi)·î ]
//
// and a product without an image gets zeros in the image block. So the inner
// product of two fused products is a weighted sum of per-modality cosines,
//
//	p1·p2 = wt·cos(t1, t2) + wi·cos(i1, i2)
//
// where a missing image contributes 0 (the vector's norm is then sqrt(wt)
// instead of 1). A text query q is fused by Query into
//
//	f = [ q̂ / sqrt(wt) ; 0 ]
//
// so that f·p = cos(q, t) exactly: a text query is compared with the text
// part only, and products with and without an image are scored on the same
// scale. This is why the index holding fused vectors must use InnerProduct:
// Cosine would renormalize the vectors and undo both properties.
//
// The zero value has no weight and is invalid; use DefaultVectorFusion or set the
// weights (only their ratio matters).
type VectorFusion struct {
	// TextWeight is the share of the text cosine in product-to-product
	// similarity. It must be positive for Query to work.
	TextWeight float32
	// ImageWeight is the share of the image cosine. Zero makes the image
	// block all zeros, i.e. text-only vectors of the same layout.
	ImageWeight float32
}

// Validate returns an error wrapping ErrInvalidConfig unless both weights
// are finite and non-negative with a positive sum.
func (f VectorFusion) Validate() error {
	for _, w := range []struct {
		name string
		v    float32
	}{{"text", f.TextWeight}, {"image", f.ImageWeight}} {
		if math.IsNaN(float64(w.v)) || math.IsInf(float64(w.v), 0) || w.v < 0 {
			return fmt.Errorf("%w: fusion %s weight %v must be finite and >= 0", ErrInvalidConfig, w.name, w.v)
		}
	}
	if float64(f.TextWeight)+float64(f.ImageWeight) <= 0 {
		return fmt.Errorf("%w: fusion weights must not both be zero", ErrInvalidConfig)
	}
	return nil
}

// shares returns sqrt(wt) and sqrt(wi) for the weights scaled to sum to 1.
func (f VectorFusion) shares() (text, image float64) {
	sum := float64(f.TextWeight) + float64(f.ImageWeight)
	return math.Sqrt(float64(f.TextWeight) / sum), math.Sqrt(float64(f.ImageWeight) / sum)
}

// Product returns a new fused vector of length textDim+imageDim for a
// product's text vector and image vector. image may be nil when the product
// has no picture; text may not. Both are normalized here, so any positive
// scale is accepted, but a zero, non-finite or wrongly sized vector fails
// with an error wrapping ErrInvalidVector or ErrDimensionMismatch.
func (f VectorFusion) Product(text, image []float32, textDim, imageDim int) ([]float32, error) {
	if err := f.checkDims(textDim, imageDim); err != nil {
		return nil, err
	}
	st, si := f.shares()
	out := make([]float32, textDim+imageDim)
	if err := putScaledUnit(out[:textDim], text, textDim, st); err != nil {
		return nil, fmt.Errorf("retrieval: fusion: product text: %w", err)
	}
	if image != nil {
		if imageDim == 0 {
			return nil, fmt.Errorf("retrieval: fusion: product image: %w: got %d, want none (image dimension 0)",
				ErrDimensionMismatch, len(image))
		}
		if err := putScaledUnit(out[textDim:], image, imageDim, si); err != nil {
			return nil, fmt.Errorf("retrieval: fusion: product image: %w", err)
		}
	}
	return out, nil
}

// Query returns a new vector of length len(text)+imageDim for a text query,
// scaled so that its inner product with any fused product vector is the
// cosine between the query and the product's text (see VectorFusion). It needs a
// positive TextWeight.
func (f VectorFusion) Query(text []float32, imageDim int) ([]float32, error) {
	if err := f.checkDims(max(len(text), 1), imageDim); err != nil {
		return nil, err // an empty text fails below, as an invalid vector
	}
	if f.TextWeight == 0 {
		return nil, fmt.Errorf("%w: fusion text weight is zero, so a text query matches nothing", ErrInvalidConfig)
	}
	st, _ := f.shares()
	out := make([]float32, len(text)+imageDim)
	if err := putScaledUnit(out[:len(text)], text, len(text), 1/st); err != nil {
		return nil, fmt.Errorf("retrieval: fusion: query: %w", err)
	}
	return out, nil
}

// TextPart returns a new unit-length copy of the text block of a fused
// vector, e.g. to let a reranker compare texts alone. It returns nil when
// textDim is not in [1, len(fused)] or the text block is zero or not finite.
func (f VectorFusion) TextPart(fused []float32, textDim int) []float32 {
	if textDim < 1 || textDim > len(fused) {
		return nil
	}
	out := append([]float32(nil), fused[:textDim]...)
	if Normalize(out) != nil {
		return nil
	}
	return out
}

func (f VectorFusion) checkDims(textDim, imageDim int) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if textDim < 1 || imageDim < 0 {
		return fmt.Errorf("%w: fusion dimensions text %d, image %d: text must be >= 1 and image >= 0",
			ErrInvalidConfig, textDim, imageDim)
	}
	return nil
}

// putScaledUnit writes scale·v/‖v‖ into dst after checking v.
func putScaledUnit(dst, v []float32, dim int, scale float64) error {
	if err := CheckVector(v, dim); err != nil {
		return err
	}
	// Norm in float64, exact and machine-independent (see Normalize), so
	// that large finite components cannot overflow it.
	n := norm64(v)
	if n == 0 {
		return fmt.Errorf("%w: zero vector has no direction", ErrInvalidVector)
	}
	// Scale in float64 too: for tiny components the factor itself may not
	// fit in a float32.
	k := scale / n
	for i, x := range v {
		dst[i] = float32(float64(x) * k)
	}
	return nil
}
