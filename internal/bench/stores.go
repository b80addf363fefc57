package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"

	"github.com/philippgille/chromem-go"

	"hmpps/retrieval"
)

// dim is the vector length of every comparison: that of the offline text
// embedder, and of the small sentence-embedding models.
const dim = 384

// k is the number of results every query asks for.
const k = 10

// queryFunc runs one top-k query and returns the IDs found, best first.
type queryFunc func(ctx context.Context, q []float32) ([]string, error)

// store is one of the implementations compared, loaded with the data set.
type store struct {
	name  string
	query queryFunc
}

// dataset is n random unit vectors and queries drawn the same way; both
// stores receive the same vectors, so that they do the same work.
type dataset struct {
	vectors [][]float32
	queries [][]float32
}

func newDataset(n int) dataset {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	unit := func() []float32 {
		v := make([]float32, dim)
		var norm float64
		for j := range v {
			v[j] = rng.Float32()*2 - 1
			norm += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] = float32(float64(v[j]) / math.Sqrt(norm))
		}
		return v
	}
	d := dataset{vectors: make([][]float32, n), queries: make([][]float32, 64)}
	for i := range d.vectors {
		d.vectors[i] = unit()
	}
	for i := range d.queries {
		d.queries[i] = unit()
	}
	return d
}

// newStores loads d into chromem-go and into hmpps's embedded index,
// exact and quantized, all under cosine similarity.
func newStores(ctx context.Context, d dataset) ([]store, error) {
	chromemQuery, err := loadChromem(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("chromem-go: %w", err)
	}
	stores := []store{{name: "chromem-go", query: chromemQuery}}
	for _, v := range []struct {
		name string
		opts retrieval.EmbeddedOptions
	}{
		{"hmpps-exact", retrieval.EmbeddedOptions{}},
		{"hmpps-int8", retrieval.EmbeddedOptions{Quantize: true}},
	} {
		q, err := loadEmbedded(ctx, d, v.opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		stores = append(stores, store{name: v.name, query: q})
	}
	return stores, nil
}

func loadChromem(ctx context.Context, d dataset) (queryFunc, error) {
	db := chromem.NewDB()
	// Every document comes with its embedding, so the function is never
	// called; passing one keeps chromem-go from defaulting to OpenAI.
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, fmt.Errorf("no embedding model in a benchmark")
	}
	col, err := db.CreateCollection("bench", nil, noEmbed)
	if err != nil {
		return nil, err
	}
	docs := make([]chromem.Document, len(d.vectors))
	for i, v := range d.vectors {
		docs[i] = chromem.Document{ID: strconv.Itoa(i), Embedding: v}
	}
	if err := col.AddDocuments(ctx, docs, runtime.NumCPU()); err != nil {
		return nil, err
	}
	return func(ctx context.Context, q []float32) ([]string, error) {
		res, err := col.QueryEmbedding(ctx, q, k, nil, nil)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(res))
		for i, r := range res {
			ids[i] = r.ID
		}
		return ids, nil
	}, nil
}

func loadEmbedded(ctx context.Context, d dataset, opts retrieval.EmbeddedOptions) (queryFunc, error) {
	e, err := retrieval.NewEmbeddedWith(dim, retrieval.Cosine, opts)
	if err != nil {
		return nil, err
	}
	recs := make([]retrieval.Record, len(d.vectors))
	for i, v := range d.vectors {
		recs[i] = retrieval.Record{ID: strconv.Itoa(i), Vector: v}
	}
	if err := e.Upsert(ctx, recs...); err != nil {
		return nil, err
	}
	return func(ctx context.Context, q []float32) ([]string, error) {
		hits, err := e.Search(ctx, q, k, nil)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		return ids, nil
	}, nil
}
