// Package docsnippet finds the Go snippets of a Markdown document and turns
// each into a Go source file, so that a test can compile and run them and a
// document whose code no longer builds fails the tests.
//
// Every ```go block must follow a marker, an HTML comment that Markdown
// renders as nothing:
//
//	<!-- snippet NAME KIND -->
//
// NAME identifies the snippet (letters, digits, '-' and '_'), and KIND says
// how it is built: "program" for a whole main package, compiled and run;
// "body" for the statements of a function func(ctx context.Context) error,
// compiled. The files carry //line directives, so a compiler error names the
// document's own line. What a program prints can follow it in a block of
// any language after the marker
//
//	<!-- output NAME -->
//
// and a test then holds the program to it.
package docsnippet

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"go/scanner"
	"go/token"
	"regexp"
	"slices"
	"strings"
)

// Kind says how a snippet becomes a Go file.
type Kind string

const (
	// Program is a complete main package.
	Program Kind = "program"
	// Body is a list of statements that may use ctx and return an error.
	Body Kind = "body"
)

// Snippet is one marked ```go block.
type Snippet struct {
	// Name is the marker's name, unique in the document.
	Name string
	// Kind is the marker's kind.
	Kind Kind
	// Line is the document line (from 1) of the block's first line of code.
	Line int
	// Code is the block's text, ending with a newline.
	Code string
	// Output is what a Program prints, as the document shows it in the
	// block after an <!-- output NAME --> marker; HasOutput says whether it
	// does.
	Output    string
	HasOutput bool
}

var (
	marker       = regexp.MustCompile(`^<!--\s*snippet\s+(\S+)\s+(\S+)\s*-->$`)
	outputMarker = regexp.MustCompile(`^<!--\s*output\s+(\S+)\s*-->$`)
	validName    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Parse returns the document's Go snippets in order. It fails on a ```go
// block without a marker right before it (blank lines aside), a marker not
// followed by a ```go block, an unknown kind, a name used twice, an output
// marker that names no program before it, and an unclosed block, so that no
// Go snippet escapes the tests.
func Parse(doc []byte) ([]Snippet, error) {
	var (
		out []Snippet
		// pending is the last snippet marker, waiting for its block;
		// pendingOut the index in out of the program whose output marker
		// waits for its block.
		pending    *Snippet
		pendingOut = -1
		// Inside a block: the snippet being read, the program whose output
		// is being read, or another block (other).
		inGo  *Snippet
		inOut = -1
		other bool
		text  strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		fence := strings.HasPrefix(trimmed, "```")
		// As in CommonMark, only a fence without an info string closes a
		// block: "```go" inside a shell block is text.
		closing := fence && strings.Trim(trimmed, "`") == ""
		switch {
		case inGo != nil || inOut >= 0:
			switch {
			case !closing:
				text.WriteString(line + "\n")
			case inGo != nil:
				inGo.Code = text.String()
				out = append(out, *inGo)
				inGo = nil
			default:
				out[inOut].Output, out[inOut].HasOutput = text.String(), true
				inOut = -1
			}
		case other:
			other = !closing
		case fence:
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			text.Reset()
			switch {
			case pendingOut >= 0:
				inOut, pendingOut = pendingOut, -1
			case lang != "go" && pending != nil:
				return nil, fmt.Errorf("line %d: snippet %q is followed by a %q block, not go", n, pending.Name, lang)
			case lang != "go":
				other = true
			case pending == nil:
				return nil, fmt.Errorf("line %d: go block without a <!-- snippet NAME KIND --> marker before it", n)
			default:
				inGo, pending = pending, nil
				inGo.Line = n + 1
			}
		case trimmed == "":
		case pending != nil || pendingOut >= 0:
			return nil, fmt.Errorf("line %d: %s is not followed by its block", n, waiting(pending, out, pendingOut))
		default:
			if m := marker.FindStringSubmatch(trimmed); m != nil {
				s := Snippet{Name: m[1], Kind: Kind(m[2])}
				switch {
				case !validName.MatchString(s.Name):
					return nil, fmt.Errorf("line %d: snippet name %q: use letters, digits, - and _", n, s.Name)
				case s.Kind != Program && s.Kind != Body:
					return nil, fmt.Errorf("line %d: snippet %q: kind %q is neither %q nor %q", n, s.Name, s.Kind, Program, Body)
				case slices.ContainsFunc(out, func(o Snippet) bool { return o.Name == s.Name }):
					return nil, fmt.Errorf("line %d: snippet name %q used twice", n, s.Name)
				}
				pending = &s
			} else if m := outputMarker.FindStringSubmatch(trimmed); m != nil {
				i := slices.IndexFunc(out, func(o Snippet) bool { return o.Name == m[1] && o.Kind == Program })
				switch {
				case i < 0:
					return nil, fmt.Errorf("line %d: output of %q, which is no program before it", n, m[1])
				case out[i].HasOutput:
					return nil, fmt.Errorf("line %d: second output of %q", n, m[1])
				}
				pendingOut = i
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case inGo != nil || inOut >= 0 || other:
		return nil, fmt.Errorf("a block is not closed")
	case pending != nil || pendingOut >= 0:
		return nil, fmt.Errorf("%s has no block", waiting(pending, out, pendingOut))
	}
	return out, nil
}

// waiting names the marker that waits for its block.
func waiting(pending *Snippet, out []Snippet, pendingOut int) string {
	if pending != nil {
		return fmt.Sprintf("the marker of snippet %q", pending.Name)
	}
	return fmt.Sprintf("the output marker of %q", out[pendingOut].Name)
}

// Imports are the packages a Body snippet may use without importing them,
// by the name it refers to them with.
var Imports = map[string]string{
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"http":      "net/http",
	"log":       "log",
	"os":        "os",
	"slog":      "log/slog",
	"strings":   "strings",
	"time":      "time",
	"hmpps":     "hmpps/hmpps",
	"retrieval": "hmpps/retrieval",
	"rerank":    "hmpps/rerank",
	"summarize": "hmpps/summarize",
	"milvus":    "hmpps/retrieval/milvus",
}

// Source returns s as a Go file of package pkg ("main" for a Program),
// whose lines of code carry a //line directive naming docName, so that
// compiler errors point into the document. A Body becomes the function
// Snippet_NAME(ctx context.Context) error, importing the packages of
// Imports it refers to.
func (s Snippet) Source(pkg, docName string) ([]byte, error) {
	var b bytes.Buffer
	switch s.Kind {
	case Program:
		fmt.Fprintf(&b, "//line %s:%d\n%s", docName, s.Line, s.Code)
	case Body:
		used, err := packagesUsed(s.Code)
		if err != nil {
			return nil, fmt.Errorf("snippet %q: %w", s.Name, err)
		}
		fmt.Fprintf(&b, "package %s\n\nimport (\n\t\"context\"\n", pkg)
		for _, name := range used {
			if name != "context" {
				fmt.Fprintf(&b, "\t%q\n", Imports[name])
			}
		}
		fmt.Fprintf(&b, ")\n\nfunc Snippet_%s(ctx context.Context) error {\n", strings.NewReplacer("-", "_").Replace(s.Name))
		fmt.Fprintf(&b, "//line %s:%d\n%s\treturn nil\n}\n", docName, s.Line, s.Code)
	default:
		return nil, fmt.Errorf("snippet %q: unknown kind %q", s.Name, s.Kind)
	}
	return b.Bytes(), nil
}

// Formatted reports whether s is as gofmt writes it: a Program as a file, a
// Body as statements indented by one tab inside a function.
func (s Snippet) Formatted() (bool, error) {
	src := s.Code
	if s.Kind == Body {
		var b strings.Builder
		b.WriteString("package p\n\nfunc f() {\n")
		for line := range strings.Lines(s.Code) {
			if strings.TrimSpace(line) == "" {
				b.WriteString("\n")
			} else {
				b.WriteString("\t" + line)
			}
		}
		b.WriteString("}\n")
		src = b.String()
	}
	got, err := format.Source([]byte(src))
	if err != nil {
		return false, fmt.Errorf("snippet %q: %w", s.Name, err)
	}
	return string(got) == src, nil
}

// packagesUsed returns the names of Imports that code refers to as
// NAME.Selector, sorted.
func packagesUsed(code string) ([]string, error) {
	var (
		sc   scanner.Scanner
		errs scanner.ErrorList
		seen = map[string]bool{}
	)
	fset := token.NewFileSet()
	src := []byte(code)
	sc.Init(fset.AddFile("", -1, len(src)), src, func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	var prev string
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && prev != "" {
			if _, ok := Imports[prev]; ok {
				seen[prev] = true
			}
		}
		prev = ""
		if tok == token.IDENT {
			prev = lit
		}
	}
	if errs.Len() > 0 {
		return nil, errs.Err()
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}
