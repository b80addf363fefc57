package retrieval

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestWordPieceText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII untouched", "Real Simple. Magazine, 12 issues!", "Real Simple. Magazine, 12 issues!"},
		{"curly quotes", "features include “615 Fashion Ideas,” and you’ll", `features include "615 Fashion Ideas," and you'll`},
		{"dashes and ellipsis", "one – and only one — stock…", "one - and only one - stock..."},
		{"accents stripped", "Condé Nast crème brûlée ÉTÉ", "Conde Nast creme brulee ETE"},
		{"precomposed and combining alike", "e\u0301 é", "e e"},
		{"other punctuation becomes a space", "• item ¡hola! «quoted»", `  item  hola! "quoted"`},
		{"symbols split off", "$5 off, A+B<C", " $ 5 off, A + B < C"},
		{"control and format characters dropped", "zero\u200bwidth\u0007bell\ttab\nline", "zerowidthbell\ttab\nline"},
		{"CJK and symbols kept", "東京 ™ ® 😀", "東京 ™ ® 😀"},
		{"non-breaking space kept", "a\u00a0b", "a\u00a0b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, wordPieceText(tt.in))
		})
	}
}

// FuzzWordPieceText checks what the server's WordPiece needs of any text:
// no accents, no punctuation outside ASCII, no control or format
// characters but tab and line breaks, valid UTF-8 when the input is.
func FuzzWordPieceText(f *testing.F) {
	f.Add("Condé Nast’s “Traveler” — $5…")
	f.Add("\xff\xfe\u200b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		out := wordPieceText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("wordPieceText(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			switch {
			case unicode.Is(unicode.Mn, r),
				r >= utf8.RuneSelf && unicode.IsPunct(r),
				unicode.IsControl(r) && !strings.ContainsRune("\t\n\r", r),
				unicode.Is(unicode.Cf, r):
				t.Fatalf("wordPieceText(%q) = %q: holds %U", s, out, r)
			}
		}
		if !needsFolding(s) && out != s {
			t.Fatalf("wordPieceText(%q) = %q changed a text that needs nothing", s, out)
		}
	})
}
