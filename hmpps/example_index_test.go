package hmpps_test

import (
	"context"
	"fmt"
	"log"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// The engine tells the factory the dimension and metric of the vectors it
// stores; here the factory makes an int8-quantized embedded index of them.
// For Milvus, pass milvus.Factory(milvus.Config{...}) from package
// hmpps/retrieval/milvus instead.
func ExampleWithIndexFactory() {
	quantized := retrieval.EmbeddedFactory(retrieval.EmbeddedOptions{Quantize: true})
	engine, err := hmpps.New(hmpps.WithIndexFactory(func(ctx context.Context, spec retrieval.IndexSpec) (retrieval.Index, error) {
		fmt.Printf("index of %d dimensions, %s\n", spec.Dimension, spec.Metric)
		return quantized(ctx, spec)
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	// Output: index of 468 dimensions, inner_product
}
