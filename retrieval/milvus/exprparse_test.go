package milvus

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// exprEval parses a Milvus boolean expression the way the Milvus 2.3 parser
// reads it, for the subset filterExpr writes, and evaluates it
// against one row. The fuzz test uses it to check that a translated filter
// selects exactly what the filter means, whatever its values hold.
//
// Lexing follows the Milvus grammar (Plan.g4): a string literal is a double
// quote, then characters other than a quote, a backslash or a line break,
// or C escape sequences, then a double quote; the server decodes it as Go's
// strconv.Unquote does. A JSON path key is taken verbatim (2.3 does not
// decode escapes in it), so this parser accepts only the plain keys
// encodeJSONKey writes.
type exprEval struct {
	src  string
	pos  int
	cols map[string]string
	json map[string]string
}

// evalExpr reports whether the row (column values and the JSON field's
// object) satisfies expr; "" is true.
func evalExpr(expr string, cols, json map[string]string) (bool, error) {
	if expr == "" {
		return true, nil
	}
	e := &exprEval{src: expr, cols: cols, json: json}
	v, err := e.or()
	if err != nil {
		return false, err
	}
	if e.skipSpace(); e.pos != len(e.src) {
		return false, fmt.Errorf("trailing input at %d: %q", e.pos, e.src[e.pos:])
	}
	return v, nil
}

func (e *exprEval) skipSpace() {
	for e.pos < len(e.src) && strings.IndexByte(" \t\r\n", e.src[e.pos]) >= 0 {
		e.pos++
	}
}

// keyword consumes w when it comes next as a whole word or symbol.
func (e *exprEval) keyword(w string) bool {
	e.skipSpace()
	if !strings.HasPrefix(e.src[e.pos:], w) {
		return false
	}
	end := e.pos + len(w)
	if isWordByte(w[len(w)-1]) && end < len(e.src) && isWordByte(e.src[end]) {
		return false
	}
	e.pos = end
	return true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (e *exprEval) or() (bool, error) {
	v, err := e.and()
	for err == nil && e.keyword("or") {
		var r bool
		r, err = e.and()
		v = v || r
	}
	return v, err
}

func (e *exprEval) and() (bool, error) {
	v, err := e.unary()
	for err == nil && e.keyword("and") {
		var r bool
		r, err = e.unary()
		v = v && r
	}
	return v, err
}

func (e *exprEval) unary() (bool, error) {
	if e.keyword("(") {
		v, err := e.or()
		if err == nil && !e.keyword(")") {
			err = fmt.Errorf("missing ) at %d", e.pos)
		}
		return v, err
	}
	if e.keyword("exists") {
		_, ok, isJSON, err := e.operand()
		if err == nil && !isJSON {
			err = fmt.Errorf("exists needs a JSON path at %d", e.pos)
		}
		return ok, err
	}
	return e.comparison()
}

// jsonKeyRef is a JSON path with one string key.
var jsonKeyRef = regexp.MustCompile(`^metadata\["([^"\\\r\n]*)"\]`)

// operand reads a field or JSON path: its value, whether the row has it,
// and whether it is a JSON path.
func (e *exprEval) operand() (value string, ok, isJSON bool, err error) {
	e.skipSpace()
	if m := jsonKeyRef.FindStringSubmatch(e.src[e.pos:]); m != nil {
		if !regexp.MustCompile(`^[A-Za-z0-9_]+$`).MatchString(m[1]) {
			return "", false, true, fmt.Errorf("JSON key %q is not plain", m[1])
		}
		e.pos += len(m[0])
		v, ok := e.json[m[1]]
		return v, ok, true, nil
	}
	start := e.pos
	for e.pos < len(e.src) && isWordByte(e.src[e.pos]) {
		e.pos++
	}
	name := e.src[start:e.pos]
	v, ok := e.cols[name]
	if !ok {
		return "", false, false, fmt.Errorf("unknown field %q at %d", name, start)
	}
	return v, true, false, nil
}

func (e *exprEval) comparison() (bool, error) {
	v, ok, _, err := e.operand()
	if err != nil {
		return false, err
	}
	if e.keyword("in") {
		list, err := e.list()
		return ok && slices.Contains(list, v), err
	}
	for _, op := range []string{"==", "!=", ">=", "<=", ">", "<"} {
		if !e.keyword(op) {
			continue
		}
		lit, err := e.literal()
		if err != nil || !ok {
			return false, err
		}
		switch op {
		case "==":
			return v == lit, nil
		case "!=":
			return v != lit, nil
		case ">=":
			return v >= lit, nil
		case "<=":
			return v <= lit, nil
		case ">":
			return v > lit, nil
		default:
			return v < lit, nil
		}
	}
	return false, fmt.Errorf("no operator at %d", e.pos)
}

func (e *exprEval) list() ([]string, error) {
	if !e.keyword("[") {
		return nil, fmt.Errorf("missing [ at %d", e.pos)
	}
	var out []string
	if e.keyword("]") {
		return out, nil
	}
	for {
		lit, err := e.literal()
		if err != nil {
			return nil, err
		}
		out = append(out, lit)
		if e.keyword("]") {
			return out, nil
		}
		if !e.keyword(",") {
			return nil, fmt.Errorf("missing , at %d", e.pos)
		}
	}
}

// literal lexes a double-quoted string literal by the grammar's rules and
// decodes it as the server does.
func (e *exprEval) literal() (string, error) {
	e.skipSpace()
	start := e.pos
	if e.pos >= len(e.src) || e.src[e.pos] != '"' {
		return "", fmt.Errorf("missing string at %d", e.pos)
	}
	e.pos++
	for {
		if e.pos >= len(e.src) {
			return "", fmt.Errorf("unterminated string at %d", start)
		}
		switch c := e.src[e.pos]; c {
		case '"':
			e.pos++
			return strconv.Unquote(e.src[start:e.pos])
		case '\r', '\n':
			return "", fmt.Errorf("raw line break in string at %d", e.pos)
		case '\\':
			if e.pos+1 >= len(e.src) || !strings.ContainsRune(`'"?abfnrtv\`, rune(e.src[e.pos+1])) {
				return "", fmt.Errorf("escape the grammar does not allow at %d", e.pos)
			}
			e.pos += 2
		default:
			e.pos++
		}
	}
}
