package promptsize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"   ", 0},
		{"boots", 1},
		{"waterproof", 2}, // 10 letters: 1 + 1
		{"Full-grain brown leather, oiled by hand", 9}, // Full - grain brown leather , oiled by hand
		{"1.1 kg", 4}, // 1 . 1 kg
		{"2024", 2},
		{"a\n\nb", 3},
		{"Café crème", 2},
		{"characteristically", 4}, // 18 letters: 1 + 3
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Tokens(tt.in), "%q", tt.in)
	}
}

func FuzzTokens(f *testing.F) {
	f.Add("Waterproof leather boots, 1.1 kg.\n\nYes")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		n := Tokens(s)
		if n < 0 || n > len(s) {
			t.Fatalf("Tokens(%q) = %d", s, n)
		}
	})
}
