package milvus

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"hmpps/retrieval"
)

// Expressions quote every value (see quote) and never use LIKE: the
// Milvus 2.3 parser treats % and _ in a LIKE pattern as wildcards with no
// way to escape them, so a prefix is matched as the range of strings
// between the prefix and its successor (see prefixUpperBound), which is
// exact on every server version. Conditions on column keys and on JSON keys
// follow the metadata layout of milvus_rows.go.

// quote returns s as a double-quoted Milvus string literal. Only the
// backslash, the double quote and the two line breaks (which the grammar
// forbids raw) are escaped, with the escapes every Milvus version decodes;
// every other character stands for itself. s must be valid UTF-8.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// listLiteral returns values as a Milvus list literal.
func listLiteral(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// idsExpr selects the records with these IDs, which must be valid
// UTF-8.
func idsExpr(ids []string) string {
	return idField + " in " + listLiteral(ids)
}

// prefixUpperBound returns the least string above every string that starts
// with p, when there is one: p with its last code point incremented, after
// dropping trailing U+10FFFF. UTF-8 orders bytes as code points are
// ordered, so for valid UTF-8 s, s starts with p exactly when
// p <= s < bound byte-wise. The surrogate range, which UTF-8 cannot encode,
// is skipped.
func prefixUpperBound(p string) (string, bool) {
	r := []rune(p)
	for len(r) > 0 {
		last := r[len(r)-1]
		if last < utf8.MaxRune {
			next := last + 1
			if next == 0xD800 {
				next = 0xE000
			}
			r[len(r)-1] = next
			return string(r), true
		}
		r = r[:len(r)-1]
	}
	return "", false
}

// filterExpr translates f into a Milvus boolean expression over the
// layout above; an empty filter gives "", which selects everything. It
// returns an error wrapping ErrInvalidFilter for an invalid filter and one
// wrapping ErrNotUTF8 for a value Milvus cannot represent.
func filterExpr(f retrieval.Filter, columns []string) (string, error) {
	if err := f.Validate(); err != nil {
		return "", err
	}
	parts := make([]string, 0, len(f))
	for i, c := range f {
		for _, v := range c.Values {
			if !utf8.ValidString(v) {
				return "", fmt.Errorf("%w: %w: condition %d on %q", retrieval.ErrInvalidFilter, ErrNotUTF8, i, c.Field)
			}
		}
		var expr string
		if slices.Contains(columns, c.Field) {
			expr = columnCondition(c)
		} else {
			expr = jsonCondition(c)
		}
		parts = append(parts, "("+expr+")")
	}
	return strings.Join(parts, " and "), nil
}

// jsonPath is the JSON field path of metadata key k.
func jsonPath(k string) string {
	return metadataField + `["` + encodeJSONKey(k) + `"]`
}

// columnCondition is c on a column key, whose field holds "" for a missing
// key; only the JSON presence marker tells a present empty value apart.
func columnCondition(c retrieval.Condition) string {
	col := c.Field
	present := "exists " + jsonPath(col)
	if c.Op == retrieval.OpPrefix {
		p := c.Values[0]
		if p == "" {
			return "(" + col + ` != "") or (` + present + ")"
		}
		return rangeCondition(col, p)
	}
	var nonEmpty []string
	wantEmpty := false
	for _, v := range dedupe(c.Values) {
		if v == "" {
			wantEmpty = true
		} else {
			nonEmpty = append(nonEmpty, v)
		}
	}
	var alts []string
	if len(nonEmpty) > 0 {
		alts = append(alts, "("+col+" in "+listLiteral(nonEmpty)+")")
	}
	if wantEmpty {
		alts = append(alts, "("+col+` == "" and `+present+")")
	}
	return strings.Join(alts, " or ")
}

// jsonCondition is c on a key kept in the JSON field, where a missing key
// fails every comparison.
func jsonCondition(c retrieval.Condition) string {
	path := jsonPath(c.Field)
	if c.Op == retrieval.OpPrefix {
		if c.Values[0] == "" {
			return "exists " + path
		}
		return rangeCondition(path, c.Values[0])
	}
	return path + " in " + listLiteral(dedupe(c.Values))
}

// rangeCondition selects the strings of operand that start with the
// non-empty prefix p.
func rangeCondition(operand, p string) string {
	expr := operand + " >= " + quote(p)
	if upper, ok := prefixUpperBound(p); ok {
		expr += " and " + operand + " < " + quote(upper)
	}
	return expr
}

// dedupe returns values without repeats, in their first order.
func dedupe(values []string) []string {
	out := make([]string, 0, len(values))
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
