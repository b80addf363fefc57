package eval

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// userSequence is one user's purchases, oldest first.
type userSequence struct {
	user  string
	items []string
}

// rebuildSequences joins the rows of the three .inter files into one
// sequence per user, sorted by user. Each row is a window of its user's
// sequence: its list is the purchases just before its item, all of them or
// the last W, where W is the longest list in the files. The training rows
// are chained from the shortest list up, then the validation row and the
// test row must each extend the sequence. It returns how many rows were
// windows that left out earlier purchases.
func rebuildSequences(train, valid, test []interRow) ([]userSequence, int, error) {
	window := 0
	for _, rows := range [][]interRow{train, valid, test} {
		for _, r := range rows {
			window = max(window, len(r.List))
		}
	}
	byUser := func(rows []interRow, name string, one bool) (map[string][]interRow, error) {
		m := make(map[string][]interRow)
		for _, r := range rows {
			if one && len(m[r.User]) > 0 {
				return nil, fmt.Errorf("eval: %s: %w: user %q has two rows", name, ErrMalformedRecord, r.User)
			}
			m[r.User] = append(m[r.User], r)
		}
		return m, nil
	}
	trainBy, _ := byUser(train, "train.inter", false)
	validBy, err := byUser(valid, "valid.inter", true)
	if err != nil {
		return nil, 0, err
	}
	testBy, err := byUser(test, "test.inter", true)
	if err != nil {
		return nil, 0, err
	}
	for u := range trainBy {
		if len(validBy[u]) == 0 {
			return nil, 0, fmt.Errorf("eval: %w: user %q has training rows but no validation row", ErrMalformedRecord, u)
		}
	}
	for u := range validBy {
		if len(testBy[u]) == 0 {
			return nil, 0, fmt.Errorf("eval: %w: user %q has a validation row but no test row", ErrMalformedRecord, u)
		}
	}
	var out []userSequence
	truncated := 0
	for _, u := range slices.Sorted(maps.Keys(testBy)) {
		tr := testBy[u]
		if len(validBy[u]) == 0 {
			return nil, 0, fmt.Errorf("eval: %w: user %q has a test row but no validation row", ErrMalformedRecord, u)
		}
		rows := slices.Clone(trainBy[u])
		// Shorter lists come first; rows of equal length keep file order
		// and are chained by content below.
		slices.SortStableFunc(rows, func(a, b interRow) int { return cmp.Compare(len(a.List), len(b.List)) })
		s := &chain{window: window}
		if len(rows) > 0 {
			s.items = slices.Clone(rows[0].List)
		} else {
			s.items = slices.Clone(validBy[u][0].List)
		}
		for len(rows) > 0 {
			i := slices.IndexFunc(rows, s.extends)
			if i < 0 {
				return nil, 0, fmt.Errorf("eval: train.inter: %w: user %q: a row is not a window of the sequence %v", ErrMalformedRecord, u, s.items)
			}
			s.add(rows[i])
			rows = slices.Delete(rows, i, i+1)
		}
		for _, x := range []struct {
			name string
			row  interRow
		}{{"valid.inter", validBy[u][0]}, {"test.inter", tr[0]}} {
			if !s.extends(x.row) {
				return nil, 0, fmt.Errorf("eval: %s: %w: user %q: its list is not the end of the sequence %v", x.name, ErrMalformedRecord, u, s.items)
			}
			s.add(x.row)
		}
		truncated += s.truncated
		out = append(out, userSequence{user: u, items: s.items})
	}
	return out, truncated, nil
}

// chain is a sequence being rebuilt from windows of it.
type chain struct {
	items     []string
	window    int
	truncated int
}

// extends reports whether r's list is the end of the sequence so far: all
// of it, or a full window of its last items.
func (c *chain) extends(r interRow) bool {
	n := len(r.List)
	if n != len(c.items) && (n != c.window || n > len(c.items)) {
		return false
	}
	return slices.Equal(r.List, c.items[len(c.items)-n:])
}

// add appends r's item, counting a window that left purchases out.
func (c *chain) add(r interRow) {
	if len(r.List) < len(c.items) {
		c.truncated++
	}
	c.items = append(c.items, r.Item)
}
