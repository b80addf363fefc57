// Package tokenize splits text into lowercase word tokens, the unit every
// offline stage of hmpps (hashing embedder, extractive summarizer, BM25)
// agrees on.
package tokenize

import (
	"strings"
	"unicode"
)

// Words returns the lowercase words of s: maximal runs of letters and digits.
// Apostrophes inside a word are dropped ("women's" becomes "womens") so that
// possessives match their plain forms.
func Words(s string) []string {
	return AppendWords(nil, s)
}

// AppendWords appends the lowercase words of s to dst and returns it, so a
// caller in a loop can reuse one slice.
func AppendWords(dst []string, s string) []string {
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
			// inside a word: skip it
		default:
			flush()
		}
	}
	flush()
	return dst
}
