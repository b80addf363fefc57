package ollamacall

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// officialCopied are the parts of the official client that this package
// copies, each with the hash of its code (comments left out) at the
// version they were last compared with, Ollama v0.17.4: api.Client.stream,
// Chat, Generate and maxBufferSize in direct.go, envconfig.Host and Var in
// Host.
var officialCopied = []struct {
	file, name, hash string
}{
	{"api/client.go", "Client.stream", "04cd72528c9143cb"},
	{"api/client.go", "Client.Chat", "4b2756b28f782ee2"},
	{"api/client.go", "Client.Generate", "094bb43cb8e489bd"},
	{"api/client.go", "maxBufferSize", "4ecb798b23ebcb84"},
	{"envconfig/config.go", "Host", "b3d5be6490306735"},
	{"envconfig/config.go", "Var", "1556f1cffebe0bc8"},
}

// TestOfficialCodeUnchanged fails when an Ollama upgrade changes the
// official code that direct.go and Host copy, so that the copy is compared
// by hand only when there is something to compare. The behaviour is held
// by the tests that run both (TestDirect*MatchesOfficialClient,
// TestDirectRequestMatchesOfficialClient,
// TestDirectLineLimitMatchesOfficialClient, TestHostMatchesOllamaHost);
// this test catches what they do not exercise.
func TestOfficialCodeUnchanged(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/ollama/ollama").Output()
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if err != nil || dir == "" {
		t.Skipf("the source of github.com/ollama/ollama is not at hand (go list: %v)", err)
	}
	for _, c := range officialCopied {
		t.Run(c.name, func(t *testing.T) {
			got, err := declHash(filepath.Join(dir, filepath.FromSlash(c.file)), c.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.hash {
				t.Errorf("%s in %s changed in Ollama %s: compare it with its copy in this package, "+
					"then set its hash in officialCopied to %q", c.name, c.file, version, got)
			}
		})
	}
}

// declHash returns the hash of the declaration name ("Func", "Type.Method"
// or a constant) in the Go file at path, printed without comments.
func declHash(path, name string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	var node any
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if funcName(d) == name {
				node = d
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if v, ok := s.(*ast.ValueSpec); ok && len(v.Names) == 1 && v.Names[0].Name == name {
					node = v
				}
			}
		}
	}
	if node == nil {
		return "", &notFoundError{name, path}
	}
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, fset, node); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:8]), nil
}

// funcName returns "Func" or "Type.Method" for d.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	typ := d.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

type notFoundError struct{ name, path string }

func (e *notFoundError) Error() string {
	return e.name + " is no longer in " + e.path + ": compare the copy in this package with what replaced it"
}
