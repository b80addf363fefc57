package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// product is the JSON form of hmpps.Product.
type product struct {
	ID          string            `json:"id"`
	Title       string            `json:"title,omitempty"`
	Brand       string            `json:"brand,omitempty"`
	Category    []string          `json:"category,omitempty"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Images      []image           `json:"images,omitempty"`
	Caption     string            `json:"caption,omitempty"`
	TextVector  []float32         `json:"text_vector,omitempty"`
	ImageVector []float32         `json:"image_vector,omitempty"`
}

// image is the JSON form of hmpps.Image: Data is base64, as encoding/json
// writes bytes.
type image struct {
	Data []byte `json:"data,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// toEngine converts p for the engine. Image URIs must be http(s): the engine
// reads local paths from disk, which a client of a service must not make it
// do.
func (p product) toEngine() (hmpps.Product, error) {
	out := hmpps.Product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
		Description: p.Description, Attributes: p.Attributes, Caption: p.Caption,
		TextVector: p.TextVector, ImageVector: p.ImageVector}
	for i, im := range p.Images {
		if im.URI != "" {
			u, err := url.Parse(im.URI)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return out, fmt.Errorf("%w: product %q image %d: uri must be an http or https URL, got %q", errBadInput, p.ID, i, im.URI)
			}
		}
		out.Images = append(out.Images, hmpps.Image{Data: im.Data, URI: im.URI})
	}
	return out, nil
}

// fromEngine converts a catalog product for the client. Without full, it
// leaves out the description, pictures and vectors, to keep search
// responses small: a result carries its summary instead.
func fromEngine(p hmpps.Product, full bool) product {
	out := product{ID: p.ID, Title: p.Title, Brand: p.Brand, Category: p.Category,
		Attributes: p.Attributes, Caption: p.Caption}
	if full {
		out.Description = p.Description
		for _, im := range p.Images {
			out.Images = append(out.Images, image{Data: im.Data, URI: im.URI})
		}
		out.TextVector, out.ImageVector = p.TextVector, p.ImageVector
	}
	return out
}

// upsertRequest is the body of PUT /products.
type upsertRequest struct {
	Products []product `json:"products"`
}

// upsertResponse answers PUT /products.
type upsertResponse struct {
	// Upserted is how many products the batch added or replaced.
	Upserted int `json:"upserted"`
	// Products is the catalog's size after the batch.
	Products int `json:"products"`
}

// condition is the JSON form of retrieval.Condition: op is "in" (the
// default) or "prefix".
type condition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op,omitempty"`
	Values []string `json:"values"`
}

// searchRequest is the body of POST /search; see hmpps.Request for what
// each field does.
type searchRequest struct {
	Query          string      `json:"query"`
	HistoryIDs     []string    `json:"history_ids,omitempty"`
	History        []product   `json:"history,omitempty"`
	CandidateIDs   []string    `json:"candidate_ids,omitempty"`
	Filter         []condition `json:"filter,omitempty"`
	TopN           int         `json:"top_n,omitempty"`
	ExcludeHistory bool        `json:"exclude_history,omitempty"`
	HistoryK       int         `json:"history_k,omitempty"`
}

// toEngine converts the request for the engine.
func (s searchRequest) toEngine() (hmpps.Request, error) {
	req := hmpps.Request{Query: s.Query, HistoryIDs: s.HistoryIDs, CandidateIDs: s.CandidateIDs,
		TopN: s.TopN, ExcludeHistory: s.ExcludeHistory, HistoryK: s.HistoryK}
	for i, h := range s.History {
		p, err := h.toEngine()
		if err != nil {
			return req, fmt.Errorf("history item %d: %w", i, err)
		}
		req.History = append(req.History, p)
	}
	for i, c := range s.Filter {
		var op retrieval.Op
		switch c.Op {
		case "", "in":
			op = retrieval.OpIn
		case "prefix":
			op = retrieval.OpPrefix
		default:
			return req, fmt.Errorf("%w: filter condition %d: op must be \"in\" or \"prefix\", got %q", errBadInput, i, c.Op)
		}
		req.Filter = append(req.Filter, retrieval.Condition{Field: c.Field, Op: op, Values: c.Values})
	}
	return req, nil
}

// searchResponse answers POST /search with everything the engine said.
type searchResponse struct {
	Results []result   `json:"results"`
	History []keptItem `json:"history"`
	// Unpersonalized is true when stage one kept no history item, so the
	// ranking says nothing about this shopper.
	Unpersonalized bool     `json:"unpersonalized"`
	Degraded       bool     `json:"degraded"`
	Candidates     int      `json:"candidates"`
	Notes          []string `json:"notes"`
	TimingsMS      timings  `json:"timings_ms"`
	Usage          usage    `json:"usage"`
}

// result is one ranked candidate with every stage's score.
type result struct {
	ID              string  `json:"id"`
	Product         product `json:"product"`
	Score           float64 `json:"score"`
	RetrievalScore  float64 `json:"retrieval_score"`
	PreferenceScore float64 `json:"preference_score"`
	RerankScore     float64 `json:"rerank_score"`
	Summary         string  `json:"summary"`
	Degraded        bool    `json:"degraded,omitempty"`
	DegradedReason  string  `json:"degraded_reason,omitempty"`
}

// keptItem is a history item stage one kept.
type keptItem struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float32 `json:"score"`
}

// timings are the stages' wall-clock times in milliseconds.
type timings struct {
	Embed         float64 `json:"embed"`
	Retrieve      float64 `json:"retrieve"`
	HistoryFilter float64 `json:"history_filter"`
	Summarize     float64 `json:"summarize"`
	Rerank        float64 `json:"rerank"`
	Total         float64 `json:"total"`
}

// usage counts model calls and tokens.
type usage struct {
	ModelCalls      int `json:"model_calls"`
	PromptTokens    int `json:"prompt_tokens"`
	GeneratedTokens int `json:"generated_tokens"`
	CacheHits       int `json:"cache_hits"`
}

func usageOf(u retrieval.Usage) usage {
	return usage{ModelCalls: u.ModelCalls, PromptTokens: u.PromptTokens, GeneratedTokens: u.GeneratedTokens, CacheHits: u.CacheHits}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newSearchResponse converts the engine's response.
func newSearchResponse(r *hmpps.Response) searchResponse {
	out := searchResponse{
		Results:    make([]result, len(r.Results)),
		History:    make([]keptItem, len(r.History)),
		Degraded:   r.Degraded,
		Candidates: r.Candidates,
		Notes:      r.Notes,
		Usage:      usageOf(r.Usage),
		TimingsMS: timings{Embed: ms(r.Timings.Embed), Retrieve: ms(r.Timings.Retrieve),
			HistoryFilter: ms(r.Timings.HistoryFilter), Summarize: ms(r.Timings.Summarize),
			Rerank: ms(r.Timings.Rerank), Total: ms(r.Timings.Total)},
		// Stage one kept nothing, so no history shaped the ranking.
		Unpersonalized: len(r.History) == 0,
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for i, res := range r.Results {
		out.Results[i] = result{ID: res.ID, Product: fromEngine(res.Product, false), Score: res.Score,
			RetrievalScore: res.RetrievalScore, PreferenceScore: res.PreferenceScore, RerankScore: res.RerankScore,
			Summary: res.Summary, Degraded: res.Degraded, DegradedReason: res.DegradedReason}
	}
	for i, k := range r.History {
		out.History[i] = keptItem{ID: k.ID, Title: k.Title, Score: k.Score}
	}
	return out
}

// decodeJSON reads one JSON value of type T from the body: unknown fields,
// trailing data and bodies over the limit are errors the client is told.
func decodeJSON[T any](r *http.Request) (T, error) {
	var v T
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, fmt.Errorf("%w: request body over %d bytes", errTooLarge, tooBig.Limit)
		}
		if errors.Is(err, io.EOF) {
			return v, fmt.Errorf("%w: empty body, want a JSON object", errBadInput)
		}
		return v, fmt.Errorf("%w: body is not the JSON this endpoint takes: %v", errBadInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, fmt.Errorf("%w: request body over %d bytes", errTooLarge, tooBig.Limit)
		}
		return v, fmt.Errorf("%w: body has data after its JSON object", errBadInput)
	}
	return v, nil
}

// writeJSON writes v as the response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Descriptions hold HTML; clients read JSON, not HTML, so "<" stays.
	enc.SetEscapeHTML(false)
	// The client gets what it can; a write error means it went away.
	_ = enc.Encode(v)
}
