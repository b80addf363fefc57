package hmpps

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"hmpps/retrieval/lexical"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rewriteSections saves e, lets edit change the file's sections, and
// writes the result, checksummed, to a new file whose path it returns.
func rewriteSections(t *testing.T, e *Engine, edit func([]fileSection) []fileSection) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "saved.hmpps")
	require.NoError(t, e.Save(ctx, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	h, records, sections, err := decodeFile(data)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, encodeFile(ctx, &buf, h, records, edit(sections)))
	out := filepath.Join(dir, "edited.hmpps")
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o600))
	return out
}

// lexicalScores returns the lexical score of every catalog product for
// query, as e's searches report them.
func lexicalScores(t *testing.T, e *Engine, query string) map[string]float64 {
	t.Helper()
	var all []string
	for _, p := range testCatalog() {
		all = append(all, p.ID)
	}
	resp, err := e.Search(context.Background(), Request{Query: query, CandidateIDs: all, TopN: len(all)})
	require.NoError(t, err)
	out := make(map[string]float64, len(resp.Results))
	for _, r := range resp.Results {
		out[r.ID] = r.LexicalScore
	}
	return out
}

func TestOpenLexicalSection(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	const query = "waterproof leather boots"
	want := lexicalScores(t, e, query)

	// A lexical index of other text for the same products, to tell a
	// restored section from a rebuilt one.
	other, err := lexical.New(lexical.Params{})
	require.NoError(t, err)
	for _, p := range testCatalog() {
		other.Upsert(p.ID, lexical.Doc{Title: "leather " + p.ID})
	}
	otherData, err := other.MarshalBinary()
	require.NoError(t, err)
	fewer, err := lexical.New(lexical.Params{})
	require.NoError(t, err)
	fewer.Upsert(testCatalog()[0].ID, lexical.Doc{Title: "boots"})
	fewerData, err := fewer.MarshalBinary()
	require.NoError(t, err)

	withLexical := func(version int, data []byte) func([]fileSection) []fileSection {
		return func([]fileSection) []fileSection {
			return []fileSection{{Kind: sectionLexical, Version: version, Data: data}}
		}
	}
	tests := []struct {
		name    string
		edit    func([]fileSection) []fileSection
		restore bool // the scores come from otherData
		wantErr bool
	}{
		{"as saved", func(s []fileSection) []fileSection { return s }, false, false},
		{"no section: rebuilt", func([]fileSection) []fileSection { return nil }, false, false},
		{"the section is read", withLexical(sectionLexicalVersion, otherData), true, false},
		{"other section version: rebuilt", withLexical(sectionLexicalVersion+1, otherData), false, false},
		{"other encoding: rebuilt", withLexical(sectionLexicalVersion, append([]byte{lexical.Format + 1}, otherData[1:]...)), false, false},
		{"unknown kind ignored", func(s []fileSection) []fileSection {
			return append(s, fileSection{Kind: "from a later library", Version: 1, Data: []byte("?")})
		}, false, false},
		{"corrupt section", withLexical(sectionLexicalVersion, otherData[:len(otherData)-1]), false, true},
		{"section of another catalog", withLexical(sectionLexicalVersion, fewerData), false, true},
		{"kind twice", func(s []fileSection) []fileSection { return append(s, s...) }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := rewriteSections(t, e, tt.edit)
			opened, err := Open(ctx, path)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrCorruptFile)
				return
			}
			require.NoError(t, err)
			defer opened.Close()
			got := lexicalScores(t, opened, query)
			if !tt.restore {
				assert.Equal(t, want, got)
				return
			}
			for id, s := range got {
				assert.Equal(t, other.Score(query, []string{id}, nil)[0], s, id)
			}
		})
	}
}

// TestSaveWritesTheLexicalSection checks what Save puts in the file: the
// lexical statistics of the catalog as it was.
func TestSaveWritesTheLexicalSection(t *testing.T) {
	e := newTestEngine(t)
	rewriteSections(t, e, func(s []fileSection) []fileSection {
		require.Len(t, s, 1)
		assert.Equal(t, sectionLexical, s[0].Kind)
		assert.Equal(t, sectionLexicalVersion, s[0].Version)
		want, err := catalogLexical(t, testCatalog()).MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, want, s[0].Data)
		return s
	})
}
