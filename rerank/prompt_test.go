package rerank

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPromptRender(t *testing.T) {
	history := []Item{{ID: "h1", Text: "Belt.", Image: []byte("h1")}, {ID: "h2", Text: "Wallet."}}
	candidates := []Item{{ID: "c1", Text: "Boot.", Image: []byte("c1")}, {ID: "c2", Text: "Shoe."}}

	p, err := DefaultPromptTemplate.Render("boots", history, candidates)
	require.NoError(t, err)
	assert.Equal(t, "Products this customer bought before that relate to the search:\n"+
		"1. [picture 1] Belt.\n2. Wallet.\n\nSearch query: boots", p.Context)
	assert.Equal(t, [][]byte{[]byte("h1")}, p.ContextImages)
	assert.True(t, strings.HasPrefix(p.Candidates[0].Text, "Candidate product: [picture 2] Boot."))
	assert.True(t, strings.HasPrefix(p.Candidates[1].Text, "Candidate product: Shoe."))
	assert.Equal(t, [][]byte{[]byte("h1"), []byte("c1")}, p.Images(0))
	assert.Equal(t, [][]byte{[]byte("h1")}, p.Images(1))
	assert.Equal(t, p.System+"\n\n"+p.Context+"\n\n"+p.Candidates[1].Text, p.Text(1))

	empty, err := DefaultPromptTemplate.Render("boots", nil, candidates[:1])
	require.NoError(t, err)
	assert.Contains(t, empty.Context, "bought nothing before that relates to the search")
	assert.Contains(t, empty.Candidates[0].Text, "[picture 1]", "the candidate's picture is the first")
}

func TestPromptCustomTemplate(t *testing.T) {
	tmpl := PromptTemplate{
		Context:   "{{range .History}}{{.ID}} {{end}}| {{.Query}}",
		Candidate: "{{.Candidate.N}}:{{.Candidate.ID}} for {{.Query}}?",
	}
	require.NoError(t, tmpl.Validate())
	p, err := tmpl.Render("q", []Item{{ID: "h1"}}, []Item{{ID: "a"}, {ID: "b"}})
	require.NoError(t, err)
	msgs := p.Messages(1)
	require.Len(t, msgs, 2, "no system message when System is empty")
	assert.Equal(t, "h1 | q", msgs[0].Content)
	assert.Equal(t, "2:b for q?", msgs[1].Content)

	_, err = PromptTemplate{Candidate: "{{.Missing}}"}.Render("q", nil, []Item{{ID: "a"}})
	require.ErrorIs(t, err, ErrInvalidConfig)
}
