package main

import (
	"fmt"
	"strings"
	"time"

	"hmpps/hmpps/eval"
)

// writeEmbedReport writes embed.md: the embedded catalogs, the rows of
// both data sets with their comparisons and trainings, the retrieval
// recall table and the query embedding's share of a search.
func writeEmbedReport(w *strings.Builder, r *embedResult, cfg config) {
	re := r.Embedder
	digest := re.Digest
	if digest == "" {
		digest = "not reported by the server"
	}
	fmt.Fprintf(w, "# Real embeddings: %s\n\n", re.Model)
	fmt.Fprintf(w, "The engine with the embedding model %s (%d dimensions, digest %s) as its text embedder, "+
		"beside the same engine with the offline hashing embedder, untrained and trained (hmpps.Train on the training purchases, "+
		"early-stopped on the validation targets; the test targets are read once, by the tables below). "+
		"No summarizer (summaries cannot change an offline ranking). The queries are the target's category words "+
		"(Ai et al., SIGIR 2017; no real queries are public).\n\n", re.Model, re.Dimension, digest)
	if cfg.maxTasks > 0 {
		fmt.Fprintf(w, "Only the first %d test tasks of each data set are ranked (-tasks %d); every product of both catalogs is embedded, "+
			"and training and validation use all their purchases.\n\n", cfg.maxTasks, cfg.maxTasks)
	}
	w.WriteString("## The embedded catalogs\n\n")
	w.WriteString("Each catalog is embedded once and kept as an engine file in the cache folder, keyed by data set, model, dimension, " +
		"model digest and the products; a later run opens it instead of embedding again. Texts per second are those of the run that made the file " +
		"(Upsert with the engine's defaults: batches of the embedder's size, sent concurrently).\n\n")
	w.WriteString("| data set | products | embedded in | texts/s | this run |\n| --- | ---: | ---: | ---: | --- |\n")
	for _, f := range r.Files {
		how := "embedded"
		if f.Cached {
			how = "opened from the cache"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %.1f | %s |\n", f.Dataset, f.Products, (time.Duration(f.EmbedSeconds * float64(time.Second))).Round(time.Second),
			f.TextsPerSecond, how)
	}
	if s := r.Catalog; s != nil {
		fmt.Fprintf(w, "\n## %s\n\n", s.Report.Label)
		s.Report.WriteCatalogMarkdown(w)
		writeEmbedSection(w, s)
	}
	if len(r.Recall) > 0 {
		fmt.Fprintf(w, "\n## Retrieval recall@%d over the whole catalog\n\n", recallDepth)
		fmt.Fprintf(w, "The share of the %d validation targets of %s found among the %d products the engine retrieves for the query alone "+
			"(no history, untrained; WithRetrieveK %d).\n\n", r.Recall[0].Targets, r.Catalog.Dataset, recallDepth, recallDepth)
		w.WriteString("| embedder | vector | lexical | hybrid |\n| --- | ---: | ---: | ---: |\n")
		for i := 0; i+2 < len(r.Recall); i += 3 {
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f |\n", r.Recall[i].Embedder, r.Recall[i].Recall, r.Recall[i+1].Recall, r.Recall[i+2].Recall)
		}
	}
	if q := r.QueryShare; q != nil {
		fmt.Fprintf(w, "\nThe query embedding's share of a search with %s (not memoized; %d whole-catalog searches with distinct queries and their history): "+
			"p50 query embedding %s, p50 search %s, p50 share %.0f%%.\n", re.Model, q.Searches, q.Embed.Round(100*time.Microsecond),
			q.Search.Round(100*time.Microsecond), 100*q.Share)
	}
	if s := r.Magazine; s != nil {
		fmt.Fprintf(w, "\n## %s\n\n", s.Report.Label)
		fmt.Fprintf(w, "The engines hold the data set's %d products, as make eval's do.\n\n", s.Products)
		s.Report.WriteMarkdown(w)
		writeEmbedSection(w, s)
	}
	fmt.Fprintf(w, "\n`go run ./examples/eval -embed-model %s` (seed %d, %d bootstrap resamples) took %s on %s.\n", re.Model, cfg.seed, cfg.bootstrap,
		(time.Duration(r.Seconds) * time.Second).Round(time.Second), r.Date)
}

// writeEmbedSection writes a data set's paired comparisons and trainings.
func writeEmbedSection(w *strings.Builder, s *embedSection) {
	w.WriteString("\nPaired comparisons on NDCG@10: mean difference with a paired bootstrap 95% interval; exact two-sided sign test over users (ties dropped).\n\n")
	eval.WriteComparisonMarkdown(w, s.Comparisons)
	w.WriteString("\n| training | examples | validation | epochs (best) | training time | best validation NDCG@10 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, t := range s.Training {
		fmt.Fprintf(w, "| %s | %d | %d | %d (%d) | %s | %.3f |\n", t.Label, t.Summary.Examples, t.Summary.ValidationExamples,
			t.Epochs, t.BestEpoch, t.Summary.Took.Round(100*time.Millisecond), t.Validation)
	}
}
