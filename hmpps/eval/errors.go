package eval

import "errors"

// Sentinel errors of the package, wrapped with context; test with errors.Is.
var (
	// ErrMalformedRecord reports a data line that is not the expected JSON
	// object or lacks a required field.
	ErrMalformedRecord = errors.New("eval: malformed record")
	// ErrNoData reports a data folder without the expected files, or files
	// without a single usable record.
	ErrNoData = errors.New("eval: no data")
	// ErrInvalidSplit reports a split that cannot be built or read: bad
	// settings, an unknown version, or candidate lists that do not hold
	// their target.
	ErrInvalidSplit = errors.New("eval: invalid split")
	// ErrInvalidScores reports a method that returned the wrong number of
	// scores or a NaN, which no ranking can be computed from.
	ErrInvalidScores = errors.New("eval: invalid scores")
)
