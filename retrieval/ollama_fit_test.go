package retrieval

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestCutWords(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
		cut  bool
	}{
		{"shorter", "a b", 3, "a b", false},
		{"exact", "a b c", 3, "a b c", false},
		{"trailing space kept when nothing follows", "a b c  ", 3, "a b c  ", false},
		{"cut", "a b c d", 3, "a b c", true},
		{"runs of space", "  a\t\tb \n c  d e", 3, "  a\t\tb \n c", true},
		{"punctuation stays with its word", "Title. Brand, cat: more", 2, "Title. Brand,", true},
		{"unicode", "café crème brûlée à la", 3, "café crème brûlée", true},
		{"no-break space separates", "a\u00a0b c", 1, "a", true},
		{"empty", "", 2, "", false},
		{"one long word", strings.Repeat("x", 50), 1, strings.Repeat("x", 50), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := cutWords(tt.s, tt.n)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.cut, cut)
		})
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want string
		ok   bool
	}{
		{"at a space", "one two three four", "one two", true},
		{"no space: within the word", "abcdefgh", "abcdef", true},
		{"on a rune boundary", "ééééé", "ééé", true}, // 10 bytes, cut at 7, a continuation byte: 6
		{"two runes", "ab", "a", true},
		{"a wide first rune", "\U0001F600a", "\U0001F600", true},
		{"one rune", "é", "é", false},
		{"empty", "", "", false},
		{"leading space only", " abcdefgh", " abcde", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := shorten(tt.s)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.ok, ok)
		})
	}
}

// FuzzFit checks what Embed relies on for any text: cutWords returns a
// prefix of at most n words, the whole text when it has no more, and
// shorten a non-empty prefix strictly shorter, valid UTF-8 when the text
// is, so that shortening always ends.
func FuzzFit(f *testing.F) {
	f.Add("Title. Brand. Category. A long description of the product", 3)
	f.Add("ééé ééé", 1)
	f.Add("\xff\xfe a", 1)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 1<<16 {
			return
		}
		got, cut := cutWords(s, n)
		if !strings.HasPrefix(s, got) {
			t.Fatalf("cutWords(%q, %d) = %q: not a prefix", s, n, got)
		}
		if words := len(strings.Fields(got)); words > n || (!cut && got != s) || (cut && words != n) {
			t.Fatalf("cutWords(%q, %d) = %q, %v", s, n, got, cut)
		}
		short, ok := shorten(s)
		if !ok {
			if utf8.RuneCountInString(s) > 1 {
				t.Fatalf("shorten(%q) gave up", s)
			}
			return
		}
		if !strings.HasPrefix(s, short) || len(short) >= len(s) || short == "" {
			t.Fatalf("shorten(%q) = %q", s, short)
		}
		if utf8.ValidString(s) && !utf8.ValidString(short) {
			t.Fatalf("shorten(%q) = %q: split a rune", s, short)
		}
	})
}
