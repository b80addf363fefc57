package mdlink

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepositoryLinks checks every relative link of README.md and of the
// pages of docs/: the file or folder it names exists in the repository, and
// an #anchor names a heading of the page it points to (the same page when
// no file is given). Links with a scheme (https:, mailto:) are not
// followed.
func TestRepositoryLinks(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "no docs/*.md")
	docs := append([]string{filepath.Join(root, "README.md")}, pages...)

	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		a, err := Anchors(text)
		require.NoError(t, err)
		anchors[path] = a
		return a
	}

	checked := 0
	for _, doc := range docs {
		name, err := filepath.Rel(root, doc)
		require.NoError(t, err)
		text, err := os.ReadFile(doc)
		require.NoError(t, err)
		links, err := Links(text)
		require.NoError(t, err, name)
		for _, l := range links {
			if l.External() {
				continue
			}
			checked++
			target := doc
			if p := l.Path(); p != "" {
				if strings.HasPrefix(p, "/") {
					t.Errorf("%s:%d: %q: write links relative to the page, not the site root", name, l.Line, l.Target)
					continue
				}
				target = filepath.Join(filepath.Dir(doc), filepath.FromSlash(p))
				rel, err := filepath.Rel(root, target)
				if err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("%s:%d: %q leads out of the repository", name, l.Line, l.Target)
					continue
				}
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s:%d: %q: no such file or folder", name, l.Line, l.Target)
					continue
				}
			}
			f := l.Fragment()
			if f == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s:%d: %q: an anchor into a file that is not Markdown", name, l.Line, l.Target)
				continue
			}
			assert.True(t, anchorsOf(target)[f], "%s:%d: %q: no heading with the anchor #%s", name, l.Line, l.Target, f)
		}
	}
	assert.NotZero(t, checked, "no relative links found: is the parser still reading the documents?")
}
