package mdlink

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinks(t *testing.T) {
	doc := "# Title\n\nSee [the docs](docs/a.md#setup), ![a chart](img/c.png \"Chart\") and [Go](https://go.dev).\n" +
		"`[not](a-link)` but ``x`` [this](#title).\n" +
		"```sh\n[inside](a/fence.md)\n```\n" +
		"[ref]: docs/b.md\n" +
		"~~~\n```\n[still inside](c.md)\n~~~\n[after](<d.md>)\n"
	got, err := Links([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, []Link{
		{Line: 3, Target: "docs/a.md#setup"},
		{Line: 3, Target: "img/c.png"},
		{Line: 3, Target: "https://go.dev"},
		{Line: 4, Target: "#title"},
		{Line: 8, Target: "docs/b.md"},
		{Line: 13, Target: "d.md"},
	}, got)

	assert.Equal(t, "docs/a.md", got[0].Path())
	assert.Equal(t, "setup", got[0].Fragment())
	assert.Equal(t, "", got[3].Path())
	assert.Equal(t, "title", got[3].Fragment())
	assert.True(t, got[2].External())
	assert.False(t, got[0].External())
	assert.True(t, Link{Target: "mailto:shop@example.com"}.External())
}

func TestSlug(t *testing.T) {
	tests := []struct{ heading, want string }{
		{"Usage", "usage"},
		{"hmpps — multimodal personalized product search for Go", "hmpps--multimodal-personalized-product-search-for-go"},
		{"A real Ollama and a real model in `make test`", "a-real-ollama-and-a-real-model-in-make-test"},
		{"Milvus: the scale-out index", "milvus-the-scale-out-index"},
		{"Dependencies, and why each is there", "dependencies-and-why-each-is-there"},
		{"[Linked](other.md) heading", "linked-heading"},
		{"p50 at 10,000 products (BenchmarkSearch)", "p50-at-10000-products-benchmarksearch"},
		{"snake_case stays", "snake_case-stays"},
		{"Über Größe", "über-größe"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Slug(tt.heading), tt.heading)
	}
}

func TestAnchors(t *testing.T) {
	doc := "# Title\n\n## Setup\n\n```\n# not a heading\n```\n## Setup\n### Setup ###\n#hashtag\n    # indented code\n## \n"
	got, err := Anchors([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"title": true, "setup": true, "setup-1": true, "setup-2": true, "": true}, got)
}

// FuzzLinks: any document gives links and anchors or an error, never a
// panic, and every link is on a line of the document.
func FuzzLinks(f *testing.F) {
	f.Add("# T\n[a](b.md#c) `[x](y)`\n")
	f.Add("```\n[a](b)\n")
	f.Add("``` `[a](b)` [c](d \"e\")\n[r]: <s>\n## [x](y)\n")
	f.Fuzz(func(t *testing.T, doc string) {
		links, err := Links([]byte(doc))
		if err != nil {
			return
		}
		lines := 1
		for _, c := range doc {
			if c == '\n' {
				lines++
			}
		}
		for _, l := range links {
			if l.Line < 1 || l.Line > lines {
				t.Fatalf("link %q on line %d of %d", l.Target, l.Line, lines)
			}
		}
		if _, err := Anchors([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	})
}
