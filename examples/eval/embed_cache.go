package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hmpps/hmpps"
	"hmpps/internal/atomicfile"
	"hmpps/internal/ollamacall"
	"hmpps/retrieval"
)

// realEmbedder is the embedding model an Ollama server serves, as the
// -embed-model evaluation uses it: raw embeds the catalog, memo the
// queries, which repeat (a query is a target's category words).
type realEmbedder struct {
	Model     string `json:"model"`
	Digest    string `json:"digest"`
	Dimension int    `json:"dimension"`

	raw  *retrieval.OllamaEmbedder
	memo *memoEmbedder
}

// newRealEmbedder connects to the model on host, learning its dimension
// (one probe call) and its digest (the server's model list), which key the
// cached catalog vectors.
func newRealEmbedder(ctx context.Context, host, model string) (*realEmbedder, error) {
	client := ollamacall.NewClient(host, nil)
	raw, err := retrieval.NewOllamaEmbedder(ctx, retrieval.OllamaEmbedderConfig{Client: client, Model: model, Timeout: 10 * time.Minute})
	if err != nil {
		return nil, fmt.Errorf("-embed-model %q: %w", model, err)
	}
	list, err := client.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("-embed-model %q: listing the server's models: %w", model, err)
	}
	re := &realEmbedder{Model: model, Dimension: raw.Dimension(), raw: raw, memo: newMemoEmbedder(raw)}
	for _, m := range list.Models {
		if m.Name == model || m.Model == model || m.Name == model+":latest" {
			re.Digest = m.Digest
			break
		}
	}
	return re, nil
}

// memoEmbedder remembers the vectors of an embedder by text, so that a
// query the evaluation asks again (in training, in every method, in every
// retrieval mode) is embedded once. The vectors are the inner embedder's,
// unchanged.
type memoEmbedder struct {
	inner retrieval.Embedder
	mu    sync.Mutex
	vecs  map[string][]float32
}

func newMemoEmbedder(inner retrieval.Embedder) *memoEmbedder {
	return &memoEmbedder{inner: inner, vecs: make(map[string][]float32)}
}

// Dimension returns the inner embedder's dimension.
func (m *memoEmbedder) Dimension() int { return m.inner.Dimension() }

// Embed returns the vectors of texts, embedding those not seen before.
func (m *memoEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	m.mu.Lock()
	var missing []string
	seen := make(map[string]bool)
	for _, t := range texts {
		if _, ok := m.vecs[t]; !ok && !seen[t] {
			seen[t] = true
			missing = append(missing, t)
		}
	}
	m.mu.Unlock()
	if len(missing) > 0 {
		vecs, err := m.inner.Embed(ctx, missing)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		for i, t := range missing {
			m.vecs[t] = vecs[i]
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = m.vecs[t]
	}
	return out, nil
}

// engineFile is a catalog embedded by the real model and saved as an
// engine file in the cache folder, with how it was made.
type engineFile struct {
	Dataset  string `json:"dataset"`
	Path     string `json:"path"`
	Products int    `json:"products"`
	// Model, Digest and Dimension are the embedder's.
	Model     string `json:"model"`
	Digest    string `json:"digest"`
	Dimension int    `json:"dimension"`
	// EmbedSeconds is the Upsert that embedded the catalog, when the file
	// was made; TextsPerSecond is Products over it.
	EmbedSeconds   float64 `json:"embed_seconds"`
	TextsPerSecond float64 `json:"texts_per_second"`
	// Made is when the file was made.
	Made string `json:"made"`
	// Cached is true when this run opened the file instead of embedding.
	Cached bool `json:"-"`
}

// cachedCatalog returns the engine file of products embedded by re: the
// one in dir/cache made with the same model, digest, dimension and
// products, or, when there is none (or it no longer opens), a new one,
// embedded with re's model by Upsert and saved there.
func cachedCatalog(ctx context.Context, dir, dataset string, products []hmpps.Product, re *realEmbedder) (engineFile, error) {
	key, err := catalogKey(products)
	if err != nil {
		return engineFile{}, err
	}
	digest := strings.TrimPrefix(re.Digest, "sha256:")
	if len(digest) > 12 {
		digest = digest[:12]
	}
	if digest == "" {
		digest = "nodigest"
	}
	name := fmt.Sprintf("%s-%s-%d-%s-%s", slug(dataset), slug(re.Model), re.Dimension, digest, key)
	path := filepath.Join(dir, "cache", name+".hmpps")
	if f, err := readEngineFile(path + ".json"); err == nil {
		e, err := openCatalog(ctx, f, re)
		if err == nil {
			e.Close()
			f.Path, f.Cached = path, true
			return f, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return engineFile{}, err
	}
	e, err := hmpps.New(hmpps.WithTextEmbedder(re.raw), hmpps.WithSummarizer(nil))
	if err != nil {
		return engineFile{}, err
	}
	defer e.Close()
	start := time.Now()
	if err := e.Upsert(ctx, products...); err != nil {
		return engineFile{}, fmt.Errorf("embedding the %s catalog with %q: %w", dataset, re.Model, err)
	}
	took := time.Since(start)
	if err := e.Save(ctx, path); err != nil {
		return engineFile{}, err
	}
	f := engineFile{Dataset: dataset, Path: path, Products: len(products), Model: re.Model, Digest: re.Digest, Dimension: re.Dimension,
		EmbedSeconds: took.Seconds(), TextsPerSecond: float64(len(products)) / took.Seconds(), Made: time.Now().UTC().Format(time.RFC3339)}
	err = atomicfile.Write(path+".json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	})
	return f, err
}

// openCatalog opens the engine file f with re's model as the text
// embedder (the memoizing one, for queries), no summarizer, and opts.
func openCatalog(ctx context.Context, f engineFile, re *realEmbedder, opts ...hmpps.Option) (*hmpps.Engine, error) {
	return hmpps.Open(ctx, f.Path, append([]hmpps.Option{hmpps.WithTextEmbedder(re.memo), hmpps.WithSummarizer(nil)}, opts...)...)
}

func readEngineFile(path string) (engineFile, error) {
	var f engineFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, err
	}
	if f.Path == "" || f.Products == 0 {
		return f, errors.New("incomplete engine file description")
	}
	f.Path = strings.TrimSuffix(path, ".json")
	return f, nil
}

// catalogKey is the first 12 hex digits of the sha256 of the products as
// JSON: a changed catalog gets a file of its own.
func catalogKey(products []hmpps.Product) (string, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range products {
		if err := enc.Encode(p); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// slug keeps the letters, digits, dots and dashes of s, lower-cased, the
// rest as dashes: a name fit for a file.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}
