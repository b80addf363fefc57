package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTinyRecBole writes a data folder in RecBole's atomic layout: 40
// products in four categories, 30 users who each buy seven, mostly from
// one category and in a fixed order of pairs, so that what is bought
// together says what comes next.
func writeTinyRecBole(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cats := []string{"Abrasives Sanding Rolls", "Lab Glassware Beakers", "Safety Gloves", "Tapes Duct Tape"}
	var text, items strings.Builder
	text.WriteString("item_id:token\ttext:token_seq\n")
	for i := range 40 {
		fmt.Fprintf(&text, "P%02d\tProduct %d for %s. Industrial & Scientific %s. Brand %d. \n", i, i, cats[i%4], cats[i%4], i%5)
		fmt.Fprintf(&items, "P%02d\t%d\n", i, i)
	}
	var users strings.Builder
	header := "user_id:token\titem_id_list:token_seq\titem_id:token\n"
	train, valid, test := header, header, header
	for u := range 30 {
		fmt.Fprintf(&users, "U%02d\t%d\n", u, u)
		var seq []int
		for k := range 7 {
			seq = append(seq, (u%4+4*((u+k)%10))%40)
		}
		row := func(at int) string {
			var list []string
			for _, p := range seq[max(0, at-5):at] {
				list = append(list, fmt.Sprint(p))
			}
			return fmt.Sprintf("%d\t%s\t%d\n", u, strings.Join(list, " "), seq[at])
		}
		for at := 4; at >= 1; at-- {
			train += row(at)
		}
		valid += row(5)
		test += row(6)
	}
	for name, s := range map[string]string{"Tiny.text": text.String(), "Tiny.item2index": items.String(), "Tiny.user2index": users.String(),
		"Tiny.train.inter": train, "Tiny.valid.inter": valid, "Tiny.test.inter": test} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
	}
	return dir
}

func TestRunRecBole(t *testing.T) {
	data, out := writeTinyRecBole(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-data", "", "-recbole", data, "-out", out, "-bootstrap", "20", "-catalog-validation"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	md := stdout.String()
	for _, want := range []string{
		"## Whole-catalog evaluation on ", ", test split, whole catalog", ", validation split, whole catalog", ", test split, 99 random negatives",
		"| bm25 |", "| " + nameCoPurchase + " |", "| " + nameHMPPS + " |", "| " + nameNoHistory + " |", "| " + nameTrained + " |",
		"| " + nameTrainedNoHist + " |", "| " + nameTrainedNoOne + " |", "| " + nameTrainedNoTwo + " |", "Recall@100 [95% CI]",
		catalogDescription, "### BM25 + co-purchase, tuned on the validation split", "### Training at this size", "peak heap",
		nameTrained + " vs " + nameCoPurchase,
	} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "Test split, random negatives", "no Magazine tables without -data")
	var doc resultsDoc
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Catalog, 1)
	c := doc.Catalog[0]
	assert.Equal(t, 30, c.Tasks)
	assert.Equal(t, 40, c.Catalog)
	require.Len(t, c.Reports, 3)
	assert.Equal(t, 100, c.Reports[0].Depth)
	assert.Zero(t, c.Reports[2].Depth, "99 negatives: the lists are read whole")
	assert.Len(t, c.Training, 3, "the model and its stage-one and co-purchase-feature ablations")
	assert.Positive(t, c.Training[0].PeakHeapMB)
	_, err = os.Stat(filepath.Join(out, "chart.svg"))
	assert.True(t, os.IsNotExist(err), "the chart is Magazine's")
}

func TestStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four models")
	}
	recbole, magazine, out := writeTinyRecBole(t), writeTinyData(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-study", "-data", magazine, "-recbole", recbole, "-out", out, "-bootstrap", "20"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	md := stdout.String()
	for _, want := range []string{
		"## a. The collaborative signal", "### As a re-scorer blended with BM25", "### As a candidate source", "item2vec",
		"## b. Which negatives the trained engine should learn from", "retrieved negatives, early-stopped on retrieved lists",
		"## c. An untrained score that never loses to BM25", "lexical / max + 0.5 · cosine + 1 · preference",
		"## d. Training at this size", "## e. What the co-purchase signal adds to the trained engine", "weights learned on half A",
	} {
		assert.Contains(t, md, want)
	}
	saved, err := os.ReadFile(filepath.Join(out, "study.md"))
	require.NoError(t, err)
	assert.Equal(t, md, string(saved))
}
