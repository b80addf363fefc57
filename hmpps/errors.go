package hmpps

import (
	"errors"
	"fmt"

	"hmpps/retrieval"
)

// Sentinel errors returned (wrapped with context) by the Engine; test for them
// with errors.Is.
var (
	// ErrInvalidProduct reports a product the engine cannot index.
	ErrInvalidProduct = errors.New("hmpps: invalid product")
	// ErrInvalidRequest reports a search request that cannot be served, such
	// as one with an empty query or a negative TopN.
	ErrInvalidRequest = errors.New("hmpps: invalid request")
	// ErrEmptyQuery reports a query without a single word. It wraps
	// ErrInvalidRequest.
	ErrEmptyQuery = fmt.Errorf("%w: empty query", ErrInvalidRequest)
	// ErrNotFound reports a product ID the catalog does not hold. It is the
	// same value as retrieval.ErrNotFound.
	ErrNotFound = retrieval.ErrNotFound
	// ErrDuplicateID reports a product ID given twice in one batch, or an Add
	// of an ID that already exists. It is the same value as
	// retrieval.ErrDuplicateID.
	ErrDuplicateID = retrieval.ErrDuplicateID
	// ErrClosed reports a call on a closed Engine.
	ErrClosed = errors.New("hmpps: engine closed")
	// ErrCorruptFile reports an engine file that is truncated, altered or of
	// an unknown version.
	ErrCorruptFile = errors.New("hmpps: corrupt engine file")
)
