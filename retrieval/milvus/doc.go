// Package milvus is a retrieval.Index kept in a Milvus collection, for
// catalogs that outgrow one process. It is a package of its own so that
// only programs that import it link the Milvus client and what it brings
// (gRPC, the Milvus protocol types, cockroachdb/errors, sentry-go); an
// offline program that uses only package retrieval's embedded index does
// not.
//
// An hmpps.Engine uses it through a factory, which the engine calls with
// the dimension and metric of the vectors it stores:
//
//	eng, err := hmpps.New(hmpps.WithIndexFactory(milvus.Factory(milvus.Config{
//		Address:    "localhost:19530",
//		Collection: "products",
//	})))
//
// New opens an Index directly, for callers that know the dimension and
// metric themselves. Either way the collection is created when missing and
// checked when it exists: another dimension, metric or set of fields is
// refused (ErrIncompatibleCollection), never altered or dropped.
//
// The index behaves as the embedded one does and passes the same
// conformance suite against a real server; the differences (UTF-8 text,
// field lengths, at most MaxTopK hits, approximate search under HNSW and
// IVF_FLAT) are listed on Index.
package milvus
