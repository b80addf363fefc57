package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The WordPiece tokenizer of Ollama (the "bert" tokenizer, which BERT-family
// embedding models such as all-MiniLM-L6-v2 and nomic-embed-text run on)
// departs from BERT's reference tokenizer in ways that turn ordinary
// product text into [UNK] tokens, so that the model reads less of it:
//
//   - it splits a punctuation mark off its word as one byte, so a mark
//     outside ASCII (“ ” ’ – — …, common in product copy) becomes an
//     [UNK], and so does the rest of its word: "you’ll" reads as
//     "you [UNK] [UNK]";
//   - it lowercases but does not strip accents, as the reference tokenizer
//     of an uncased model does, and the vocabulary holds no accented
//     letters: "Condé" reads as "[UNK]";
//   - it keeps control and format characters (a zero-width space) inside
//     their word, which the reference drops;
//   - it leaves the ASCII symbols $ + < = > ^ ` | ~ inside their word,
//     where the reference splits them off as punctuation.
//
// Each [UNK] also makes Ollama's own truncation overshoot (it turns into
// the text "[UNK]", three tokens), which is how the first real catalog
// failed to embed. wordPieceText gives the server the text the reference
// would have tokenized.

// asciiPunct is the ASCII twin of common punctuation outside ASCII.
var asciiPunct = map[rune]string{
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`, '«': `"`, '»': `"`,
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	'…': "...",
}

// wordPieceText rewrites s for Ollama's WordPiece tokenizer (see above):
// accents stripped (NFD, combining marks dropped), punctuation outside
// ASCII replaced by its ASCII twin or a space, control and format
// characters dropped, and spaces put around the ASCII symbols the
// reference splits off. Text that needs none of it is returned as is.
func wordPieceText(s string) string {
	if !needsFolding(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// An accent, apart after NFD.
		case r < utf8.RuneSelf && splitSymbol(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		case r < utf8.RuneSelf && (r == '\t' || r == '\n' || r == '\r' || !unicode.IsControl(r)):
			b.WriteRune(r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			// Dropped, as the reference drops them.
		case unicode.IsPunct(r) || asciiPunct[r] != "":
			if t, ok := asciiPunct[r]; ok {
				b.WriteString(t)
			} else {
				b.WriteByte(' ')
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsFolding reports whether wordPieceText would change s: it holds a
// byte outside ASCII, a control character other than tab and line breaks,
// or a symbol to split off.
func needsFolding(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || splitSymbol(rune(c)) || (c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			return true
		}
	}
	return false
}

// splitSymbol reports the ASCII symbols that BERT's reference tokenizer
// splits off as punctuation and Ollama's keeps inside their word.
func splitSymbol(r rune) bool {
	switch r {
	case '$', '+', '<', '=', '>', '^', '`', '|', '~':
		return true
	}
	return false
}
