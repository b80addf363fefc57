package eval

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteSplit writes s to w as indented JSON, the file every method of an
// evaluation is scored from.
func WriteSplit(w io.Writer, s *Split) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("eval: write split: %w", err)
	}
	return nil
}

// ReadSplit reads a split written by WriteSplit and checks it: a known
// version, and candidate lists without repeats that hold their target. A
// split that fails returns an error wrapping ErrInvalidSplit.
func ReadSplit(r io.Reader) (*Split, error) {
	var s Split
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSplit, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks what ReadSplit checks.
func (s *Split) Validate() error {
	if s.Version != SplitVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrInvalidSplit, s.Version, SplitVersion)
	}
	for _, c := range s.Cases {
		for _, t := range []*Target{c.Validation, c.Test} {
			if t == nil {
				continue
			}
			if err := t.validate(); err != nil {
				return fmt.Errorf("%w: user %q: %w", ErrInvalidSplit, c.User, err)
			}
		}
	}
	return nil
}

func (t *Target) validate() error {
	seen := make(map[string]bool, len(t.Candidates))
	for _, id := range t.Candidates {
		if seen[id] {
			return fmt.Errorf("candidate %q appears twice", id)
		}
		seen[id] = true
	}
	if !seen[t.Product] {
		return fmt.Errorf("target %q is not among its candidates", t.Product)
	}
	if t.Query == "" {
		return fmt.Errorf("target %q has no query", t.Product)
	}
	return nil
}
