package retrieval

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidFilter reports a condition without a field, without values, or
// with an unknown Op.
var ErrInvalidFilter = errors.New("retrieval: invalid filter")

// Op is the comparison a Condition makes.
type Op int

const (
	// OpIn matches when the field's value equals one of the condition's Values.
	OpIn Op = iota
	// OpPrefix matches when the field's value starts with the condition's
	// first Value. Category paths are stored joined by CategorySeparator,
	// so a prefix selects a subtree of the category tree.
	OpPrefix
)

// CategorySeparator joins the levels of a category path in metadata, e.g.
// "Clothing > Shoes > Boots".
const CategorySeparator = " > "

// Condition is one test on one metadata field.
type Condition struct {
	// Field is the metadata key, e.g. "brand", "category" or an attribute name.
	Field string
	// Op is the comparison.
	Op Op
	// Values are the operands; OpPrefix uses the first only.
	Values []string
}

// Filter selects records whose metadata satisfies every condition. A nil or
// empty Filter selects everything.
type Filter []Condition

// In returns a condition that matches when field equals one of values.
func In(field string, values ...string) Condition {
	return Condition{Field: field, Op: OpIn, Values: values}
}

// Prefix returns a condition that matches when field starts with prefix.
func Prefix(field, prefix string) Condition {
	return Condition{Field: field, Op: OpPrefix, Values: []string{prefix}}
}

// Match reports whether metadata satisfies every condition of f.
func (f Filter) Match(metadata map[string]string) bool {
	for _, c := range f {
		v, ok := metadata[c.Field]
		if !ok || !c.match(v) {
			return false
		}
	}
	return true
}

// MatchField is Match for a record whose metadata is not a map: field
// returns the value of a key and whether the record has it. It asks only
// for the fields f names, so a caller need not build the whole metadata to
// test one condition.
func (f Filter) MatchField(field func(key string) (string, bool)) bool {
	for _, c := range f {
		v, ok := field(c.Field)
		if !ok || !c.match(v) {
			return false
		}
	}
	return true
}

func (c Condition) match(v string) bool {
	switch c.Op {
	case OpIn:
		for _, want := range c.Values {
			if v == want {
				return true
			}
		}
		return false
	case OpPrefix:
		return len(c.Values) > 0 && strings.HasPrefix(v, c.Values[0])
	default:
		return false
	}
}

// Validate returns an error wrapping ErrInvalidFilter for a condition without
// a field, without values, or with an unknown Op.
func (f Filter) Validate() error {
	for i, c := range f {
		switch {
		case c.Field == "":
			return fmt.Errorf("%w: condition %d has no field", ErrInvalidFilter, i)
		case len(c.Values) == 0:
			return fmt.Errorf("%w: condition %d on %q has no values", ErrInvalidFilter, i, c.Field)
		case c.Op != OpIn && c.Op != OpPrefix:
			return fmt.Errorf("%w: condition %d on %q has unknown op %d", ErrInvalidFilter, i, c.Field, c.Op)
		}
	}
	return nil
}
