// Package tokenize splits text into lowercase word tokens, the unit every
// offline stage of hmpps (hashing embedder, extractive summarizer, BM25)
// agrees on.
package tokenize

import (
	"unicode"
	"unicode/utf8"
)

// Words returns the lowercase words of s: maximal runs of letters and digits.
// Apostrophes inside a word are dropped ("women's" becomes "womens") so that
// possessives match their plain forms.
func Words(s string) []string {
	return AppendWords(nil, s)
}

// AppendWords appends the lowercase words of s to dst and returns it, so a
// caller in a loop can reuse one slice.
//
// A word that is already lowercase ASCII, as most words of product text
// are, is a substring of s and costs no allocation; any other word is built
// in a buffer shared by the call and costs one.
func AppendWords(dst []string, s string) []string {
	var buf []byte
	start := -1 // where the current word starts in s; -1 between words
	// verbatim says whether the current word so far is s[start:i]; once it
	// is not, the word is in buf.
	verbatim := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case isPlainASCII(r):
			if start < 0 {
				start, verbatim = i, true
			} else if !verbatim {
				buf = append(buf, byte(r))
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start, buf = i, buf[:0]
			} else if verbatim {
				buf = append(buf[:0], s[start:i]...)
			}
			verbatim = false
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		case (r == '\'' || r == '’') && start >= 0 && letterAt(s, i+size):
			// Inside a word: drop it.
			if verbatim {
				buf = append(buf[:0], s[start:i]...)
				verbatim = false
			}
		default:
			dst = appendWord(dst, s, start, i, verbatim, buf)
			start = -1
		}
		i += size
	}
	return appendWord(dst, s, start, len(s), verbatim, buf)
}

// appendWord appends the word that started at start and ended at end, if
// any: s[start:end] when it was taken verbatim, buf otherwise.
func appendWord(dst []string, s string, start, end int, verbatim bool, buf []byte) []string {
	switch {
	case start < 0:
		return dst
	case verbatim:
		return append(dst, s[start:end])
	default:
		return append(dst, string(buf))
	}
}

// isPlainASCII reports whether r is a word character that lowercasing
// leaves as it is: an ASCII lowercase letter or digit.
func isPlainASCII(r rune) bool {
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
}

// letterAt reports whether the rune starting at s[i] is a letter.
func letterAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}
