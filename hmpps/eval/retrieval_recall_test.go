package eval

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// retrievalRecall is the share of tasks whose target is among the k
// candidates an engine retrieving with r finds in the whole catalog.
func retrievalRecall(t *testing.T, d *Dataset, tasks []Task, r hmpps.Retrieval, k int) float64 {
	t.Helper()
	ctx := context.Background()
	e, err := hmpps.New(hmpps.WithRetrieval(r), hmpps.WithRetrieveK(k), hmpps.WithSummarizer(nil))
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Upsert(ctx, d.Products...))
	var found int
	for _, task := range tasks {
		resp, err := e.Search(ctx, hmpps.Request{Query: task.Query, TopN: k})
		require.NoError(t, err)
		for _, res := range resp.Results {
			if res.ID == task.Target {
				found++
				break
			}
		}
	}
	return float64(found) / float64(len(tasks))
}

// TestHybridRetrievalRecall measures, on the Amazon data, how often the
// purchased product is among the candidates the engine retrieves from the
// whole catalog for the purchase's query, by vector, lexical and hybrid
// retrieval; the default, hybrid, must do at least as well as vector
// retrieval at every depth.
func TestHybridRetrievalRecall(t *testing.T) {
	d := loadMagazine(t)
	s, err := BuildSplit(d, SplitConfig{Seed: 1})
	require.NoError(t, err)
	tasks := s.Tasks(Validation)
	modes := []hmpps.Retrieval{hmpps.RetrieveVector, hmpps.RetrieveLexical, hmpps.RetrieveHybrid}
	var table strings.Builder
	fmt.Fprintf(&table, "recall@k of the purchased product, %d validation targets, %d products\n", len(tasks), len(d.Products))
	for _, k := range []int{10, 20, 50, 100} {
		recall := make(map[hmpps.Retrieval]float64)
		fmt.Fprintf(&table, "k=%3d", k)
		for _, m := range modes {
			recall[m] = retrievalRecall(t, d, tasks, m, k)
			fmt.Fprintf(&table, "  %s %.3f", m, recall[m])
		}
		table.WriteString("\n")
		assert.GreaterOrEqual(t, recall[hmpps.RetrieveHybrid], recall[hmpps.RetrieveVector], "k=%d", k)
	}
	t.Log(table.String())
}
