package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as a Markdown table: one row per method,
// every metric's mean, the 95% intervals of HR@10 and NDCG@10, and the
// estimated prompt tokens per candidate for methods that report them.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d tasks, 95%% bootstrap intervals over %d resamples, ties ranked pessimistically.\n\n",
		r.Label, r.Tasks, r.BootstrapSamples)
	b.WriteString("| method | HR@1 | HR@5 | HR@10 [95% CI] | NDCG@5 | NDCG@10 [95% CI] | MRR | prompt tokens / candidate |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range r.Methods {
		prompt := "–"
		if m.Prompt != nil {
			prompt = fmt.Sprintf("%.0f", m.Prompt.PerCandidate)
		}
		name := m.Name
		if m.Degraded > 0 {
			name += fmt.Sprintf(" (%d tasks degraded)", m.Degraded)
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %s | %.3f | %s | %.3f | %s |\n", name,
			m.Metrics[HR1].Mean, m.Metrics[HR5].Mean, withInterval(m.Metrics[HR10]),
			m.Metrics[NDCG5].Mean, withInterval(m.Metrics[NDCG10]), m.Metrics[MRR].Mean, prompt)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCatalogMarkdown writes a whole-catalog report (see EvaluateCatalog)
// as a Markdown table: one row per method, HR@10, NDCG@10, MRR and
// Recall@100, each with its 95% interval.
func (r *Report) WriteCatalogMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d tasks, the whole catalog ranked to depth %d, 95%% bootstrap intervals over %d resamples, ties ranked pessimistically.\n\n",
		r.Label, r.Tasks, r.Depth, r.BootstrapSamples)
	metrics := []Metric{HR10, NDCG10, MRR, Recall100}
	b.WriteString("| method |")
	for _, m := range metrics {
		fmt.Fprintf(&b, " %s [95%% CI] |", m)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(metrics)) + "\n")
	for _, m := range r.Methods {
		name := m.Name
		if m.Degraded > 0 {
			name += fmt.Sprintf(" (%d tasks degraded)", m.Degraded)
		}
		fmt.Fprintf(&b, "| %s |", name)
		for _, x := range metrics {
			fmt.Fprintf(&b, " %s |", withInterval(m.Metrics[x]))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func withInterval(e Estimate) string {
	return fmt.Sprintf("%.3f [%.3f, %.3f]", e.Mean, e.Low, e.High)
}

// WritePromptMarkdown writes a table of the prompt sizes of the methods that
// report them: history items shown, and estimated tokens of the history, of
// one candidate, and of one candidate's whole judgement.
func (r *Report) WritePromptMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| method | history items | history tokens | candidate tokens | tokens / candidate |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
	for _, m := range r.Methods {
		if p := m.Prompt; p != nil {
			fmt.Fprintf(&b, "| %s | %.1f | %.0f | %.0f | %.0f |\n", m.Name, p.HistoryItems, p.HistoryTokens, p.CandidateTokens, p.PerCandidate)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparisonMarkdown writes paired comparisons as a Markdown table, one
// row per pair: the mean difference of the metric with its paired bootstrap
// interval, the wins and losses over tasks, and the sign test's p-value.
func WriteComparisonMarkdown(w io.Writer, rows []NamedComparison) error {
	var b strings.Builder
	b.WriteString("| A vs B | metric | mean A − B [95% CI] | A wins / B wins / ties | sign test p |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: |\n")
	for _, c := range rows {
		fmt.Fprintf(&b, "| %s vs %s | %s | %+.3f [%+.3f, %+.3f] | %d / %d / %d | %s |\n", c.A, c.B, c.Metric,
			c.Diff.Mean, c.Diff.Low, c.Diff.High, c.Wins, c.Losses, c.Ties, formatP(c.SignP))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// NamedComparison is a Comparison with the names of its two methods.
type NamedComparison struct {
	// A and B label the compared methods; differences are A minus B.
	A string `json:"a"`
	B string `json:"b"`
	Comparison
}

func formatP(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// WriteJSON writes v (a Report, or a document holding several) as indented
// JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("eval: write json: %w", err)
	}
	return nil
}
