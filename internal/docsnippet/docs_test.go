package docsnippet

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxREADMELines keeps the README a front door: what hmpps is, the two
// commands, the usage program and where to read on. Depth goes to docs/.
const maxREADMELines = 250

// documents returns the repository's root and its documents with Go
// snippets, relative to the root: README.md, then docs/*.md in order.
func documents(t *testing.T) (string, []string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "no docs/*.md")
	docs := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		docs = append(docs, filepath.ToSlash(rel))
	}
	return root, docs
}

// TestDocs compiles every Go snippet of the README and of every page of
// docs/, checks that each is gofmt'ed, and runs the programs, holding each
// to the output its document shows: a document edit that breaks a snippet
// fails here, with the document's own line in the compiler's message. The
// snippets are built inside this module through a build overlay, so
// nothing is written into the tree and no module is fetched.
func TestDocs(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the documents' snippets with")
	}
	root, docs := documents(t)

	type program struct {
		doc string
		pkg string // the program's folder, relative to root
		Snippet
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	var (
		programs []program
		pkgs     []string
	)
	for _, doc := range docs {
		text, err := os.ReadFile(filepath.Join(root, doc))
		require.NoError(t, err)
		snippets, err := Parse(text)
		require.NoError(t, err, doc)
		if doc == "README.md" {
			// scripts/consumer-check.sh builds the usage program from
			// outside the module.
			require.True(t, hasProgram(snippets, "usage"), "README.md needs the usage program")
		}
		// The packages exist only in the overlay, in a folder of this
		// package named after the document.
		dir := "internal/docsnippet/snippets/" + strings.ToLower(strings.TrimSuffix(filepath.Base(doc), ".md"))
		bodies := false
		for _, s := range snippets {
			ok, err := s.Formatted()
			require.NoError(t, err, doc)
			assert.True(t, ok, "%s: snippet %q (line %d) is not gofmt'ed (indent with tabs)", doc, s.Name, s.Line)

			pkg, path := "bodies", filepath.Join(root, dir, "bodies", s.Name+".go")
			if s.Kind == Program {
				pkg, path = "main", filepath.Join(root, dir, s.Name, "main.go")
				programs = append(programs, program{doc: doc, pkg: dir + "/" + s.Name, Snippet: s})
				pkgs = append(pkgs, "./"+dir+"/"+s.Name)
			} else {
				bodies = true
			}
			src, err := s.Source(pkg, doc)
			require.NoError(t, err)
			file := filepath.Join(tmp, "src", dir, s.Name+".go")
			require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
			require.NoError(t, os.WriteFile(file, src, 0o644))
			overlay[path] = file
		}
		if bodies {
			pkgs = append(pkgs, "./"+dir+"/bodies")
		}
	}
	require.NotEmpty(t, pkgs, "no Go snippets in the documents")
	overlayFile := filepath.Join(tmp, "overlay.json")
	js, err := json.Marshal(map[string]any{"Replace": overlay})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(overlayFile, js, 0o644))

	gocmd := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), goTool, args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %v:\n%s", args, out)
	}
	// go vet cannot run on packages that exist only in an overlay (it
	// changes into their folder), so the snippets are compiled, not vetted.
	gocmd(append([]string{"build", "-overlay", overlayFile}, pkgs...)...)
	for _, p := range programs {
		t.Run(p.doc+"/"+p.Name, func(t *testing.T) {
			bin := filepath.Join(tmp, "bin", p.pkg)
			gocmd("build", "-overlay", overlayFile, "-o", bin, "./"+p.pkg)
			work := filepath.Join(tmp, "run", p.pkg)
			require.NoError(t, os.MkdirAll(work, 0o755))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Dir = work
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s: snippet %q (line %d) failed:\n%s", p.doc, p.Name, p.Line, out)
			assert.NotEmpty(t, out, "a program in the documents shows what it did")
			if p.HasOutput {
				assert.Equal(t, p.Output, string(out), "%s: snippet %q prints something else than the document shows", p.doc, p.Name)
			}
		})
	}
}

// TestREADMELength fails when the README grows past maxREADMELines: what
// does not fit belongs in a page of docs/.
func TestREADMELength(t *testing.T) {
	root, _ := documents(t)
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	lines := strings.Count(string(text), "\n")
	if !strings.HasSuffix(string(text), "\n") {
		lines++
	}
	assert.LessOrEqual(t, lines, maxREADMELines,
		"README.md has %d lines; keep it to %d and move the depth to a page of docs/", lines, maxREADMELines)
}

// hasProgram reports whether snippets hold a program named name.
func hasProgram(snippets []Snippet, name string) bool {
	for _, s := range snippets {
		if s.Name == name && s.Kind == Program {
			return true
		}
	}
	return false
}
