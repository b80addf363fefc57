package docsnippet

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	doc := "# Title\n\n<!-- snippet usage program -->\n```go\npackage main\n\nfunc main() {}\n```\n\n" +
		"```sh\n```go\n```\n\n<!--snippet open-it body-->\n\n```go\nx := 1\n_ = x\n```\n" +
		"<!-- output usage -->\n```text\nhello\n\n```\n"
	got, err := Parse([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, []Snippet{
		{Name: "usage", Kind: Program, Line: 5, Code: "package main\n\nfunc main() {}\n", Output: "hello\n\n", HasOutput: true},
		{Name: "open-it", Kind: Body, Line: 17, Code: "x := 1\n_ = x\n"},
	}, got)
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unmarked go block", "text\n```go\nx := 1\n```\n", "line 2: go block without a <!-- snippet NAME KIND --> marker"},
		{"marker, then text", "<!-- snippet a body -->\nsome text\n```go\n```\n", `line 2: the marker of snippet "a" is not followed by its block`},
		{"marker, then another language", "<!-- snippet a body -->\n```sh\n```\n", `snippet "a" is followed by a "sh" block`},
		{"two markers", "<!-- snippet a body -->\n<!-- snippet b body -->\n```go\n```\n", `line 2: the marker of snippet "a" is not followed`},
		{"marker at the end", "<!-- snippet a body -->\n", `the marker of snippet "a" has no block`},
		{"unknown kind", "<!-- snippet a test -->\n```go\n```\n", `kind "test" is neither`},
		{"bad name", "<!-- snippet a.b body -->\n```go\n```\n", `snippet name "a.b"`},
		{"name twice", "<!-- snippet a body -->\n```go\n```\n<!-- snippet a body -->\n```go\n```\n", `snippet name "a" used twice`},
		{"unclosed", "<!-- snippet a body -->\n```go\nx := 1\n", `a block is not closed`},
		{"output of nothing", "<!-- output a -->\n```text\n```\n", `output of "a", which is no program before it`},
		{"output of a body", "<!-- snippet a body -->\n```go\n```\n<!-- output a -->\n```text\n```\n", `output of "a", which is no program`},
		{"output twice", "<!-- snippet a program -->\n```go\n```\n<!-- output a -->\n```\n```\n<!-- output a -->\n```\n```\n", `second output of "a"`},
		{"output marker, then text", "<!-- snippet a program -->\n```go\n```\n<!-- output a -->\nIt prints:\n```\n```\n", `the output marker of "a" is not followed by its block`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestSourceOfBody(t *testing.T) {
	s := Snippet{Name: "quantized-index", Kind: Body, Line: 40,
		Code: "ix, err := retrieval.NewEmbedded(8, retrieval.InnerProduct)\nif err != nil {\n\treturn fmt.Errorf(\"index: %w\", err)\n}\n_ = ix\n"}
	src, err := s.Source("snippets", "README.md")
	require.NoError(t, err)
	assert.Equal(t, `package snippets

import (
	"context"
	"fmt"
	"hmpps/retrieval"
)

func Snippet_quantized_index(ctx context.Context) error {
//line README.md:40
ix, err := retrieval.NewEmbedded(8, retrieval.InnerProduct)
if err != nil {
	return fmt.Errorf("index: %w", err)
}
_ = ix
	return nil
}
`, string(src))

	ok, err := s.Formatted()
	require.NoError(t, err)
	assert.True(t, ok)
	s.Code = strings.Replace(s.Code, "\treturn", "  return", 1)
	ok, err = s.Formatted()
	require.NoError(t, err)
	assert.False(t, ok, "two spaces instead of a tab")
}

func TestSourceOfProgram(t *testing.T) {
	s := Snippet{Name: "p", Kind: Program, Line: 3, Code: "package main\n\nfunc main() {}\n"}
	src, err := s.Source("main", "README.md")
	require.NoError(t, err)
	assert.Equal(t, "//line README.md:3\npackage main\n\nfunc main() {}\n", string(src))
	ok, err := s.Formatted()
	require.NoError(t, err)
	assert.True(t, ok)
}

// FuzzParse: any document parses or is refused, never panics, and every
// snippet's code and output are parts of the document.
func FuzzParse(f *testing.F) {
	f.Add("<!-- snippet a program -->\n```go\npackage main\n```\n")
	f.Add("<!-- snippet a body -->\n\n```go\nx\n```\n```sh\n```go\n```\n")
	f.Add("```go\n")
	f.Add("<!-- snippet a program -->\n```go\n```\n<!-- output a -->\n```\nout\n```\n")
	f.Fuzz(func(t *testing.T, doc string) {
		snippets, err := Parse([]byte(doc))
		if err != nil {
			return
		}
		for _, s := range snippets {
			if !strings.Contains(doc, s.Code) {
				t.Fatalf("snippet %q: code %q is not in the document", s.Name, s.Code)
			}
			if !strings.Contains(doc, s.Output) || (s.Output != "" && !s.HasOutput) {
				t.Fatalf("snippet %q: output %q (%v) is not in the document", s.Name, s.Output, s.HasOutput)
			}
			if s.Kind != Program && s.Kind != Body {
				t.Fatalf("snippet %q: kind %q", s.Name, s.Kind)
			}
		}
	})
}
