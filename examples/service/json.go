package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxJSONDepth is the deepest nesting of objects and arrays a body may
// have. The service's bodies need four ({"products":[{"images":[{...}]}]});
// a deeper one is not a request of this service, and refusing it early
// keeps a body of a million '[' from costing more than its bytes.
const maxJSONDepth = 32

// decodeJSON reads one JSON value of type T from the body: unknown fields
// (also a field's name in another case), a name twice in one object,
// nesting deeper than maxJSONDepth, trailing data and bodies over the
// limit are errors the client is told.
func decodeJSON[T any](r *http.Request) (T, error) {
	var v T
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, fmt.Errorf("%w: request body over %d bytes", errTooLarge, tooBig.Limit)
		}
		return v, fmt.Errorf("%w: reading the body: %v", errBadInput, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return v, fmt.Errorf("%w: empty body, want a JSON object", errBadInput)
	}
	if err := checkJSONShape(data, reflect.TypeFor[T]()); err != nil {
		return v, fmt.Errorf("%w: %v", errBadInput, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("%w: body is not the JSON this endpoint takes: %v", errBadInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, fmt.Errorf("%w: body has data after its JSON object", errBadInput)
	}
	return v, nil
}

// checkJSONShape refuses a body that nests deeper than maxJSONDepth, names
// a member twice in one object, or names a field of t in another case.
// encoding/json takes the last of two equal names, and matches a field's
// name ignoring case: a proxy, a firewall or a log in front, reading the
// first name or only the exact one, would see another request than the
// service. Names are compared unescaped ("\u0061" is "a"), as a decoder
// sees them. Syntax errors and unknown fields are left to the decoder,
// which words them better.
//
// It walks the bytes once, alongside the Go type they are decoded into,
// and skips a string's content with a byte search, so that a batch of
// base64 pictures costs it a fraction of what decoding them does.
func checkJSONShape(data []byte, t reflect.Type) error {
	s := shapeScanner{data: data}
	err := s.value(t)
	if errors.Is(err, errJSONSyntax) {
		return nil
	}
	return err
}

// errJSONSyntax stops checkJSONShape at a syntax error, which is the
// decoder's to report.
var errJSONSyntax = errors.New("syntax error")

// shapeScanner is checkJSONShape's position in the body; a nil type is a
// part no field takes.
type shapeScanner struct {
	data  []byte
	pos   int
	depth int
}

func (s *shapeScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next returns the byte at the position after white space, or 0 at the
// end.
func (s *shapeScanner) next() byte {
	s.skipSpace()
	if s.pos == len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *shapeScanner) value(t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch s.next() {
	case '{':
		return s.nested(func() error { return s.object(t) })
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		return s.nested(func() error { return s.members(']', func() error { return s.value(elem) }) })
	case '"':
		_, err := s.str(false)
		return err
	case 0:
		return errJSONSyntax
	}
	// A number, true, false or null: the decoder checks its spelling.
	start := s.pos
	for s.pos < len(s.data) && !strings.ContainsRune(",]} \t\n\r", rune(s.data[s.pos])) {
		s.pos++
	}
	if s.pos == start {
		return errJSONSyntax
	}
	return nil
}

// nested runs the members of the object or array that opens at the
// position one level deeper.
func (s *shapeScanner) nested(members func() error) error {
	if s.depth == maxJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	s.depth++
	s.pos++ // past '{' or '['
	err := members()
	s.depth--
	return err
}

// members reads comma-separated members with member up to and past end.
func (s *shapeScanner) members(end byte, member func() error) error {
	if s.next() == end {
		s.pos++
		return nil
	}
	for {
		if err := member(); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.pos++
		case end:
			s.pos++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (s *shapeScanner) object(t reflect.Type) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	return s.members('}', func() error {
		if s.next() != '"' {
			return errJSONSyntax
		}
		name, err := s.str(true)
		if err != nil {
			return err
		}
		if s.next() != ':' {
			return errJSONSyntax
		}
		s.pos++
		if seen[name] {
			return fmt.Errorf("the name %q is given twice in one object", name)
		}
		seen[name] = true
		ft := elem
		if fields != nil {
			var known bool
			if ft, known = fields[name]; !known {
				for field := range fields {
					if strings.EqualFold(name, field) {
						return fmt.Errorf("unknown field %q: names are case-sensitive; did you mean %q?", name, field)
					}
				}
			}
		}
		return s.value(ft)
	})
}

// str reads the string that starts at the position and, with decode,
// returns it unescaped as encoding/json would (invalid UTF-8 becomes
// U+FFFD).
func (s *shapeScanner) str(decode bool) (string, error) {
	start := s.pos
	s.pos++ // past the opening quote
	for {
		i := bytes.IndexByte(s.data[s.pos:], '"')
		if i < 0 {
			return "", errJSONSyntax
		}
		s.pos += i + 1
		// The quote closes the string unless an odd number of
		// backslashes escapes it.
		backslashes := 0
		for j := s.pos - 2; j > start && s.data[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			break
		}
	}
	if !decode {
		return "", nil
	}
	raw := s.data[start:s.pos]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return "", errJSONSyntax
	}
	return name, nil
}

// jsonFieldCache holds jsonFields by type: the service decodes a handful
// of types, many times each.
var jsonFieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields returns the JSON names of t's fields and their types, as
// encoding/json names them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := jsonFieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fields[name] = f.Type
	}
	jsonFieldCache.Store(t, fields)
	return fields
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
