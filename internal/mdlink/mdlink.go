// Package mdlink finds the links and the heading anchors of a Markdown
// document, so that a test can check that every relative link of a
// repository's documents, and every #anchor in it, leads somewhere.
//
// It reads the subset of CommonMark the repository writes: inline links and
// images ([text](target), ![alt](target)), link reference definitions
// ([label]: target) and ATX headings (# Title), outside fenced code blocks
// and code spans. Anchors are the ones GitHub gives headings.
package mdlink

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Link is one link of a document.
type Link struct {
	// Line is the document line (from 1) the link is on.
	Line int
	// Target is the link's destination as written, e.g. "docs/milvus.md",
	// "#usage" or "https://ollama.com".
	Target string
}

// Path returns the file the target names, before any '#': empty for a link
// within the document.
func (l Link) Path() string {
	p, _, _ := strings.Cut(l.Target, "#")
	return p
}

// Fragment returns the anchor the target names after '#', or "" for none.
func (l Link) Fragment() string {
	_, f, _ := strings.Cut(l.Target, "#")
	return f
}

// External reports whether the target has a URL scheme (https:, mailto:,
// ...), so that it is not a path in the repository.
func (l Link) External() bool {
	return scheme.MatchString(l.Target)
}

var (
	scheme    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	reference = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s+(\S+)`)
	heading   = regexp.MustCompile(`^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$`)
	inline    = regexp.MustCompile(`\[[^\]]*\]\(([^)]*)\)`)
)

// Links returns the document's links in order.
func Links(doc []byte) ([]Link, error) {
	var out []Link
	err := eachLine(doc, func(n int, line string) {
		if m := reference.FindStringSubmatch(line); m != nil {
			out = append(out, Link{Line: n, Target: strings.Trim(m[1], "<>")})
			return
		}
		for _, m := range inline.FindAllStringSubmatch(stripCode(line), -1) {
			target := strings.TrimSpace(m[1])
			if t, _, ok := strings.Cut(target, " "); ok { // a title follows
				target = t
			}
			out = append(out, Link{Line: n, Target: strings.Trim(target, "<>")})
		}
	})
	return out, err
}

// Anchors returns the anchors of the document's headings, as GitHub makes
// them: the heading's text, lowercased, without punctuation, spaces
// turned into '-', and "-1", "-2", ... after a repeated one.
func Anchors(doc []byte) (map[string]bool, error) {
	anchors := map[string]bool{}
	seen := map[string]int{}
	err := eachLine(doc, func(_ int, line string) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			return
		}
		a := Slug(m[2])
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		anchors[a] = true
	})
	return anchors, err
}

// Slug returns the anchor GitHub gives a heading of this text: the text as
// it renders (code spans, emphasis and link targets dropped), lowercased,
// keeping letters, digits, '-', '_' and spaces, each space then a '-'.
func Slug(text string) string {
	text = inline.ReplaceAllStringFunc(text, func(s string) string {
		return s[1:strings.Index(s, "](")]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// eachLine calls f with every line of doc (numbered from 1) that is outside
// a fenced code block and is not a fence itself.
func eachLine(doc []byte, f func(n int, line string)) error {
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(nil, 1<<20)
	fence := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case fence != "":
			// Only a fence of the same character, at least as long and
			// without an info string, closes the block.
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, trimmed[:1]))]
		default:
			f(n, line)
		}
	}
	return sc.Err()
}

// stripCode blanks out the code spans of a line, whose brackets are text.
func stripCode(line string) string {
	b := []byte(line)
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(b) && b[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(b); {
			if b[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(b) && b[j+m] == '`' {
				m++
			}
			if m == n {
				end = j
				break
			}
			j += m
		}
		if end < 0 { // an unmatched run is text
			i += n
			continue
		}
		for k := i; k < end+n; k++ {
			b[k] = ' '
		}
		i = end + n
	}
	return string(b)
}
