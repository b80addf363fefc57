package milvus

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"hmpps/retrieval"
)

// Errors of the Milvus index, besides the sentinels every Index shares.
var (
	// ErrUnavailable reports a Milvus server that could not be reached, or
	// that kept answering with transient errors until the retries ran out.
	ErrUnavailable = errors.New("milvus: unavailable")
	// ErrIncompatibleCollection reports an existing collection whose schema
	// or index does not fit the configuration (another dimension, metric or
	// set of fields). The index never drops or alters such a collection.
	ErrIncompatibleCollection = errors.New("milvus: incompatible collection")
	// ErrNotUTF8 reports an ID, metadata value or filter value that is not
	// valid UTF-8: Milvus stores text as UTF-8 and cannot hold it.
	ErrNotUTF8 = errors.New("milvus: text is not valid UTF-8")
)

// IndexType names the vector index a Milvus collection is built with.
type IndexType string

// The vector index types New can create.
const (
	// HNSW is a graph index: fast and approximate, tuned by
	// Config.HNSWM, HNSWEfConstruction and SearchEf.
	HNSW IndexType = "HNSW"
	// Flat scans every vector: exact, and slow on large collections.
	Flat IndexType = "FLAT"
	// IVFFlat clusters the vectors and scans the SearchNProbe clusters
	// nearest the query; tuned by IVFNList and SearchNProbe.
	IVFFlat IndexType = "IVF_FLAT"
)

// Consistency is the consistency level of reads, which decides which
// writes a search, get or count sees.
type Consistency string

// The consistency levels of Milvus.
const (
	// Strong reads see every write acknowledged before them, from any
	// client; each read waits for the server's clock to catch up.
	Strong Consistency = "Strong"
	// Session reads see every write this index made before them,
	// waiting only as long as those writes need to become visible.
	Session Consistency = "Session"
	// Bounded reads may miss the last few seconds of writes.
	Bounded Consistency = "Bounded"
	// Eventually reads see writes whenever the server gets to them.
	Eventually Consistency = "Eventually"
)

// Defaults New applies to a zero Config field, and the limits of
// a Milvus collection.
const (
	// DefaultAddress is where a local Milvus listens.
	DefaultAddress = "localhost:19530"
	// DefaultCollection is the collection's name when none is given.
	DefaultCollection = "hmpps_products"
	// DefaultBatchSize is how many records one upsert request sends.
	DefaultBatchSize = 1000
	// DefaultRetries is how many times a transient failure is retried.
	DefaultRetries = 4
	// DefaultHNSWM is the links per node of an HNSW graph.
	DefaultHNSWM = 16
	// DefaultEfBuild is HNSW's candidate list while building.
	DefaultEfBuild = 200
	// DefaultSearchEf is HNSW's candidate list while searching: at
	// 100,000 products of 384 dimensions it gives recall@10 0.98 where 64
	// gives 0.93, at the same median latency (see docs/milvus.md).
	DefaultSearchEf = 128
	// DefaultIVFNList is the number of IVF_FLAT clusters.
	DefaultIVFNList = 1024
	// DefaultNProbe is how many IVF_FLAT clusters a search scans.
	DefaultNProbe = 16
	// DefaultDialTime bounds connecting to the server.
	DefaultDialTime = 10 * time.Second
	// DefaultReadTimeout bounds one try of a read (count, get, search).
	DefaultReadTimeout = 30 * time.Second
	// DefaultBackoff is the wait before the first retry.
	DefaultBackoff = 200 * time.Millisecond
	// DefaultChangeWindow is Config.ChangeWindow's default.
	DefaultChangeWindow = 30 * time.Second
	// MaxTopK is the most hits one Milvus search returns; Search caps
	// k there.
	MaxTopK = 16384
	// MaxLength is the longest ID or column value, in bytes, that a
	// Milvus VarChar field holds.
	MaxLength = 65535
)

// maxBackoff caps the wait between two retries.
const maxBackoff = 5 * time.Second

// The fields of a collection made by New. Metadata keys named in
// Config.FilterFields get VarChar fields of their own next to brand
// and category; every other key lives in the JSON field.
const (
	idField       = "id"
	vectorField   = "vector"
	metadataField = "metadata"
)

// The fields a catalog collection (Config.Catalog) adds: the document, the
// server timestamp taken before the row was written (which Changes reads
// by), the tombstone flag, and a hash of the ID that Scan reads by ranges.
const (
	docField     = "doc"
	writtenField = "written"
	deletedField = "deleted"
	bucketField  = "bucket"
)

// builtinColumns are the metadata keys that always have a field.
var builtinColumns = []string{"brand", "category"}

// fieldName is what Milvus accepts as a field name.
var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)

// Config configures New. Only Dimension is required (Factory sets it, and
// Metric, from what the engine stores); every other field has a default,
// which its comment gives.
type Config struct {
	// Address is the Milvus proxy, as host:port or as an http:// or
	// https:// URI (https turns TLS on). If blank, DefaultAddress.
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
	// blank, DefaultCollection.
	Collection string
	// Dimension is the length of every vector; required.
	Dimension int
	// Metric is how searches score: retrieval.Cosine maps to Milvus
	// COSINE, retrieval.InnerProduct to IP. The zero value is Cosine; an
	// hmpps.Engine needs InnerProduct, which Factory sets.
	Metric retrieval.Metric
	// Index is the vector index type. If blank, HNSW. An existing
	// collection keeps the index it has, whatever its type.
	Index IndexType
	// HNSWM and HNSWEfConstruction shape an HNSW graph: links per node and
	// candidates considered while building. If zero, DefaultHNSWM and
	// DefaultEfBuild.
	HNSWM              int
	HNSWEfConstruction int
	// IVFNList is the number of IVF_FLAT clusters. If zero,
	// DefaultIVFNList.
	IVFNList int
	// SearchEf is how many candidates an HNSW search keeps; raised to k
	// when k is larger. If zero, DefaultSearchEf.
	SearchEf int
	// SearchNProbe is how many IVF_FLAT clusters a search scans. If zero,
	// DefaultNProbe.
	SearchNProbe int
	// FilterFields are metadata keys stored in VarChar fields of their own,
	// besides brand and category, so that filters on them can use scalar
	// indexes; other keys are kept, and filterable, in a JSON field. Each
	// must be a Milvus field name (letters, digits, underscores).
	FilterFields []string
	// BatchSize bounds the records of one upsert request and the IDs of one
	// get or delete request. If zero, DefaultBatchSize.
	BatchSize int
	// Consistency is the consistency level of reads. If blank,
	// Session: an index reads its own writes.
	Consistency Consistency
	// DialTimeout bounds connecting to the server (the context given to
	// New may end it sooner). If zero, DefaultDialTime.
	DialTimeout time.Duration
	// MaxRetries is how many times a call that failed with a transient
	// error (server unreachable, overloaded or still loading) is retried.
	// If zero, DefaultRetries; negative means never.
	MaxRetries int
	// RetryBackoff is the wait before the first retry; it doubles for each
	// later one, up to 5s, with jitter. If zero, DefaultBackoff.
	RetryBackoff time.Duration
	// ReadTimeout bounds one try of a read (count, get, search). A try the
	// server has not answered by then is abandoned and retried like a
	// transient failure, so that a read stuck on the server (a Milvus 2.3
	// standalone has been seen to leave a count unanswered for minutes
	// under load) costs a retry rather than the caller's whole deadline.
	// If zero, DefaultReadTimeout; negative means no bound but the
	// caller's context. Writes are not bounded this way: a slow bulk
	// upsert or flush is not a stuck one.
	ReadTimeout time.Duration
	// Catalog makes the collection hold the catalog, not only its vectors:
	// each row keeps the caller's document (the engine's encoded product)
	// beside its vector, a delete leaves a tombstone for a while, and the
	// index implements retrieval.DocumentStore, so that any number of
	// engines share the collection as their one catalog (see
	// docs/milvus.md). A catalog collection has four more fields than a
	// plain one, so each refuses the other.
	Catalog bool
	// ChangeWindow is how far before a mark Changes reads again, and so
	// the longest a write may take between taking its timestamp and being
	// acknowledged without a replica missing it; a write that took longer
	// is written again with a fresh timestamp. Tombstones are kept for
	// ten windows. If zero, DefaultChangeWindow. Only with Catalog.
	ChangeWindow time.Duration
}

// withDefaults returns c with every zero field set to its default, or an
// error for a configuration New cannot use.
func (c Config) withDefaults() (Config, error) {
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.Collection == "" {
		c.Collection = DefaultCollection
	}
	if c.Index == "" {
		c.Index = HNSW
	}
	if c.Consistency == "" {
		c.Consistency = Session
	}
	setDefault(&c.HNSWM, DefaultHNSWM)
	setDefault(&c.HNSWEfConstruction, DefaultEfBuild)
	setDefault(&c.IVFNList, DefaultIVFNList)
	setDefault(&c.SearchEf, DefaultSearchEf)
	setDefault(&c.SearchNProbe, DefaultNProbe)
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.MaxRetries, DefaultRetries)
	setDefault(&c.DialTimeout, DefaultDialTime)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.RetryBackoff, DefaultBackoff)
	setDefault(&c.ChangeWindow, DefaultChangeWindow)
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}

	switch {
	case c.Dimension <= 0 || c.Dimension > retrieval.MaxDimension:
		return c, fmt.Errorf("milvus: dimension %d outside [1, %d]", c.Dimension, retrieval.MaxDimension)
	case c.Metric != retrieval.Cosine && c.Metric != retrieval.InnerProduct:
		return c, fmt.Errorf("milvus: unknown metric %d", c.Metric)
	case c.Index != HNSW && c.Index != Flat && c.Index != IVFFlat:
		return c, fmt.Errorf("milvus: unknown index type %q (want %s, %s or %s)", c.Index, HNSW, Flat, IVFFlat)
	case !slices.Contains([]Consistency{Strong, Session, Bounded, Eventually}, c.Consistency):
		return c, fmt.Errorf("milvus: unknown consistency level %q", c.Consistency)
	case c.HNSWM < 0 || c.HNSWEfConstruction < 0 || c.IVFNList < 0 || c.SearchEf < 0 || c.SearchNProbe < 0 || c.BatchSize < 0:
		return c, errors.New("milvus: index, search and batch parameters must not be negative")
	case c.DialTimeout < 0 || c.RetryBackoff < 0 || c.ChangeWindow < 0:
		return c, errors.New("milvus: timeouts must not be negative")
	case !fieldName.MatchString(c.Collection):
		return c, fmt.Errorf("milvus: collection name %q is not letters, digits and underscores", c.Collection)
	}
	seen := map[string]bool{idField: true, vectorField: true, metadataField: true,
		docField: true, writtenField: true, deletedField: true, bucketField: true}
	for _, f := range builtinColumns {
		seen[f] = true
	}
	for _, f := range c.FilterFields {
		if !fieldName.MatchString(f) {
			return c, fmt.Errorf("milvus: filter field %q is not letters, digits and underscores", f)
		}
		if seen[f] {
			return c, fmt.Errorf("milvus: filter field %q is reserved or given twice", f)
		}
		seen[f] = true
	}
	c.FilterFields = slices.Clone(c.FilterFields)
	return c, nil
}

// columns returns the metadata keys that have VarChar fields, in schema
// order.
func (c Config) columns() []string {
	return append(slices.Clone(builtinColumns), c.FilterFields...)
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
