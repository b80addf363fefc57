package htmltext

import (
	"html"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestPlain(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"whitespace only", " \t\n ", ""},
		{"plain text unchanged", "Waterproof hiking boots, size 10.", "Waterproof hiking boots, size 10."},
		{"plain text whitespace collapsed", "  Waterproof \t hiking\n\n\n boots  ", "Waterproof hiking\nboots"},
		{"crlf", "one\r\ntwo\rthree", "one\ntwo\nthree"},
		{"entities", "Tom &amp; Jerry&#39;s &quot;best&quot; &lt;3 &eacute;t&#xE9;", `Tom & Jerry's "best" <3 été`},
		{"bare ampersand", "Salt & Pepper", "Salt & Pepper"},
		{"double escaped unescaped once", "&amp;amp;", "&amp;"},
		{"nbsp collapses", "10&nbsp;&nbsp;mm", "10 mm"},
		{"inline tags join", "<b>Water</b>proof <i>boots</i>", "Waterproof boots"},
		{"paragraphs", "<p>First para</p><p>Second para</p>", "First para\nSecond para"},
		{"br", "Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"},
		{"list items", "<ul><li>Waterproof</li><li>Breathable</li></ul>", "Waterproof\nBreathable"},
		{"headings and divs", "<h2>Features</h2><div>Light</div><div>Warm</div>", "Features\nLight\nWarm"},
		{"table", "<table><tr><td>Weight</td><td>1.2 kg</td></tr><tr><th>Size</th><td>M</td></tr></table>", "Weight 1.2 kg\nSize M"},
		{"script dropped", "Before<script>var x = '<p>no</p>';</script>After", "BeforeAfter"},
		{"style dropped", "<style>p { color: red }</style><p>Shown</p>", "Shown"},
		{"self-closing script still raw", "A<script/>alert(1)</script>B", "AB"},
		{"uppercase tags", "<P>One</P><SCRIPT>x</SCRIPT><LI>Two", "One\nTwo"},
		{"comments and doctype", "<!DOCTYPE html><!-- hidden -->Text<?xml x?>", "Text"},
		{"attributes", `<a href="/x" title="a > b">Link</a> text`, "Link text"},
		{"less-than in text", "size < 10 and 3<5", "size < 10 and 3<5"},
		{"unterminated tag dropped", "Text <b", "Text"},
		{"noscript dropped", "<noscript><img src=x></noscript>Shown", "Shown"},
		{"title kept", "<title>Boots &amp; more</title>Body", "Boots & more\nBody"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"control characters dropped", "a\x00b\x1bc", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Plain(tt.in))
		})
	}
}

// fuzzTags are the elements FuzzPlain wraps text in; hidden ones drop their
// content.
var fuzzTags = []struct {
	open, close string
	hidden      bool
}{
	{"<p>", "</p>", false},
	{"<br>", "", false},
	{"<li>", "</li>", false},
	{"<div class=\"x\">", "</div>", false},
	{"<h3>", "</h3>", false},
	{"<table><tr><td>", "</td></tr></table>", false},
	{"<b>", "</b>", false},
	{"<a href='/p?a=1&b=2'>", "</a>", false},
	{"<span/>", "", false},
	{"<!-- c -->", "", false},
	{"<script>", "</script>", true},
	{"<style>", "</style>", true},
	{"<title>", "</title>", false},
}

func FuzzPlain(f *testing.F) {
	f.Add("<p>Waterproof &amp; light</p><script>x</script>", []byte{0, 10})
	f.Add("a<b>c</b>&lt;d&gt;", []byte{6, 12, 1})
	f.Add("\xff\r\n\u00a0</", []byte{3})
	f.Fuzz(func(t *testing.T, s string, shape []byte) {
		// Any input: no panic, valid UTF-8, whitespace collapsed and trimmed.
		checkShape(t, Plain(s))

		// Text escaped and wrapped in valid tags: the visible text comes back
		// exactly, so no tag survives and no text is lost.
		// The tokenizer turns NUL into U+FFFD inside raw text, as the HTML
		// spec says, so NUL has no single expected output.
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(shape) == 0 {
			return
		}
		pieces := splitInto(s, len(shape))
		var in, want strings.Builder
		for i, p := range pieces {
			tag := fuzzTags[int(shape[i])%len(fuzzTags)]
			in.WriteString(tag.open + html.EscapeString(p) + tag.close)
			if !tag.hidden {
				want.WriteString(p)
			}
		}
		got := Plain(in.String())
		checkShape(t, got)
		if dropSpace(got) != dropSpace(want.String()) {
			t.Fatalf("Plain(%q) = %q, want the text of %q", in.String(), got, want.String())
		}
	})
}

func checkShape(t *testing.T, got string) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Fatalf("invalid UTF-8 in %q", got)
	}
	if strings.TrimSpace(got) != got || strings.Contains(got, "  ") || strings.Contains(got, "\n\n") ||
		strings.Contains(got, " \n") || strings.Contains(got, "\n ") {
		t.Fatalf("whitespace not collapsed in %q", got)
	}
}

// splitInto cuts s into n pieces of about equal length on rune boundaries.
func splitInto(s string, n int) []string {
	runes := []rune(s)
	pieces := make([]string, n)
	for i := range n {
		pieces[i] = string(runes[i*len(runes)/n : (i+1)*len(runes)/n])
	}
	return pieces
}

// dropSpace removes what Plain may add or drop: whitespace and control
// characters.
func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func BenchmarkPlain(b *testing.B) {
	doc := strings.Repeat("<p>Waterproof <b>leather</b> upper &amp; breathable lining.</p><ul><li>Weight: 1.2&nbsp;kg</li><li>Sizes 6&ndash;12</li></ul>", 20)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		Plain(doc)
	}
}

// FuzzPlainBareTags holds Plain's fast path for bare tags to the tokenizer:
// wherever it answers, it answers what the tokenizer path does.
func FuzzPlainBareTags(f *testing.F) {
	for _, s := range []string{
		"Seams are taped, for <b>all-day</b> comfort.", "<p>One</p><p>Two</p>", "<UL><LI>a<LI>b</UL>",
		"a<br>b", "x<td>1</td><th>2</th>y", "a < b", "a<b", "<1>", "<b >x", "<br/>", "</ b>", "<script>x</script>",
		"<Title>t</Title>", "<textarea><b></textarea>", "a\r\nb<b>c", "<p>\u00a0\u2028x</p>", "<abcdefghijklmnopq>x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := plainBareTags(s)
		if !ok {
			return
		}
		if want := plainTokenized(s); got != want {
			t.Fatalf("plainBareTags(%q) = %q, the tokenizer gives %q", s, got, want)
		}
	})
}

func TestPlainBareTags(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Seams are taped, for <b>all-day</b> comfort.", "Seams are taped, for all-day comfort.", true},
		{"<p>One</p><P>Two</P>", "One\nTwo", true},
		{"a<td>1</td>b", "a 1 b", true},
		{"a &amp; b", "", false},
		{"<b class=x>y</b>", "", false},
		{"<br/>", "", false},
		{"a < b", "", false},
		{"<script>x</script>", "", false},
		{"a\r\n<b>b</b>", "", false},
	}
	for _, tt := range tests {
		got, ok := plainBareTags(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		if ok {
			assert.Equal(t, tt.want, got, tt.in)
			assert.Equal(t, plainTokenized(tt.in), got, tt.in)
		}
	}
}

// collapseRunes is collapse as it was first written, rune by rune: the
// reference the fast one is held to.
func collapseRunes(s string) string {
	var b strings.Builder
	var pending rune
	for _, r := range s {
		if unicode.IsSpace(r) {
			if isLineBreak(r) {
				pending = '\n'
			} else if pending == 0 {
				pending = ' '
			}
			continue
		}
		if unicode.IsControl(r) {
			continue
		}
		if pending != 0 && b.Len() > 0 {
			b.WriteRune(pending)
		}
		pending = 0
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzCollapse(f *testing.F) {
	for _, s := range []string{"", " a  b ", "a\nb", "a \n b", "x\ty\r\nz", "\x00a\x7fb", "a\xffb", "é  ü\u00a0x\u2028y", "  \n  ", "a b", "a\n b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collapse(s), collapseRunes(s); got != want {
			t.Fatalf("collapse(%q) = %q, want %q", s, got, want)
		}
	})
}
