package docsnippet

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADME compiles every Go snippet of the repository's README, checks
// that each is gofmt'ed, and runs its programs: a README edit that breaks a snippet fails
// here, with the README's own line in the compiler's message. The snippets
// are built inside this module through a build overlay, so nothing is
// written into the tree and no module is fetched.
func TestREADME(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the README's snippets with")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	doc, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	snippets, err := Parse(doc)
	require.NoError(t, err)

	// The consumer-module check (scripts/consumer-check.sh) builds the
	// usage program from outside the module.
	names := map[string]Kind{}
	for _, s := range snippets {
		names[s.Name] = s.Kind
	}
	require.Equal(t, Program, names["usage"], "README needs the usage program")

	tmp := t.TempDir()
	// The packages exist only in the overlay, in a folder of this package.
	const dir = "internal/docsnippet/readme"
	overlay := map[string]string{}
	var programs []Snippet
	pkgs := []string{"./" + dir + "/bodies"}
	for _, s := range snippets {
		ok, err := s.Formatted()
		require.NoError(t, err)
		assert.True(t, ok, "README snippet %q (line %d) is not gofmt'ed (indent with tabs)", s.Name, s.Line)

		pkg, path := "bodies", filepath.Join(root, dir, "bodies", s.Name+".go")
		if s.Kind == Program {
			pkg, path = "main", filepath.Join(root, dir, s.Name, "main.go")
			programs = append(programs, s)
			pkgs = append(pkgs, "./"+dir+"/"+s.Name)
		}
		src, err := s.Source(pkg, "README.md")
		require.NoError(t, err)
		file := filepath.Join(tmp, "src", s.Name+".go")
		require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
		require.NoError(t, os.WriteFile(file, src, 0o644))
		overlay[path] = file
	}
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
	for _, s := range programs {
		t.Run(s.Name, func(t *testing.T) {
			bin := filepath.Join(tmp, "bin", s.Name)
			gocmd("build", "-overlay", overlayFile, "-o", bin, "./"+dir+"/"+s.Name)
			work := filepath.Join(tmp, "run", s.Name)
			require.NoError(t, os.MkdirAll(work, 0o755))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Dir = work
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "README snippet %q (line %d) failed:\n%s", s.Name, s.Line, out)
			assert.NotEmpty(t, out, "a README program shows what it did")
			if s.HasOutput {
				assert.Equal(t, s.Output, string(out), "README snippet %q prints something else than the README shows", s.Name)
			}
		})
	}
}
