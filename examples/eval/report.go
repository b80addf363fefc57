package main

import (
	"fmt"
	"strings"

	"hmpps/hmpps/eval"
)

// writeReport writes the Markdown report: the data, one table per candidate
// mode, the paired comparisons, the prompt sizes and the validation grid.
func writeReport(w *strings.Builder, d *eval.Dataset, splits []*eval.Split, checks []protocolCheck, reports []*eval.Report,
	comparisons []eval.NamedComparison, tuning []tuneResult, def tuneResult, sweep []summaryWordsResult, models []*trainedModels) {
	st := d.Stats
	fmt.Fprintf(w, "## Evaluation on %s\n\n", d.Name)
	fmt.Fprintf(w, "%d review rows, %d users, %d products (%d with metadata, %d with a category path of 2+ levels); "+
		"%d duplicate (user, product) pairs collapsed to the earliest.\n", st.Rows, st.Users, st.Products,
		st.WithMetadata, st.WithCategoryPath, st.DuplicatePairs)
	s := splits[0]
	fmt.Fprintf(w, "Protocol: per user in time order, last purchase = test, the one before = validation, up to %d earlier = history; "+
		"%d negatives per target, seed %d. Skipped: %d test and %d validation targets without a query (category path under 2 levels), "+
		"%d users with fewer than 3 purchases.\n\n", s.MaxHistory, s.Negatives, s.Seed,
		s.Skipped.NoTestQuery, s.Skipped.NoValidationQuery, s.Skipped.TooFewPurchases)
	writeChecks(w, checks)
	w.WriteString("\n")
	for _, r := range reports {
		fmt.Fprintf(w, "### %s\n\n", r.Label)
		r.WriteMarkdown(w)
		w.WriteString("\n")
	}
	w.WriteString("### Paired comparisons on NDCG@10 (test split)\n\n")
	w.WriteString("Mean difference with a paired bootstrap 95% interval; exact two-sided sign test over users (ties dropped).\n\n")
	eval.WriteComparisonMarkdown(w, comparisons)
	if len(models) > 0 {
		w.WriteString("\n### Two-stage training\n\n")
		fmt.Fprintf(w, "Per split, hmpps.Train learned the model on every purchase before the validation target "+
			"(each ranked among negatives drawn like the split's, from products the user had not bought), "+
			"early-stopped on the validation targets; the test targets were read only by the test tables above. "+
			"\"%s\" is the model trained with uniform attention (no learned history filter); \"%s\" is the full model's "+
			"learned history filter with the default offline reranker.\n\n", nameTrainedNoOne, nameTrainedNoTwo)
		writeTraining(w, models)
	}
	w.WriteString("\n### Prompt size per candidate (test split, random negatives)\n\n")
	w.WriteString("What a pointwise model reranker would read for one candidate: the query, the kept history's texts and the candidate's text, " +
		"as the engine hands them to the reranker (summaries, or full text without them). Tokens are estimated as characters / 4.\n\n")
	reports[0].WritePromptMarkdown(w)
	if len(tuning) > 0 {
		w.WriteString("\n### Tuning on the validation split\n\n")
		fmt.Fprintf(w, "%d configurations of stage one (K, MinScore) and the preference reranker (query/history weight), "+
			"summaries off (they cannot change the offline reranker's order); the best by mean NDCG@10 over both modes "+
			"is the test table's \"%s\".\n\n", len(tuning), nameTuned)
		modes := make([]string, len(splits))
		for i, s := range splits {
			modes[i] = string(s.Mode)
		}
		writeTuning(w, tuning, def, modes, 5)
		w.WriteString("\nThe summary budget (WithSummaryWords) changes what a model reranker would read, not the offline order:\n\n")
		writeSummaryWords(w, modes[0], sweep)
	}
}
