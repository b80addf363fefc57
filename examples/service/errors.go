package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"hmpps/hmpps"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// errorBody is the JSON of every error response.
type errorBody struct {
	Error apiError `json:"error"`
}

// apiError says what went wrong: Code is stable for programs, Message is
// for people.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// IDs are the unknown product IDs of a search, all of them, so that a
	// client can fix its request without parsing the message.
	IDs []string `json:"ids,omitempty"`
}

// errorKind is how the service answers one class of error.
type errorKind struct {
	status int
	code   string
	// public says the error's own message may be shown to the client; for
	// server faults the client gets a generic message and the log the rest.
	public bool
}

// errorKinds maps the library's sentinels to answers, most specific first:
// the first sentinel that errors.Is finds in the chain decides. Bad input
// is 4xx with the library's message; faults of the service or of the
// servers behind it are 5xx.
var errorKinds = []struct {
	target error
	kind   errorKind
}{
	{hmpps.ErrNotFound, errorKind{http.StatusNotFound, "not_found", true}},
	{hmpps.ErrEmptyQuery, errorKind{http.StatusBadRequest, "empty_query", true}},
	{hmpps.ErrDuplicateID, errorKind{http.StatusBadRequest, "duplicate_id", true}},
	{hmpps.ErrInvalidProduct, errorKind{http.StatusBadRequest, "invalid_product", true}},
	{hmpps.ErrRequestTooLarge, errorKind{http.StatusBadRequest, "over_limit", true}},
	{retrieval.ErrInvalidFilter, errorKind{http.StatusBadRequest, "invalid_filter", true}},
	{hmpps.ErrInvalidRequest, errorKind{http.StatusBadRequest, "invalid_request", true}},
	{retrieval.ErrDimensionMismatch, errorKind{http.StatusBadRequest, "invalid_vector", true}},
	{retrieval.ErrInvalidVector, errorKind{http.StatusBadRequest, "invalid_vector", true}},
	{retrieval.ErrInvalidImage, errorKind{http.StatusBadRequest, "invalid_image", true}},
	{retrieval.ErrEmptyID, errorKind{http.StatusBadRequest, "invalid_product", true}},
	{milvus.ErrNotUTF8, errorKind{http.StatusBadRequest, "invalid_text", true}},
	{retrieval.ErrRecordTooLarge, errorKind{http.StatusRequestEntityTooLarge, "record_too_large", true}},
	{errBadInput, errorKind{http.StatusBadRequest, "bad_request", true}},
	{errTooLarge, errorKind{http.StatusRequestEntityTooLarge, "too_large", true}},
	{errOverLimit, errorKind{http.StatusBadRequest, "over_limit", true}},
	{errNoKey, errorKind{http.StatusUnauthorized, "unauthenticated", true}},
	{errBadKey, errorKind{http.StatusUnauthorized, "invalid_key", true}},
	{errForbidden, errorKind{http.StatusForbidden, "forbidden", true}},
	{errRateLimited, errorKind{http.StatusTooManyRequests, "rate_limited", true}},
	{errBusy, errorKind{http.StatusServiceUnavailable, "busy", true}},
	{errNoCatalogFile, errorKind{http.StatusConflict, "no_catalog_file", true}},
	// The client went away; nobody reads the answer, but the log and the
	// metrics say what happened.
	{context.Canceled, errorKind{http.StatusServiceUnavailable, "canceled", true}},
	{context.DeadlineExceeded, errorKind{http.StatusGatewayTimeout, "timeout", false}},
	{hmpps.ErrClosed, errorKind{http.StatusServiceUnavailable, "shutting_down", false}},
	{retrieval.ErrModelUnavailable, errorKind{http.StatusServiceUnavailable, "model_unavailable", false}},
	{milvus.ErrUnavailable, errorKind{http.StatusServiceUnavailable, "index_unavailable", false}},
	// A model the server does not have is the service's misconfiguration.
	{retrieval.ErrModelNotFound, errorKind{http.StatusInternalServerError, "model_not_found", false}},
}

// The service's own sentinels, for input the library never sees.
var (
	// errBadInput reports a body that is not the JSON the endpoint takes.
	errBadInput = errors.New("bad input")
	// errTooLarge reports a body, batch or ad-hoc history product over the
	// configured limits.
	errTooLarge = errors.New("too large")
	// errForbidden reports a key whose role is too small for the endpoint.
	errForbidden = errors.New("forbidden")
	// errNoCatalogFile reports POST /save to a service started without
	// -catalog.
	errNoCatalogFile = errors.New("no catalog file")
)

// kindOf returns how to answer err.
func kindOf(err error) errorKind {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorKind{http.StatusRequestEntityTooLarge, "too_large", true}
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.target) {
			return k.kind
		}
	}
	return errorKind{http.StatusInternalServerError, "internal", false}
}

// writeError answers err as JSON with its status, and logs server faults.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	k := kindOf(err)
	msg := err.Error()
	if !k.public {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", k.status, "err", err)
		msg = http.StatusText(k.status)
		if k.code == "timeout" {
			msg = "the request did not finish within the service's deadline"
		}
	}
	e := apiError{Code: k.code, Message: msg}
	var unknown *hmpps.UnknownIDsError
	if errors.As(err, &unknown) {
		e.IDs = unknown.IDs
	}
	writeAPIError(w, k.status, e)
}

// writeAPIError answers e with status, and tells the service's
// statusWriter the code, which the rejection counter reads.
func writeAPIError(w http.ResponseWriter, status int, e apiError) {
	if sw, ok := w.(*statusWriter); ok {
		sw.code = e.Code
	}
	writeJSON(w, status, errorBody{e})
}
