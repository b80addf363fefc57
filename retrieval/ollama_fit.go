package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cutWords returns s up to the end of its n-th word, words being runs of
// non-space characters, and whether anything was cut. Every tokenizer gives
// a word one token or more, so a model with a context of n tokens reads
// nothing past the n-th word.
func cutWords(s string, n int) (string, bool) {
	words, end, inWord := 0, 0, false
	for i, r := range s {
		if unicode.IsSpace(r) {
			if inWord {
				inWord, end = false, i
			}
			continue
		}
		if !inWord {
			if words == n {
				return s[:end], true
			}
			inWord = true
			words++
		}
	}
	return s, false
}

// shorten returns s without its last quarter, cut at the last space before
// that point when there is one and within a word otherwise (a long text
// without spaces), and false when s is one character or less.
func shorten(s string) (string, bool) {
	if utf8.RuneCountInString(s) <= 1 {
		return s, false
	}
	cut := len(s) * 3 / 4
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut == 0 {
		// A first rune longer than three quarters of s: keep only it.
		_, cut = utf8.DecodeRuneInString(s)
	}
	head := s[:cut]
	if i := strings.LastIndexFunc(head, unicode.IsSpace); i > 0 {
		if t := strings.TrimRightFunc(head[:i], unicode.IsSpace); t != "" {
			head = t
		}
	}
	return head, true
}
