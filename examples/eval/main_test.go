package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps/eval"
)

// writeTinyData writes a data folder in the Amazon layout: 40 products in
// four categories, 24 users who each buy five products, mostly from one
// category.
func writeTinyData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cats := []string{"Cooking, Food &amp; Wine", "Sports &amp; Leisure", "Home &amp; Garden", "Science &amp; Nature"}
	var meta bytes.Buffer
	zw := gzip.NewWriter(&meta)
	for i := range 40 {
		cat := cats[i%4]
		m := map[string]any{
			"asin": fmt.Sprintf("P%02d", i), "title": `<span class="a-size-medium"`, "brand": fmt.Sprintf("Publisher %d", i%7),
			"category":    []string{"Magazine Subscriptions", cat, fmt.Sprintf("Shelf %d", i%3)},
			"description": []string{fmt.Sprintf("A magazine about %s, issue %d. <b>Monthly</b> &amp; glossy.", cat, i)},
			"imageURL":    []string{fmt.Sprintf("https://example.invalid/%d.jpg", i)},
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		zw.Write(append(b, '\n'))
	}
	require.NoError(t, zw.Close())
	var reviews bytes.Buffer
	for u := range 24 {
		for k := range 5 {
			p := (u%4 + 4*(u+k*3)) % 40 // mostly the user's category
			if k == 4 {
				p = (p + 1) % 40
			}
			fmt.Fprintf(&reviews, `{"reviewerID": "U%02d", "asin": "P%02d", "unixReviewTime": %d, "overall": 5.0}`+"\n", u, p, 1000+86400*k)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Tiny_5.json"), reviews.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meta_Tiny.json.gz"), meta.Bytes(), 0o644))
	return dir
}

func TestRun(t *testing.T) {
	data, out := writeTinyData(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", data, "-recbole", "", "-out", out, "-negatives", "15", "-bootstrap", "20"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())

	md := stdout.String()
	for _, want := range []string{
		"### Test split, random negatives", "### Test split, hard negatives", "| bm25 |", "| " + nameHMPPS + " |",
		"| " + nameNoFilter + " |", "| " + nameNoPersonal + " |", "| " + nameNoSummaries + " |", "| " + nameTuned + " |",
		"### Paired comparisons", "### Prompt size", "### Tuning on the validation split", "library default",
		"| " + nameTrained + " |", "| " + nameTrainedNoOne + " |", "| " + nameTrainedNoTwo + " |",
		"### Two-stage training", "| 2 | query category |", nameTrained + " vs bm25 (hard negatives)",
	} {
		assert.Contains(t, md, want)
	}
	for _, f := range []string{"split-random.json", "split-hard.json", "results.md", "results.json", "chart.svg", "chart.png"} {
		st, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	saved, err := os.ReadFile(filepath.Join(out, "results.md"))
	require.NoError(t, err)
	assert.Equal(t, md, string(saved))

	var doc resultsDoc
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Reports, 2)
	assert.Equal(t, 24, doc.Stats.Users)

	// Every method ranked the lists of the split file.
	f, err := os.Open(filepath.Join(out, "split-random.json"))
	require.NoError(t, err)
	defer f.Close()
	split, err := eval.ReadSplit(f)
	require.NoError(t, err)
	assert.Equal(t, len(split.Tasks(eval.Test)), doc.Reports[0].Tasks)
	for _, m := range doc.Reports[0].Methods {
		assert.Len(t, m.Ranks, doc.Reports[0].Tasks, m.Name)
	}
	// Not a terminal: one line per finished phase, no carriage returns.
	assert.NotContains(t, stderr.String(), "\r")
	assert.Contains(t, stderr.String(), "test/hard")
	assert.Contains(t, stderr.String(), "train/hard − stage one training:")
	require.Len(t, doc.Training, 2)
	assert.Equal(t, eval.HardNegatives, doc.Training[1].Mode)
	assert.NotEmpty(t, doc.Training[0].Weights)
	assert.Positive(t, doc.Training[0].Summary.Examples)
}

func TestRunFewerTasks(t *testing.T) {
	data, out := writeTinyData(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", data, "-recbole", "", "-out", out, "-negatives", "15", "-bootstrap", "20", "-tune=false", "-tasks", "5"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "Test split, random negatives: 5 tasks")
	assert.NotContains(t, stdout.String(), "Tuning")
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing data", []string{"-data", t.TempDir()}, "no data"},
		{"missing RecBole data", []string{"-data", "", "-recbole", t.TempDir()}, "no data"},
		{"nothing to evaluate", []string{"-data", "", "-recbole", ""}, "nothing to evaluate"},
		{"bad negatives", []string{"-negatives", "0"}, "must be positive"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"negative tasks", []string{"-tasks", "-1"}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			require.Error(t, err)
			assert.True(t, strings.Contains(err.Error(), tt.want), "got %v", err)
		})
	}
}

func TestProgressBarOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progressBar{w: &buf, terminal: true}
	p.update("test/random", eval.Progress{Method: "bm25", Index: 0, Methods: 2, Done: 1, Total: 4})
	p.update("test/random", eval.Progress{Method: "bm25", Index: 0, Methods: 2, Done: 4, Total: 4})
	p.update("test/random", eval.Progress{Method: "hmpps", Index: 1, Methods: 2, Done: 4, Total: 4})
	out := buf.String()
	assert.Contains(t, out, "\r\033[K")
	assert.Contains(t, out, "4/4")
	assert.True(t, strings.HasSuffix(out, "\n"), "the last method ends the line")
	assert.Equal(t, 1, strings.Count(out, "\n"))
}

func TestTuneGrid(t *testing.T) {
	grid := tuneGrid()
	assert.Len(t, grid, 6*5*7)
	seen := map[string]bool{}
	for _, c := range grid {
		assert.False(t, seen[c.String()], c.String())
		seen[c.String()] = true
		assert.InDelta(t, 1, c.QueryWeight+c.HistoryWeight, 1e-9)
	}
	assert.Equal(t, "K=5, MinScore=0.05, weights 1.00/0.50/1.00", defaultTuneConfig().String())
}
