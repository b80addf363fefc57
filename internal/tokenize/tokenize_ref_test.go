package tokenize

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceWords is the first, plainest implementation of AppendWords, kept
// as the definition the faster one must match word for word.
func referenceWords(s string) []string {
	var dst []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			dst = append(dst, b.String())
			b.Reset()
		}
	}
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && b.Len() > 0 && i+1 < len(runes) && unicode.IsLetter(runes[i+1]):
		default:
			flush()
		}
	}
	flush()
	return dst
}

// wordCases reach every branch: verbatim words, words that leave the fast
// path at their start, middle or end, apostrophes before letters, digits,
// other words and the end, and invalid UTF-8.
var wordCases = []string{
	"", "a", "A", "ab", "aB", "Ab", "abc def", "abc's", "ABC's", "abc'", "abc'1", "abc''d", "'abc", "abc’s", "abc’",
	"Women's GORE-TEX boots, size 10", "crème brûlée", "Crème Brûlée", "éa", "aé", "x\xffy", "\xff\xfe'", "a'\xff",
	"İstanbul", "ǅemal", "ΣΑΣ", "42kg", "١٢٣", "tab\tsep\nline", "a'b'c", "don't can't won't", "1'a", "é'a",
}

func TestAppendWordsMatchesReference(t *testing.T) {
	for _, s := range wordCases {
		assert.Equal(t, referenceWords(s), Words(s), "%q", s)
	}
	prefix := []string{"kept"}
	assert.Equal(t, []string{"kept", "a", "b"}, AppendWords(prefix, "A b"), "appends to dst")
}

func FuzzAppendWordsMatchesReference(f *testing.F) {
	for _, s := range wordCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, referenceWords(s), Words(s), "%q", s)
	})
}

func TestAppendWordsAllocations(t *testing.T) {
	text := "waterproof leather boots with a goodyear welt and a vibram sole, size 10"
	dst := make([]string, 0, 32)
	allocs := testing.AllocsPerRun(100, func() { dst = AppendWords(dst[:0], text) })
	assert.Zero(t, allocs, "lowercase ASCII words are substrings")
}

func BenchmarkWords(b *testing.B) {
	text := strings.Repeat("Full-grain brown leather boots. <b>Waterproof</b> waxed leather upper with a Goodyear welt. ", 8)
	b.Run("impl=current", func(b *testing.B) {
		b.ReportAllocs()
		var dst []string
		for b.Loop() {
			dst = AppendWords(dst[:0], text)
		}
	})
	b.Run("impl=reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			referenceWords(text)
		}
	})
}
