package hmpps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"hmpps/rerank"
)

// Defaults of ExportOptions.
const (
	// DefaultExportRandomNegatives is how many products drawn at random
	// from the catalog each example gets as "no" records.
	DefaultExportRandomNegatives = 3
	// DefaultExportHardNegatives is how many of the retriever's best
	// matches for the query (other than the positive) each example gets as
	// "no" records: products that fit the query but that this user did not
	// buy.
	DefaultExportHardNegatives = 3
)

// TrainingExample is a purchase to learn from: this user, with this history,
// searched for this query and bought this product.
type TrainingExample struct {
	// User identifies the user in the records; it is not interpreted.
	User string
	// Query is what the user searched for.
	Query string
	// HistoryIDs and History are the purchases before this one, as in
	// Request.
	HistoryIDs []string
	History    []Product
	// Positive is the catalog ID of the product bought.
	Positive string
	// Negatives, when set, are catalog products the user did not buy that
	// the positive was shown among: Train ranks the positive against them
	// instead of drawing random ones. ExportTraining ignores them.
	Negatives []string
}

// ExportOptions configures ExportTraining.
type ExportOptions struct {
	// RandomNegatives per example. If zero,
	// DefaultExportRandomNegatives; negative means none.
	RandomNegatives int
	// HardNegatives per example. If zero, DefaultExportHardNegatives;
	// negative means none.
	HardNegatives int
	// Seed makes the random negatives reproducible: the same catalog,
	// examples and seed give the same file.
	Seed uint64
	// Template renders the prompts. If nil, the engine's reranker's
	// template when it is a rerank.Prompter (a rerank.MLLM is), else
	// rerank.DefaultPromptTemplate.
	Template *rerank.PromptTemplate
	// ImageDir is where the pictures the model would see (prepared as for
	// a search) are written, named by their content hash, and referenced
	// from the records by that path. If empty, records are text-only and
	// their prompts mention no pictures.
	ImageDir string
}

// TrainingRecord is one line of the export: one candidate judged for one
// example, with the exact chat the reranker would send and the answer it
// should give.
type TrainingRecord struct {
	// User is the example's user.
	User string `json:"user,omitempty"`
	// Query is the example's query.
	Query string `json:"query"`
	// Product is the candidate's ID.
	Product string `json:"product"`
	// Kind is "positive", "hard" (a retriever match not bought) or
	// "random".
	Kind string `json:"kind"`
	// Label is the answer to learn: "yes" for the positive, "no" otherwise.
	Label string `json:"label"`
	// Messages are the system, shared and candidate messages, then the
	// assistant's answer.
	Messages []TrainingMessage `json:"messages"`
	// Images are every picture of the prompt, in attachment order.
	Images []string `json:"images,omitempty"`
	// Prompt is the messages' text before the answer, as one string.
	Prompt string `json:"prompt"`
}

// TrainingMessage is one chat message of a TrainingRecord.
type TrainingMessage struct {
	// Role is "system", "user" or "assistant".
	Role string `json:"role"`
	// Content is the message's text.
	Content string `json:"content"`
	// Images are the paths of the pictures attached to the message.
	Images []string `json:"images,omitempty"`
}

// ExportStats counts what ExportTraining wrote.
type ExportStats struct {
	// Examples is the number of examples exported.
	Examples int
	// Records is the number of lines written, one per candidate.
	Records int
	// Positives, HardNegatives and RandomNegatives split Records by kind.
	Positives, HardNegatives, RandomNegatives int
	// Images is the number of picture files written to ImageDir.
	Images int
}

// ExportTraining writes JSON lines for fine-tuning a vision model on the
// reranker's own prompts (the paper's second training stage): for each
// example, a "yes" record for the product bought and "no" records for hard
// negatives (the retriever's best matches for the query that are not the
// positive and not in the history) and for random catalog products. Each
// record's prompt is built exactly as a search builds it: the same stage-one
// history filter (the learned one, with WithModel), the same summaries, the
// same pictures, and the same rerank.PromptTemplate, so that a model
// fine-tuned on the file and served from Ollama sees at search time what it
// learned from.
//
// An example whose query is empty or whose positive or history is not in the
// catalog fails the export with an error naming it; records already written
// stay written.
func (e *Engine) ExportTraining(ctx context.Context, w io.Writer, examples []TrainingExample, opts ExportOptions) (ExportStats, error) {
	var st ExportStats
	if err := e.checkOpen(); err != nil {
		return st, err
	}
	tmpl := e.cfg.plan.template
	if opts.Template != nil {
		tmpl = *opts.Template
	}
	if err := tmpl.Validate(); err != nil {
		return st, fmt.Errorf("hmpps: training: %w", err)
	}
	randomN := defaultCount(opts.RandomNegatives, DefaultExportRandomNegatives)
	hardN := defaultCount(opts.HardNegatives, DefaultExportHardNegatives)
	if opts.ImageDir != "" {
		if err := os.MkdirAll(opts.ImageDir, 0o755); err != nil {
			return st, fmt.Errorf("hmpps: training: %w", err)
		}
	}
	if e.shared != nil {
		return st, fmt.Errorf("hmpps: training: %w", ErrSharedCatalog)
	}
	catalog := e.catalogIDs()

	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	written := make(map[string]bool)
	for i, ex := range examples {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(i)))
		recs, images, err := e.trainingRecords(ctx, tmpl, ex, catalog, hardN, randomN, rng, opts.ImageDir)
		if err != nil {
			return st, fmt.Errorf("hmpps: training example %d (%q): %w", i, ex.Positive, err)
		}
		for _, img := range images {
			if written[img.path] {
				continue
			}
			if err := os.WriteFile(img.path, img.data, 0o644); err != nil {
				return st, fmt.Errorf("hmpps: training: %w", err)
			}
			written[img.path] = true
			st.Images++
		}
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return st, fmt.Errorf("hmpps: training: %w", err)
			}
			st.Records++
			switch r.Kind {
			case "positive":
				st.Positives++
			case "hard":
				st.HardNegatives++
			default:
				st.RandomNegatives++
			}
		}
		st.Examples++
	}
	return st, nil
}

// trainingImage is a prepared picture to write at path, named by its
// content.
type trainingImage struct {
	path string
	data []byte
}

// trainingRecords builds one example's records, running the search pipeline
// up to the reranker's prompt. Pictures are referenced as files in imageDir,
// or left out when it is empty.
func (e *Engine) trainingRecords(ctx context.Context, tmpl rerank.PromptTemplate, ex TrainingExample, catalog []string, hardN, randomN int, rng *rand.Rand, imageDir string) ([]*TrainingRecord, []trainingImage, error) {
	if err := checkQuery(ex.Query); err != nil {
		return nil, nil, err
	}
	qvec, err := e.queryVector(ctx, ex.Query, nil)
	if err != nil {
		return nil, nil, err
	}
	history, _, err := e.history(ctx, ex.History, ex.HistoryIDs)
	if err != nil {
		return nil, nil, err
	}
	exclude := map[string]bool{ex.Positive: true}
	for _, h := range history {
		exclude[h.product.ID] = true
	}

	ids := []string{ex.Positive}
	kinds := []string{"positive"}
	if hardN > 0 {
		hits, err := e.ix.Search(ctx, qvec, hardN+len(exclude), nil)
		if err != nil {
			return nil, nil, err
		}
		for _, h := range hits {
			if len(ids) > hardN || exclude[h.ID] {
				continue
			}
			exclude[h.ID] = true
			ids, kinds = append(ids, h.ID), append(kinds, "hard")
		}
	}
	for _, id := range randomNegatives(catalog, exclude, randomN, rng) {
		ids, kinds = append(ids, id), append(kinds, "random")
	}
	candidates, err := e.lookupContext(ctx, "candidates", ids)
	if err != nil {
		return nil, nil, err
	}

	kept, _, err := e.stageOne(ex.Query, qvec, history, candidates, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	items := append(kept, make([]item, len(candidates))...)
	for i, c := range candidates {
		items[len(kept)+i].en = c
	}
	if err := e.read(ctx, ex.Query, pointers(items)); err != nil {
		return nil, nil, err
	}
	// The records reference pictures by file name; without a place to
	// write them, the prompts are text-only.
	var images []trainingImage
	refs := make([]string, len(items))
	for i, it := range items {
		p := it.picture
		if p.data == nil || imageDir == "" {
			continue
		}
		sum := sha256.Sum256(p.data)
		refs[i] = filepath.Join(imageDir, hex.EncodeToString(sum[:12])+pictureExt(p.data))
		images = append(images, trainingImage{path: refs[i], data: p.data})
	}
	var hist, cands []rerank.Item
	for i, it := range items {
		ri := it.rerankItem()
		ri.Image = imageIf(refs[i], it.picture.data)
		if i < len(kept) {
			hist = append(hist, ri)
		} else {
			cands = append(cands, ri)
		}
	}
	prompt, err := tmpl.Render(ex.Query, hist, cands)
	if err != nil {
		return nil, nil, err
	}
	var histRefs []string
	for i := range kept {
		if refs[i] != "" {
			histRefs = append(histRefs, refs[i])
		}
	}
	recs := make([]*TrainingRecord, len(candidates))
	for i := range candidates {
		label := "no"
		if kinds[i] == "positive" {
			label = "yes"
		}
		r := &TrainingRecord{User: ex.User, Query: ex.Query, Product: ids[i], Kind: kinds[i], Label: label, Prompt: prompt.Text(i)}
		candRef := refs[len(kept)+i]
		msgs := prompt.Messages(i)
		for j, m := range msgs {
			tm := TrainingMessage{Role: m.Role, Content: m.Content}
			switch {
			case m.Role == "system":
			case j < len(msgs)-1:
				tm.Images = slices.Clone(histRefs)
			case candRef != "":
				tm.Images = []string{candRef}
			}
			r.Images = append(r.Images, tm.Images...)
			r.Messages = append(r.Messages, tm)
		}
		r.Messages = append(r.Messages, TrainingMessage{Role: "assistant", Content: label})
		recs[i] = r
	}
	return recs, images, nil
}

func imageIf(ref string, data []byte) []byte {
	if ref == "" {
		return nil
	}
	return data
}

func defaultCount(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// pictureExt names a picture file after its format: prepared pictures are
// JPEG; offline, the embedded bytes are kept as they are.
func pictureExt(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return ".jpg"
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return ".png"
	case bytes.HasPrefix(data, []byte("GIF8")):
		return ".gif"
	case len(data) > 12 && string(data[8:12]) == "WEBP":
		return ".webp"
	}
	return ".img"
}
