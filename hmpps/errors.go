package hmpps

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	// ErrRequestTooLarge reports a request over one of the engine's Limits:
	// a query too long, too many history items or candidate IDs. It wraps
	// ErrInvalidRequest.
	ErrRequestTooLarge = fmt.Errorf("%w: over a limit", ErrInvalidRequest)
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

// maxNamedIDs bounds how many unknown IDs an UnknownIDsError's message
// names, so that a request with thousands of them gives a readable error.
const maxNamedIDs = 10

// UnknownIDsError reports product IDs of a request that the catalog does not
// hold. It wraps ErrNotFound; a service can read IDs to tell its caller
// exactly which products to fix.
type UnknownIDsError struct {
	// Field is the part of the request the IDs came from: "history"
	// (Request.HistoryIDs) or "candidates" (Request.CandidateIDs).
	Field string
	// IDs are every unknown ID, each once, in the order the request gives
	// them.
	IDs []string
}

// Error names the first ten unknown IDs and how many more there are.
func (e *UnknownIDsError) Error() string {
	var b strings.Builder
	b.WriteString("hmpps: ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	noun := "products"
	if len(e.IDs) == 1 {
		noun = "product"
	}
	fmt.Fprintf(&b, "%d %s not in the catalog: ", len(e.IDs), noun)
	for i, id := range e.IDs[:min(len(e.IDs), maxNamedIDs)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(id))
	}
	if n := len(e.IDs) - maxNamedIDs; n > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	return b.String()
}

// Unwrap returns ErrNotFound, so that errors.Is(err, ErrNotFound) holds.
func (e *UnknownIDsError) Unwrap() error { return ErrNotFound }
