package main

import (
	"fmt"
	"hmpps/hmpps"
	"strings"
	"time"

	"hmpps/hmpps/eval"
)

// writeCatalogReport writes the whole-catalog section of the report: the
// data, the protocol, the tables, the comparisons, the co-purchase tuning
// and the training.
func writeCatalogReport(w *strings.Builder, r *catalogResult, maxHistory int) {
	st := r.Stats
	fmt.Fprintf(w, "## Whole-catalog evaluation on %s\n\n", r.Dataset)
	fmt.Fprintf(w, "%d users, %d products, %d purchases in order (RecBole's atomic files; %d (user, product) pairs bought more than once). "+
		"Protocol: the split the .inter files define: per user, the last purchase is the test target, the one before it the validation target, "+
		"the earlier ones the training purchases; up to %d purchases before a target are its history, left out of its ranking "+
		"(%d test targets were bought before and cannot be ranked: they count as misses for every method). "+
		"%d test and %d validation targets have no category text, so no query, and are skipped. "+
		"Every method ranks the whole catalog; the engine retrieves its own candidates (Search without CandidateIDs, ExcludeHistory, TopN %d) "+
		"and a target it does not return is a miss. MRR is cut at rank %d; Recall@100 is, for the engine, the recall of its retrieval. "+
		"The %s.\n\n",
		st.Users, r.Catalog, st.Rows, st.DuplicatePairs, maxHistory, r.Repeats,
		r.Skipped.NoTestQuery, r.Skipped.NoValidationQuery, eval.DefaultDepth, eval.DefaultDepth, catalogDescription)
	for _, rep := range r.Reports {
		fmt.Fprintf(w, "### %s\n\n", rep.Label)
		if rep.Depth > 0 {
			rep.WriteCatalogMarkdown(w)
		} else {
			rep.WriteMarkdown(w)
		}
		fmt.Fprintf(w, "\n(%s.)\n\n", catalogDescription)
	}
	w.WriteString("### Paired comparisons on NDCG@10\n\n")
	w.WriteString("Mean difference with a paired bootstrap 95% interval; exact two-sided sign test over users (ties dropped).\n\n")
	eval.WriteComparisonMarkdown(w, r.Comparisons)
	fmt.Fprintf(w, "\n### BM25 + co-purchase, tuned on the validation split\n\n")
	fmt.Fprintf(w, "BM25 blended with the co-purchase strength between a candidate and the shopper's latest purchases, "+
		"both divided by their maximum over the candidates; the co-purchase table counts, in every user's training purchases only, "+
		"pairs of purchases at most a window apart. %d settings ranked the %d validation targets against the whole catalog; the best, by NDCG@10, "+
		"is the tables' \"%s\":\n\n", len(r.Tuned), len(r.Tuned[0].Ranks), nameCoPurchase)
	w.WriteString("| rank | setting (validation split) | NDCG@10 |\n| ---: | --- | ---: |\n")
	for i, t := range r.Tuned[:min(5, len(r.Tuned))] {
		fmt.Fprintf(w, "| %d | %s | %.3f |\n", i+1, t.Params, t.NDCG10)
	}
	if len(r.Training) > 0 {
		fmt.Fprintf(w, "\n### Training at this size\n\n")
		fmt.Fprintf(w, "hmpps.Train on every training purchase with a query and a purchase before it, each among up to %d of the engine's own candidates for its query "+
			"(hmpps.TrainRetrieved: retrieval %d deep, history left out, and the co-purchase neighbours), early-stopped on the validation targets ranked among all of theirs, "+
			"then refit on the training and validation purchases together for the best epoch's passes (hmpps.TrainOptions.Refit; the ablations are trained as that refit, "+
			"with no validation of their own); the test targets are never read. Training examples count the refit's; the time is both trainings'. Wall time on this machine, shared; "+
			"peak heap is the highest heap in use while training, above what was in use before.\n\n", hmpps.DefaultTrainNegatives, trainedRetrieveK)
		writeCatalogTraining(w, r.Training)
		w.WriteString("\nLearned weights of the full model, on standardized features (stage 1: the history attention; stage 2: the ranker):\n\n| stage | feature | weight |\n| ---: | --- | ---: |\n")
		for _, fw := range r.models.Full.FeatureWeights() {
			fmt.Fprintf(w, "| %d | %s | %+.3f |\n", fw.Stage, fw.Name, fw.Weight)
		}
	}
	fmt.Fprintf(w, "\nThe whole-catalog evaluation of %s took %s.\n", r.Dataset, (time.Duration(r.Seconds) * time.Second).Round(time.Second))
}
