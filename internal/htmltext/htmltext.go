// Package htmltext turns product HTML into plain text for the stages that read
// words: the extractive summarizer, the lexical embedder and model prompts.
// Catalog descriptions arrive as HTML fragments, entity-escaped text or plain
// text; Plain accepts all three, so callers never have to guess which they
// hold.
package htmltext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Plain returns the visible text of s with one line per block.
//
// Tags are removed and entities unescaped. The content of script, style and
// the fallback elements (noscript, iframe, noembed, noframes) is dropped: it is
// code or markup, not product text. Block elements (p, br, li, div, h1-h6, tr
// and their kin) end a line, so that list items and paragraphs without closing
// punctuation do not run together into one sentence; table cells are
// separated by a space. Runs of whitespace collapse to a single space, or to a
// single line break when they contain one, and lines are trimmed. Control
// characters are dropped and invalid UTF-8 bytes become U+FFFD.
//
// Text without markup passes through with only its whitespace collapsed and
// its entities unescaped.
func Plain(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	if out, ok := plainBareTags(s); ok {
		return out
	}
	return plainTokenized(s)
}

// plainTokenized is Plain for any markup, through the HTML tokenizer.
func plainTokenized(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	// skipping is the name of the raw-text element whose content is being
	// dropped. The tokenizer returns that content as text up to the matching
	// end tag, so no nesting can occur inside it.
	skipping := ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			// io.EOF, or a read error that a strings.Reader cannot produce.
			return collapse(b.String())
		case html.TextToken:
			if skipping == "" {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			// The tokenizer treats <script/> like <script>: what follows is
			// raw text either way.
			if dropContent(name) {
				skipping = string(name)
				continue
			}
			writeSeparator(&b, name)
		case html.EndTagToken:
			name, _ := z.TagName()
			if skipping != "" {
				if string(name) == skipping {
					skipping = ""
				}
				continue
			}
			writeSeparator(&b, name)
		}
		// Comments and doctypes carry no product text.
	}
}

// plainBareTags is Plain for the markup product descriptions mostly hold:
// bare tags ("<b>", "</li>"), without attributes, entities, comments or
// raw-text elements, and without NUL or carriage return, which the
// tokenizer rewrites. It returns what the tokenizer path returns, several
// times faster, or false for any other text, which then goes through the
// tokenizer; a fuzz test holds the two together.
func plainBareTags(s string) (string, bool) {
	if strings.ContainsAny(s, "&\x00\r") {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s))
	var name [16]byte
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		k := i + j + 1
		if k < len(s) && s[k] == '/' {
			k++
		}
		start := k
		for k < len(s) && k-start < len(name) && isASCIIAlnum(s[k]) {
			name[k-start] = lowerASCII(s[k])
			k++
		}
		if k == start || !isASCIILetter(s[start]) || k >= len(s) || s[k] != '>' {
			return "", false
		}
		tag := name[:k-start]
		if rawText(tag) {
			return "", false
		}
		writeSeparator(&b, tag)
		i = k + 1
	}
	return collapse(b.String()), true
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isASCIIAlnum(c byte) bool { return isASCIILetter(c) || '0' <= c && c <= '9' }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// rawText reports whether the tokenizer reads what follows a start tag of
// this (lowercase) name as raw text, up to its end tag.
func rawText(name []byte) bool {
	switch string(name) {
	case "iframe", "noembed", "noframes", "noscript", "plaintext", "script", "style", "textarea", "title", "xmp":
		return true
	}
	return false
}

// dropContent reports whether the content of the element named name (a
// lowercase tag name from the tokenizer) is not visible product text.
func dropContent(name []byte) bool {
	switch string(name) {
	case "script", "style", "noscript", "iframe", "noembed", "noframes":
		return true
	}
	return false
}

// writeSeparator writes the whitespace an element implies at its start or end
// tag: a line break for block elements, a space for table cells, nothing for
// inline elements ("<b>Water</b>proof" is one word).
func writeSeparator(b *strings.Builder, name []byte) {
	switch {
	case isBlock(name):
		b.WriteByte('\n')
	case string(name) == "td" || string(name) == "th":
		b.WriteByte(' ')
	}
}

// isBlock reports whether the element named name starts a new line when
// rendered.
func isBlock(name []byte) bool {
	switch string(name) {
	case "p", "br", "li", "div", "tr", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "caption",
		"section", "article", "header", "footer", "aside", "nav", "main",
		"blockquote", "pre", "figure", "figcaption", "address", "details", "summary",
		"title", "option", "textarea":
		return true
	}
	return false
}

// collapse replaces each run of whitespace in s by one line break if the run
// holds one, otherwise by one space, drops control characters and trims the
// result. Runs of visible ASCII, most of a product's text, are copied
// whole, and text that is already collapsed is returned as it is.
func collapse(s string) string {
	var b strings.Builder
	// pending is the separator owed before the next visible rune: 0, ' ' or
	// '\n'. Owing nothing at the start and end trims the result.
	var pending byte
	// copied is how much of s the builder holds verbatim: b's content is
	// s[:copied] until the output first differs from s.
	copied, verbatim := 0, true
	leave := func() {
		if verbatim {
			b.Grow(len(s) + utf8.UTFMax)
			b.WriteString(s[:copied])
			verbatim = false
		}
	}
	write := func(i, j int) {
		if verbatim && copied == i {
			copied = j
			return
		}
		leave()
		b.WriteString(s[i:j])
	}
	written := func() bool { return verbatim && copied > 0 || !verbatim && b.Len() > 0 }
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n' || c == '\r' || c == '\v' || c == '\f':
				pending = '\n'
				i++
				continue
			case c == ' ' || c == '\t':
				if pending == 0 {
					pending = ' '
				}
				i++
				continue
			case c < 0x20 || c == 0x7f:
				i++
				continue
			}
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f {
				j++
			}
			if pending != 0 && written() {
				if verbatim && copied == i-1 && s[i-1] == pending {
					copied = i // the separator is s's own
				} else {
					leave()
					b.WriteByte(pending)
				}
			}
			pending = 0
			write(i, j)
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			if isLineBreak(r) {
				pending = '\n'
			} else if pending == 0 {
				pending = ' '
			}
			i += size
			continue
		case unicode.IsControl(r):
			// NUL and other control characters are debris from broken
			// encodings; nothing downstream should see them.
			i += size
			continue
		}
		if pending != 0 && written() {
			leave()
			b.WriteByte(pending)
		}
		pending = 0
		if r == utf8.RuneError && size == 1 {
			// An invalid byte becomes U+FFFD, so the output is valid UTF-8.
			leave()
			b.WriteRune(r)
		} else {
			write(i, i+size)
		}
		i += size
	}
	if verbatim {
		return s[:copied]
	}
	return b.String()
}

// isLineBreak reports whether r ends a line.
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}
