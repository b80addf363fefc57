package milvus_test

import (
	"context"
	"log"

	"hmpps/hmpps"
	"hmpps/retrieval"
	"hmpps/retrieval/milvus"
)

// An engine on a Milvus collection: the engine gives the factory the
// dimension and metric of its vectors, so the configuration names only
// where the collection is. It needs a running server, so it is not run as
// a test; TestMilvusEngineMatchesEmbedded in examples/milvus runs the same
// against a real one.
func ExampleFactory() {
	engine, err := hmpps.New(hmpps.WithIndexFactory(milvus.Factory(milvus.Config{
		Address:    "localhost:19530",
		Collection: "products",
		Index:      milvus.HNSW,
	})))
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
}

// New opens an index directly, for a caller that stores vectors of its own.
func ExampleNew() {
	ix, err := milvus.New(context.Background(), milvus.Config{
		Address:   "localhost:19530",
		Dimension: 384,
		Metric:    retrieval.Cosine,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
}
