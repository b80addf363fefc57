package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitSentences cuts plain text into trimmed sentences. A sentence ends at a
// line break, at a bullet-like separator, or at '.', '!', '?' or '…' followed
// by whitespace or the end of the text. A period does not end a sentence
// inside a number ("3.5") or after a known abbreviation ("e.g.", "approx.",
// "No. 5"). Leading list markers ("- ", "* ") are removed. Sentences may be
// empty of words; the caller drops them.
func splitSentences(text string) []string { return appendSentences(nil, text) }

// appendSentences appends the sentences of text (see splitSentences) to out.
func appendSentences(out []string, text string) []string {
	start := 0
	emit := func(end int) {
		if s := trimSentence(text[start:end]); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n' || isBullet(r):
			emit(i)
			start = i + size
		case isTerminator(r):
			// Take the whole run of terminators and closing marks, so that
			// `Wow!!` and `(see above.)` end where they should.
			end := i + size
			for end < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[end:])
				if !isTerminator(r2) && !isCloser(r2) {
					break
				}
				end += s2
			}
			ends := true
			if end < len(text) {
				next, _ := utf8.DecodeRuneInString(text[end:])
				ends = unicode.IsSpace(next)
			}
			if ends && r == '.' && end == i+1 && isAbbreviation(text[:i], text[end:]) {
				ends = false
			}
			if ends {
				emit(end)
				start = end
			}
			i = end
			continue
		}
		i += size
	}
	emit(len(text))
	return out
}

func isTerminator(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '”', '’', '»':
		return true
	}
	return false
}

// isBullet reports whether r separates list items when a description is
// flattened to one line ("Waterproof • Breathable | Light").
func isBullet(r rune) bool {
	switch r {
	case '•', '◦', '▪', '▫', '■', '□', '●', '○', '‣', '⁃', '∙', '·',
		'➢', '►', '▶', '✓', '✔', '★', '☆', '|':
		return true
	}
	return false
}

// trimSentence trims whitespace and leading list markers from s.
func trimSentence(s string) string {
	for {
		s = strings.TrimSpace(s)
		r, size := utf8.DecodeRuneInString(s)
		if !strings.ContainsRune("-*–—+>", r) || size == len(s) {
			return s
		}
		// A marker is followed by a space; "-5°C" is a number.
		if next, _ := utf8.DecodeRuneInString(s[size:]); !unicode.IsSpace(next) {
			return s
		}
		s = s[size:]
	}
}

// Abbreviations after which a period never ends a sentence.
var abbreviations = map[string]bool{
	"approx": true, "appr": true, "ca": true, "cf": true, "dept": true, "dr": true,
	"esp": true, "est": true, "excl": true, "fig": true, "incl": true, "mr": true,
	"mrs": true, "ms": true, "mt": true, "prof": true, "st": true, "vs": true,
}

// Abbreviations that end a sentence only when the next word is capitalized:
// "12 oz. bottle" goes on, "weighs 12 oz. Ships free" does not.
var maybeAbbreviations = map[string]bool{
	"co": true, "corp": true, "etc": true, "ft": true, "inc": true, "lb": true,
	"lbs": true, "ltd": true, "max": true, "min": true, "oz": true, "pcs": true,
	"qty": true, "sq": true, "yds": true,
}

// Abbreviations that precede a number: "No. 5", "Vol. 2".
var numberAbbreviations = map[string]bool{
	"art": true, "no": true, "nos": true, "nr": true, "p": true, "pp": true, "vol": true,
}

// isAbbreviation reports whether the period between before and after belongs
// to an abbreviation rather than ending a sentence.
func isAbbreviation(before, after string) bool {
	// The word before the period, with its inner periods ("e.g", "U.S").
	i := len(before)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(before[:i])
		if !unicode.IsLetter(r) && r != '.' {
			break
		}
		i -= size
	}
	word := strings.ToLower(strings.TrimLeft(before[i:], "."))
	if word == "" {
		return false
	}
	if strings.Contains(word, ".") {
		// Initialisms: every part one or two letters ("e.g", "i.e", "u.s").
		for part := range strings.SplitSeq(word, ".") {
			if n := utf8.RuneCountInString(part); n == 0 || n > 2 {
				return false
			}
		}
		return true
	}
	next, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(after, unicode.IsSpace))
	switch {
	case abbreviations[word]:
		return true
	case maybeAbbreviations[word]:
		return !unicode.IsUpper(next)
	case numberAbbreviations[word]:
		return unicode.IsDigit(next)
	}
	return false
}
