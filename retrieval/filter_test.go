package retrieval

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMatchFieldAgreesWithMatch checks that a filter asked field by field
// selects what it selects on the whole metadata map.
func TestMatchFieldAgreesWithMatch(t *testing.T) {
	records := []map[string]string{
		nil,
		{},
		{"brand": "Summit"},
		{"brand": "Summit", "category": "Shoes > Boots", "color": ""},
		{"category": "Shoes > Boots > Work", "color": "brown"},
	}
	filters := []Filter{
		nil,
		{In("brand", "Summit", "Heritage")},
		{Prefix("category", "Shoes > Boots")},
		{Prefix("category", "Shoes > Boots"), In("color", "brown")},
		{In("color", "")},
		{In("missing", "x")},
		{{Field: "brand", Op: Op(9), Values: []string{"Summit"}}},
	}
	for _, f := range filters {
		for _, md := range records {
			lookup := func(key string) (string, bool) {
				v, ok := md[key]
				return v, ok
			}
			assert.Equal(t, f.Match(md), f.MatchField(lookup), "%v on %v", f, md)
		}
	}
}
