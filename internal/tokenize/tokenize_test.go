package tokenize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"punctuation only", " -- !! ", nil},
		{"simple", "Waterproof Hiking Boots", []string{"waterproof", "hiking", "boots"}},
		{"digits and hyphens", "Size-10 GORE-TEX", []string{"size", "10", "gore", "tex"}},
		{"possessive", "Women's boots", []string{"womens", "boots"}},
		{"trailing apostrophe", "boots' soles", []string{"boots", "soles"}},
		{"unicode", "Crème brûlée für Café", []string{"crème", "brûlée", "für", "café"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Words(tt.in))
		})
	}
}

func FuzzWords(f *testing.F) {
	f.Add("Women's GORE-TEX boots, size 10")
	f.Add("\xff\xfe'")
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Words(s) {
			if w == "" {
				t.Fatalf("empty token from %q", s)
			}
		}
	})
}
