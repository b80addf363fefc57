package hmpps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/ollamatest"
	"hmpps/retrieval"
)

var trainingExamples = []TrainingExample{
	{User: "alex", Query: "waterproof boots", HistoryIDs: leatherFan, Positive: "boot-leather-1"},
	{User: "sam", Query: "waterproof boots", HistoryIDs: trailFan, Positive: "boot-trail-2"},
}

func readRecords(t *testing.T, data []byte) []TrainingRecord {
	t.Helper()
	var out []TrainingRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r TrainingRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestExportTraining(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pictures")
	var buf bytes.Buffer
	st, err := e.ExportTraining(ctx, &buf, trainingExamples, ExportOptions{ImageDir: dir, Seed: 7})
	require.NoError(t, err)
	// Alex's history and positive and three hard negatives leave two of the
	// eleven products for random negatives; Sam's leave more.
	assert.Equal(t, ExportStats{Examples: 2, Records: 13, Positives: 2, HardNegatives: 6, RandomNegatives: 5, Images: 2}, st,
		"the test catalog has two distinct pictures, each written once")

	recs := readRecords(t, buf.Bytes())
	require.Len(t, recs, 13)
	groups := [][]TrainingRecord{recs[:6], recs[6:]}
	for i, ex := range trainingExamples {
		group := groups[i]
		assert.Equal(t, ex.Positive, group[0].Product)
		assert.Equal(t, "positive", group[0].Kind)
		assert.Equal(t, "yes", group[0].Label)
		seen := map[string]bool{}
		hits, err := e.ix.Search(ctx, mustQuery(t, e, ex.Query), 20, nil)
		require.NoError(t, err)
		for j, r := range group {
			assert.Equal(t, ex.User, r.User)
			assert.False(t, seen[r.Product], "a product once per example")
			seen[r.Product] = true
			assert.NotContains(t, ex.HistoryIDs, r.Product, "never a product of the history")
			if j > 0 {
				assert.Equal(t, "no", r.Label)
			}
			if r.Kind == "hard" {
				// Hard negatives are the retriever's best other matches.
				assert.True(t, slices.ContainsFunc(hits[:8], func(h retrieval.Hit) bool { return h.ID == r.Product }), r.Product)
			}
			require.Len(t, r.Messages, 4)
			assert.Equal(t, []string{"system", "user", "user", "assistant"}, roles(r.Messages))
			assert.Equal(t, r.Label, r.Messages[3].Content)
			assert.Equal(t, r.Messages[0].Content+"\n\n"+r.Messages[1].Content+"\n\n"+r.Messages[2].Content, r.Prompt)
			assert.Equal(t, append(slices.Clone(r.Messages[1].Images), r.Messages[2].Images...), r.Images)
			for _, img := range r.Images {
				_, err := os.Stat(img)
				assert.NoError(t, err, "the picture file exists")
				assert.Equal(t, dir, filepath.Dir(img))
			}
			assert.Equal(t, group[0].Messages[:2], r.Messages[:2], "the shared part is shared")
		}
	}

	// The same seed gives the same file.
	var again bytes.Buffer
	_, err = e.ExportTraining(ctx, &again, trainingExamples, ExportOptions{ImageDir: dir, Seed: 7})
	require.NoError(t, err)
	assert.Equal(t, buf.String(), again.String())
}

func mustQuery(t *testing.T, e *Engine, q string) []float32 {
	v, err := e.queryVector(context.Background(), q, nil)
	require.NoError(t, err)
	return v
}

func roles(ms []TrainingMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Role
	}
	return out
}

// The records hold exactly the chat the reranker sends for that candidate.
func TestExportTrainingMatchesWhatTheModelSees(t *testing.T) {
	srv := ollamatest.New(t, ollamatest.Config{Chat: fakeModel()})
	e := ollamaEngine(t, srv, OllamaConfig{})
	ctx := context.Background()
	require.NoError(t, e.Upsert(ctx, bigPictureCatalog(t)...))
	dir := t.TempDir()
	var buf bytes.Buffer
	ex := trainingExamples[0]
	_, err := e.ExportTraining(ctx, &buf, []TrainingExample{ex}, ExportOptions{ImageDir: dir, HardNegatives: 1, RandomNegatives: -1})
	require.NoError(t, err)
	recs := readRecords(t, buf.Bytes())
	require.Len(t, recs, 2)

	for _, r := range recs {
		before := len(srv.Chats())
		_, err := e.Search(ctx, Request{Query: ex.Query, HistoryIDs: ex.HistoryIDs, CandidateIDs: []string{r.Product}})
		require.NoError(t, err)
		var sent *api.ChatRequest
		for _, c := range srv.Chats()[before:] {
			if c.Request.Logprobs {
				sent = &c.Request
			}
		}
		require.NotNil(t, sent)
		require.Len(t, sent.Messages, 3)
		for i, m := range sent.Messages {
			assert.Equal(t, m.Role, r.Messages[i].Role)
			assert.Equal(t, m.Content, r.Messages[i].Content)
			require.Len(t, r.Messages[i].Images, len(m.Images))
			for j, img := range m.Images {
				data, err := os.ReadFile(r.Messages[i].Images[j])
				require.NoError(t, err)
				assert.Equal(t, []byte(img), data, "the same prepared picture")
			}
		}
	}
}

func TestExportTrainingTextOnly(t *testing.T) {
	e := newTestEngine(t)
	var buf bytes.Buffer
	_, err := e.ExportTraining(context.Background(), &buf, trainingExamples[:1], ExportOptions{HardNegatives: -1, RandomNegatives: 2})
	require.NoError(t, err)
	recs := readRecords(t, buf.Bytes())
	require.Len(t, recs, 3)
	for _, r := range recs {
		assert.Empty(t, r.Images)
		assert.NotContains(t, r.Prompt, "[picture")
		assert.NotEqual(t, "hard", r.Kind)
	}
}

func TestExportTrainingErrors(t *testing.T) {
	e := newTestEngine(t)
	tests := []struct {
		name    string
		ex      TrainingExample
		wantErr error
	}{
		{"unknown positive", TrainingExample{Query: "boots", Positive: "nope"}, ErrNotFound},
		{"unknown history", TrainingExample{Query: "boots", Positive: "boot-leather-1", HistoryIDs: []string{"nope"}}, ErrNotFound},
		{"empty query", TrainingExample{Query: " ", Positive: "boot-leather-1"}, ErrEmptyQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			st, err := e.ExportTraining(context.Background(), &buf, []TrainingExample{trainingExamples[0], tt.ex}, ExportOptions{})
			require.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), "example 1")
			assert.Equal(t, 1, st.Examples, "the first example was written")
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.ExportTraining(ctx, &bytes.Buffer{}, trainingExamples, ExportOptions{})
	require.ErrorIs(t, err, context.Canceled)
}
