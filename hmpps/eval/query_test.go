package eval

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCategoryQuery(t *testing.T) {
	tests := []struct {
		name string
		path []string
		stop map[string]bool
		want string
	}{
		{"the data README's example",
			[]string{"Magazine Subscriptions", "Cooking, Food & Wine", "Recipes & Techniques"}, nil,
			"magazine subscriptions cooking food wine recipes techniques"},
		{"one level is no query", []string{"Magazine Subscriptions"}, nil, ""},
		{"no path", nil, nil, ""},
		{"repeated words keep their first place",
			[]string{"Sports, Recreation & Outdoors", "Sports & Leisure", "Outdoors"}, nil,
			"sports recreation outdoors leisure"},
		{"stopwords dropped", []string{"Home and Garden", "Tools for the Home"}, nil, "home garden tools"},
		{"own stopwords", []string{"Home and Garden", "Tools"}, map[string]bool{"garden": true}, "home and tools"},
		{"empty stopwords keep all", []string{"A", "The B"}, map[string]bool{}, "a the b"},
		{"case and punctuation", []string{"Women's", "T-Shirts & Tops"}, nil, "womens t shirts tops"},
		{"levels without words", []string{"&", "!"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, CategoryQuery(tt.path, tt.stop))
		})
	}
}

func TestCategoryQueriesOfTheData(t *testing.T) {
	d := loadMagazine(t)
	withQuery := 0
	for _, p := range d.Products {
		q := CategoryQuery(p.Category, nil)
		if q == "" {
			continue
		}
		withQuery++
		assert.NotContains(t, strings.Fields(q), "amp", "entities were unescaped before: %s", p.ID)
		assert.Regexp(t, `^magazine subscriptions [a-z0-9 ]+$`, q, p.ID)
	}
	assert.Equal(t, d.Stats.WithCategoryPath, withQuery)
}
