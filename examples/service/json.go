package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// decodeJSON reads one JSON value of type T from the body: unknown fields,
// trailing data and bodies over the limit are errors the client is told.
func decodeJSON[T any](r *http.Request) (T, error) {
	var v T
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, fmt.Errorf("%w: request body over %d bytes", errTooLarge, tooBig.Limit)
		}
		if errors.Is(err, io.EOF) {
			return v, fmt.Errorf("%w: empty body, want a JSON object", errBadInput)
		}
		return v, fmt.Errorf("%w: body is not the JSON this endpoint takes: %v", errBadInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, fmt.Errorf("%w: request body over %d bytes", errTooLarge, tooBig.Limit)
		}
		return v, fmt.Errorf("%w: body has data after its JSON object", errBadInput)
	}
	return v, nil
}

// writeJSON writes v as the response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Descriptions hold HTML; clients read JSON, not HTML, so "<" stays.
	enc.SetEscapeHTML(false)
	// The client gets what it can; a write error means it went away.
	_ = enc.Encode(v)
}
