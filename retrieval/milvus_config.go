package retrieval

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Errors of the Milvus index, besides the sentinels every Index shares.
var (
	// ErrUnavailable reports a Milvus server that could not be reached, or
	// that kept answering with transient errors until the retries ran out.
	ErrUnavailable = errors.New("retrieval: milvus unavailable")
	// ErrIncompatibleCollection reports an existing collection whose schema
	// or index does not fit the configuration (another dimension, metric or
	// set of fields). The index never drops or alters such a collection.
	ErrIncompatibleCollection = errors.New("retrieval: incompatible milvus collection")
	// ErrNotUTF8 reports an ID, metadata value or filter value that is not
	// valid UTF-8: Milvus stores text as UTF-8 and cannot hold it.
	ErrNotUTF8 = errors.New("retrieval: text is not valid UTF-8")
)

// MilvusIndexType names the vector index a Milvus collection is built with.
type MilvusIndexType string

// The vector index types NewMilvus can create.
const (
	// MilvusHNSW is a graph index: fast and approximate, tuned by
	// MilvusConfig.HNSWM, HNSWEfConstruction and SearchEf.
	MilvusHNSW MilvusIndexType = "HNSW"
	// MilvusFlat scans every vector: exact, and slow on large collections.
	MilvusFlat MilvusIndexType = "FLAT"
	// MilvusIVFFlat clusters the vectors and scans the SearchNProbe clusters
	// nearest the query; tuned by IVFNList and SearchNProbe.
	MilvusIVFFlat MilvusIndexType = "IVF_FLAT"
)

// MilvusConsistency is the consistency level of reads, which decides which
// writes a search, get or count sees.
type MilvusConsistency string

// The consistency levels of Milvus.
const (
	// MilvusStrong reads see every write acknowledged before them, from any
	// client; each read waits for the server's clock to catch up.
	MilvusStrong MilvusConsistency = "Strong"
	// MilvusSession reads see every write this index made before them,
	// waiting only as long as those writes need to become visible.
	MilvusSession MilvusConsistency = "Session"
	// MilvusBounded reads may miss the last few seconds of writes.
	MilvusBounded MilvusConsistency = "Bounded"
	// MilvusEventually reads see writes whenever the server gets to them.
	MilvusEventually MilvusConsistency = "Eventually"
)

// Defaults NewMilvus applies to a zero MilvusConfig field, and the limits of
// a Milvus collection.
const (
	// DefaultMilvusAddress is where a local Milvus listens.
	DefaultMilvusAddress = "localhost:19530"
	// DefaultMilvusCollection is the collection's name when none is given.
	DefaultMilvusCollection = "hmpps_products"
	// DefaultMilvusBatchSize is how many records one upsert request sends.
	DefaultMilvusBatchSize = 1000
	// DefaultMilvusRetries is how many times a transient failure is retried.
	DefaultMilvusRetries = 4
	// DefaultMilvusHNSWM is the links per node of an HNSW graph.
	DefaultMilvusHNSWM = 16
	// DefaultMilvusEfBuild is HNSW's candidate list while building.
	DefaultMilvusEfBuild = 200
	// DefaultMilvusSearchEf is HNSW's candidate list while searching: at
	// 100,000 products of 384 dimensions it gives recall@10 0.98 where 64
	// gives 0.93, at the same median latency (see the README).
	DefaultMilvusSearchEf = 128
	// DefaultMilvusIVFNList is the number of IVF_FLAT clusters.
	DefaultMilvusIVFNList = 1024
	// DefaultMilvusNProbe is how many IVF_FLAT clusters a search scans.
	DefaultMilvusNProbe = 16
	// DefaultMilvusDialTime bounds connecting to the server.
	DefaultMilvusDialTime = 10 * time.Second
	// DefaultMilvusBackoff is the wait before the first retry.
	DefaultMilvusBackoff = 200 * time.Millisecond
	// MilvusMaxTopK is the most hits one Milvus search returns; Search caps
	// k there.
	MilvusMaxTopK = 16384
	// MilvusMaxLength is the longest ID or column value, in bytes, that a
	// Milvus VarChar field holds.
	MilvusMaxLength = 65535
)

// maxMilvusBackoff caps the wait between two retries.
const maxMilvusBackoff = 5 * time.Second

// The fields of a collection made by NewMilvus. Metadata keys named in
// MilvusConfig.FilterFields get VarChar fields of their own next to brand
// and category; every other key lives in the JSON field.
const (
	milvusIDField       = "id"
	milvusVectorField   = "vector"
	milvusMetadataField = "metadata"
)

// milvusBuiltinColumns are the metadata keys that always have a field.
var milvusBuiltinColumns = []string{"brand", "category"}

// milvusFieldName is what Milvus accepts as a field name.
var milvusFieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

// MilvusConfig configures NewMilvus. Only Dimension is required; every other
// field has a default, which its comment gives.
type MilvusConfig struct {
	// Address is the Milvus proxy, as host:port or as an http:// or
	// https:// URI (https turns TLS on). If blank, DefaultMilvusAddress.
	Address string
	// Username and Password log in to a server with authentication on.
	// Blank means no login.
	Username string
	Password string
	// APIKey authenticates instead of Username and Password, as managed
	// Milvus services expect.
	APIKey string
	// Database is the Milvus database holding the collection; it must
	// exist. If blank, the server's "default" database.
	Database string
	// Collection is created when missing; an existing one is used when its
	// schema and index fit this configuration and refused otherwise. If
	// blank, DefaultMilvusCollection.
	Collection string
	// Dimension is the length of every vector; required.
	Dimension int
	// Metric is how searches score: Cosine maps to Milvus COSINE,
	// InnerProduct to IP. The zero value is Cosine; an hmpps.Engine needs
	// InnerProduct.
	Metric Metric
	// Index is the vector index type. If blank, MilvusHNSW. An existing
	// collection keeps the index it has, whatever its type.
	Index MilvusIndexType
	// HNSWM and HNSWEfConstruction shape an HNSW graph: links per node and
	// candidates considered while building. If zero, DefaultMilvusHNSWM and
	// DefaultMilvusEfBuild.
	HNSWM              int
	HNSWEfConstruction int
	// IVFNList is the number of IVF_FLAT clusters. If zero,
	// DefaultMilvusIVFNList.
	IVFNList int
	// SearchEf is how many candidates an HNSW search keeps; raised to k
	// when k is larger. If zero, DefaultMilvusSearchEf.
	SearchEf int
	// SearchNProbe is how many IVF_FLAT clusters a search scans. If zero,
	// DefaultMilvusNProbe.
	SearchNProbe int
	// FilterFields are metadata keys stored in VarChar fields of their own,
	// besides brand and category, so that filters on them can use scalar
	// indexes; other keys are kept, and filterable, in a JSON field. Each
	// must be a Milvus field name (letters, digits, underscores).
	FilterFields []string
	// BatchSize bounds the records of one upsert request and the IDs of one
	// get or delete request. If zero, DefaultMilvusBatchSize.
	BatchSize int
	// Consistency is the consistency level of reads. If blank,
	// MilvusSession: an index reads its own writes.
	Consistency MilvusConsistency
	// DialTimeout bounds connecting to the server (the context given to
	// NewMilvus may end it sooner). If zero, DefaultMilvusDialTime.
	DialTimeout time.Duration
	// MaxRetries is how many times a call that failed with a transient
	// error (server unreachable, overloaded or still loading) is retried.
	// If zero, DefaultMilvusRetries; negative means never.
	MaxRetries int
	// RetryBackoff is the wait before the first retry; it doubles for each
	// later one, up to 5s, with jitter. If zero, DefaultMilvusBackoff.
	RetryBackoff time.Duration
}

// withDefaults returns c with every zero field set to its default, or an
// error for a configuration NewMilvus cannot use.
func (c MilvusConfig) withDefaults() (MilvusConfig, error) {
	if c.Address == "" {
		c.Address = DefaultMilvusAddress
	}
	if c.Collection == "" {
		c.Collection = DefaultMilvusCollection
	}
	if c.Index == "" {
		c.Index = MilvusHNSW
	}
	if c.Consistency == "" {
		c.Consistency = MilvusSession
	}
	setDefault(&c.HNSWM, DefaultMilvusHNSWM)
	setDefault(&c.HNSWEfConstruction, DefaultMilvusEfBuild)
	setDefault(&c.IVFNList, DefaultMilvusIVFNList)
	setDefault(&c.SearchEf, DefaultMilvusSearchEf)
	setDefault(&c.SearchNProbe, DefaultMilvusNProbe)
	setDefault(&c.BatchSize, DefaultMilvusBatchSize)
	setDefault(&c.MaxRetries, DefaultMilvusRetries)
	setDefault(&c.DialTimeout, DefaultMilvusDialTime)
	setDefault(&c.RetryBackoff, DefaultMilvusBackoff)
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}

	switch {
	case c.Dimension <= 0 || c.Dimension > MaxDimension:
		return c, fmt.Errorf("retrieval: milvus: dimension %d outside [1, %d]", c.Dimension, MaxDimension)
	case c.Metric != Cosine && c.Metric != InnerProduct:
		return c, fmt.Errorf("retrieval: milvus: unknown metric %d", c.Metric)
	case c.Index != MilvusHNSW && c.Index != MilvusFlat && c.Index != MilvusIVFFlat:
		return c, fmt.Errorf("retrieval: milvus: unknown index type %q (want %s, %s or %s)", c.Index, MilvusHNSW, MilvusFlat, MilvusIVFFlat)
	case !slices.Contains([]MilvusConsistency{MilvusStrong, MilvusSession, MilvusBounded, MilvusEventually}, c.Consistency):
		return c, fmt.Errorf("retrieval: milvus: unknown consistency level %q", c.Consistency)
	case c.HNSWM < 0 || c.HNSWEfConstruction < 0 || c.IVFNList < 0 || c.SearchEf < 0 || c.SearchNProbe < 0 || c.BatchSize < 0:
		return c, errors.New("retrieval: milvus: index, search and batch parameters must not be negative")
	case c.DialTimeout < 0 || c.RetryBackoff < 0:
		return c, errors.New("retrieval: milvus: timeouts must not be negative")
	case !milvusFieldName.MatchString(c.Collection):
		return c, fmt.Errorf("retrieval: milvus: collection name %q is not letters, digits and underscores", c.Collection)
	}
	seen := map[string]bool{milvusIDField: true, milvusVectorField: true, milvusMetadataField: true}
	for _, f := range milvusBuiltinColumns {
		seen[f] = true
	}
	for _, f := range c.FilterFields {
		if !milvusFieldName.MatchString(f) {
			return c, fmt.Errorf("retrieval: milvus: filter field %q is not letters, digits and underscores", f)
		}
		if seen[f] {
			return c, fmt.Errorf("retrieval: milvus: filter field %q is reserved or given twice", f)
		}
		seen[f] = true
	}
	c.FilterFields = slices.Clone(c.FilterFields)
	return c, nil
}

// columns returns the metadata keys that have VarChar fields, in schema
// order.
func (c MilvusConfig) columns() []string {
	return append(slices.Clone(milvusBuiltinColumns), c.FilterFields...)
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
