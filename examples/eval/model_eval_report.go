package main

import (
	"fmt"
	"strings"

	"hmpps/hmpps/eval"
)

// writeModelEvalReport writes the model evaluation's Markdown: a summary
// row per judge, then each judge's tables.
func writeModelEvalReport(w *strings.Builder, doc *modelEvalDoc) {
	fmt.Fprintf(w, "## Model rerankers on %s, whole catalog\n\n", doc.Dataset)
	fmt.Fprintf(w, "The trained engine ranks the whole catalog (depth 100, history left out; %s); each judge is asked about its top %d "+
		"(one call each, %d at once). \"%s\" is the judge's P(yes) ordering those %d (the engine without calibration); \"%s\" is "+
		"hmpps.Calibrate's combination of the learned score with the judge's verdict, fit on the first %d validation targets, "+
		"the judge's weight trusted only when it ranked better out of fold. Both keep the other candidates below in the learned order, "+
		"so the judge can move only a target the trained engine ranks in its top %d: it is asked on those test searches only, "+
		"and the trained engine's rank stands for the others, where every row ranks the target alike. First %d test targets.\n\n",
		catalogDescription, doc.Candidates, doc.Slots, rowReplace, doc.Candidates, rowCombine, doc.ValidationTasks, doc.Candidates, doc.TestTasks)
	w.WriteString("| judge | trusted | weights: learned / log-odds / mass | validation NDCG@10 learned → combined | test NDCG@10 trained | replaces: Δ [95% CI], p | combination: Δ [95% CI], p | s / search (replaces, combination) |\n")
	w.WriteString("| --- | :---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range doc.Judges {
		f := r.Fit
		var ws []string
		for _, x := range f.Weights {
			ws = append(ws, fmt.Sprintf("%+.2f", x.Weight))
		}
		trained, _ := r.Report.Method(nameTrained)
		diff := func(i int) string {
			if i >= len(r.Comparisons) {
				return "–"
			}
			c := r.Comparisons[i].Comparison
			return fmt.Sprintf("%+.3f [%+.3f, %+.3f], %s", c.Diff.Mean, c.Diff.Low, c.Diff.High, formatSignP(c.SignP))
		}
		cost := func(i int) string {
			if i >= len(r.Cost) || r.Cost[i].Searches == 0 {
				return "0"
			}
			return fmt.Sprintf("%.1f", r.Cost[i].Seconds)
		}
		fmt.Fprintf(w, "| %s | %v | %s | %.3f → %.3f | %.3f | %s | %s | %s, %s |\n", r.Judge, yesNo(f.Trusted), strings.Join(ws, " / "),
			f.LearnedNDCG10, f.CombinedNDCG10, trained.Metrics[eval.NDCG10].Mean, diff(0), diff(1), cost(0), cost(1))
	}
	for _, r := range doc.Judges {
		fmt.Fprintf(w, "\n### %s\n\n", r.Judge)
		r.Report.WriteMarkdown(w)
		w.WriteString("\n")
		eval.WriteComparisonMarkdown(w, r.Comparisons)
		f := r.Fit
		fmt.Fprintf(w, "\nCalibration (%s): %d validation searches, %d with the target among the judged; %d candidates judged, %d without a usable answer; "+
			"out of fold (%d folds) the combination ranked the target higher in %d lists and lower in %d (one-sided sign test p = %.3g); "+
			"validation NDCG@10 %.3f (learned) → %.3f (combined, in sample); trusted: %s; %d model calls, %d prompt tokens; %s.\n\n",
			f.Judge, f.Examples, f.Lists, f.Judged, f.Unanswered, f.Folds, f.Wins, f.Losses, f.SignP, f.LearnedNDCG10, f.CombinedNDCG10,
			yesNo(f.Trusted), f.Usage.ModelCalls, f.Usage.PromptTokens, f.Took.Round(1e9))
		w.WriteString("| row | searches that asked the model | s / search | model calls / search | prompt tokens / call |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, c := range r.Cost {
			fmt.Fprintf(w, "| %s | %d | %.2f | %.1f | %.0f |\n", c.Row, c.Searches, c.Seconds, c.Calls, c.Prompt)
		}
		if p := r.Perspective; p != nil {
			fmt.Fprintf(w, "\nSummaries: the judge replacing the learned order, reading extractive summaries or its own perspective-guided ones (%.1f s per search with them):\n\n", p.SecondsPerSearch)
			p.Report.WriteMarkdown(w)
			w.WriteString("\n")
			eval.WriteComparisonMarkdown(w, []eval.NamedComparison{p.Comparison})
			w.WriteString("\n")
			for _, s := range p.Samples {
				fmt.Fprintf(w, "- query %q: perspectives %q; %q summarized as %q", s.Query, s.Perspectives, s.Product, s.Summary)
				if s.Error != "" {
					fmt.Fprintf(w, " (error: %s)", s.Error)
				}
				w.WriteString("\n")
			}
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func formatSignP(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", p)
}
