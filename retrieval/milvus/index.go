package milvus

// This file and index_catalog.go are the only ones that use the Milvus Go SDK
// (github.com/milvus-io/milvus-sdk-go/v2, archived upstream). Moving to its
// successor, github.com/milvus-io/milvus/client/v2, means rewriting this
// two files alone: the configuration, the metadata layout, the expressions and
// the retry policy around it do not import the SDK.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	grpcretry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"hmpps/retrieval"
)

// Index is a retrieval.Index kept in a Milvus collection, for catalogs
// that outgrow one process. New connects and creates the collection when
// it is missing. Index is safe for concurrent use.
//
// It behaves as retrieval.Embedded does, with these differences: IDs and
// metadata must be valid UTF-8; IDs and the values of column keys (brand,
// category, Config.FilterFields) are limited to MaxLength bytes; Search
// returns at most MaxTopK hits, approximate ones under HNSW and IVF_FLAT;
// and an Upsert larger than one batch that fails part way may have written
// its first batches.
type Index struct {
	cfg     Config
	columns []string
	cl      client.Client
	metric  entity.MetricType
	// index is the type of the collection's vector index, which decides the
	// search parameters; an existing collection may have another type than
	// cfg.Index.
	index       IndexType
	consistency entity.ConsistencyLevel
	retry       retryPolicy

	// lastWrite is the latest server timestamp of this index's writes,
	// which a Session read waits for. Milvus 2.3 returns no timestamp for a
	// delete, so Delete asks the server for a fresh one afterwards; if the
	// server cannot give one, strongReads makes every later read Strong.
	lastWrite   atomic.Uint64
	strongReads atomic.Bool
	// lastPurge is when Changes last removed old tombstones (a server
	// timestamp; Config.Catalog only).
	lastPurge atomic.Uint64
	// seen maps the IDs of the rows this index wrote or Changes reported
	// within the last change window to their stamps, so that Changes
	// reports each write once (Config.Catalog only).
	seenMu sync.Mutex
	seen   map[string]uint64

	// done is cancelled by Close, to end the calls in flight.
	done context.Context
	stop context.CancelFunc
	// mu is held for reading by every call and for writing by Close, so
	// that Close waits for calls in flight before closing the connection.
	mu     sync.RWMutex
	closed atomic.Bool
}

var _ retrieval.Index = (*Index)(nil)

// New connects to the Milvus server cfg names, creates the collection
// when it is missing (with its vector index), checks that an existing one
// fits cfg, and loads it for searching. Connecting waits at most
// cfg.DialTimeout; a server that does not answer gives an error wrapping
// ErrUnavailable. An existing collection of another dimension gives an
// error wrapping ErrIncompatibleCollection and
// retrieval.ErrDimensionMismatch.
func New(ctx context.Context, cfg Config) (*Index, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	metric := entity.COSINE
	if cfg.Metric == retrieval.InnerProduct {
		metric = entity.IP
	}
	done, stop := context.WithCancel(context.Background())
	m := &Index{
		cfg:         cfg,
		columns:     cfg.columns(),
		metric:      metric,
		index:       cfg.Index,
		consistency: consistencyLevel(cfg.Consistency),
		retry: retryPolicy{
			retries:   cfg.MaxRetries,
			backoff:   cfg.RetryBackoff,
			cap:       max(cfg.RetryBackoff, maxBackoff),
			transient: transient,
		},
		done: done,
		stop: stop,
	}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	m.cl, err = client.NewClient(dialCtx, client.Config{
		Address:     cfg.Address,
		Username:    cfg.Username,
		Password:    cfg.Password,
		APIKey:      cfg.APIKey,
		DBName:      cfg.Database,
		DialOptions: m.dialOptions(),
		// Retries are this file's job, with its own bound.
		RetryRateLimit: &client.RetryRateLimitOption{MaxRetry: 0},
	})
	if err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("milvus: connect to %s: %w", cfg.Address, ctx.Err())
		}
		if dialCtx.Err() != nil || transient(err) {
			return nil, fmt.Errorf("%w: no connection to %s within %v: %v", ErrUnavailable, cfg.Address, cfg.DialTimeout, err)
		}
		return nil, fmt.Errorf("milvus: connect to %s: %w", cfg.Address, err)
	}
	if err := m.prepare(ctx); err != nil {
		stop()
		_ = m.cl.Close()
		return nil, err
	}
	return m, nil
}

// dialOptions replace the SDK's defaults: the same blocking dial,
// keepalive and reconnect backoff, with the SDK's own retries off (the
// retryPolicy bounds them instead) and transient server statuses turned
// into gRPC errors the policy recognizes.
func (m *Index) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithBlock(),
		// A dial that times out says why (connection refused, ...).
		grpc.WithReturnConnectionError(),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                5 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   2 * time.Second,
			},
			MinConnectTimeout: 3 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpcretry.Disable()),
		grpc.WithChainUnaryInterceptor(m.intercept),
	}
}

// intercept sees every call's response before the SDK does. It turns a
// status that says "try again" into a gRPC Unavailable error, because the
// SDK reduces such statuses to plain error strings, and it records the
// timestamps of writes for Session reads.
func (m *Index) intercept(ctx context.Context, method string, req, reply any,
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption,
) error {
	if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
		return err
	}
	if r, ok := reply.(*milvuspb.MutationResult); ok && r.GetStatus().GetCode() == 0 {
		m.observeWrite(r.GetTimestamp())
	}
	var st *commonpb.Status
	switch r := reply.(type) {
	case *commonpb.Status:
		st = r
	case interface{ GetStatus() *commonpb.Status }:
		st = r.GetStatus()
	}
	switch {
	case st == nil:
	case transientStatus(st):
		return status.Errorf(codes.Unavailable, "milvus %s: %s (code %d)", path.Base(method), st.GetReason(), st.GetCode())
	case st.GetCode() == milvusNotLoadedCode:
		return status.Errorf(codes.FailedPrecondition, "milvus %s: %s (code %d)", path.Base(method), st.GetReason(), st.GetCode())
	}
	return nil
}

// milvusNotLoadedCode is the status code of "collection not loaded", which
// a restarted server answers until it has loaded the collection again.
const milvusNotLoadedCode = 101

// notLoaded reports the error intercept makes of that status.
func notLoaded(err error) bool {
	var s interface{ GRPCStatus() *status.Status }
	return errors.As(err, &s) && s.GRPCStatus().Code() == codes.FailedPrecondition &&
		strings.Contains(s.GRPCStatus().Message(), fmt.Sprintf("(code %d)", milvusNotLoadedCode))
}

// transientStatus reports a server status that a later try may not get:
// the server flags it retriable, or it says that the server, a node or the
// collection's shards are not ready yet, as they are while a restarted
// server recovers.
func transientStatus(st *commonpb.Status) bool {
	if st.GetRetriable() {
		return true
	}
	switch st.GetCode() {
	case 1, 2, 4, 8, // service not ready, unavailable, request or rate limit
		103, 202, // collection or partition not fully loaded
		401, 503, // replica or channel not available
		901, 902, 905: // node not found, offline, not available
		return true
	}
	// The legacy ErrorCode field, deprecated, is not read: the servers this
	// client supports (2.3 and newer) set Code on every error they build,
	// and keep ErrorCode only for clients older than Code.
	return false
}

// transient reports an error worth retrying: the server unreachable,
// overloaded, not ready, or silent on a read for Config.ReadTimeout.
func transient(err error) bool {
	if errors.Is(err, errReadTimeout) {
		return true
	}
	var s interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &s) {
		return false
	}
	switch s.GRPCStatus().Code() {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

// consistencyLevel maps a configured level to the SDK's.
func consistencyLevel(c Consistency) entity.ConsistencyLevel {
	switch c {
	case Strong:
		return entity.ClStrong
	case Bounded:
		return entity.ClBounded
	case Eventually:
		return entity.ClEventually
	default:
		return entity.ClSession
	}
}

// prepare creates the collection and its index when missing, checks an
// existing one, and loads it.
func (m *Index) prepare(ctx context.Context) error {
	name := m.cfg.Collection
	var exists bool
	if err := m.retry.do(ctx, "has collection "+name, func(ctx context.Context) (err error) {
		exists, err = m.cl.HasCollection(ctx, name)
		return err
	}); err != nil {
		return err
	}
	created := false
	if !exists {
		err := m.retry.do(ctx, "create collection "+name, func(ctx context.Context) error {
			return m.cl.CreateCollection(ctx, m.schema(), 1, client.WithConsistencyLevel(m.consistency))
		})
		if err != nil {
			// Another client may have created it meanwhile; the checks
			// below judge what is there.
			if has, herr := m.cl.HasCollection(ctx, name); herr != nil || !has {
				return err
			}
		} else {
			created = true
		}
	}
	var coll *entity.Collection
	if err := m.retry.do(ctx, "describe collection "+name, func(ctx context.Context) (err error) {
		coll, err = m.cl.DescribeCollection(ctx, name)
		return err
	}); err != nil {
		return err
	}
	if err := m.checkSchema(coll.Schema); err != nil {
		return err
	}
	if err := m.ensureIndex(ctx, created); err != nil {
		return err
	}
	return m.retry.do(ctx, "load collection "+name, func(ctx context.Context) error {
		return m.cl.LoadCollection(ctx, name, false)
	})
}

// schema is the collection schema for m's configuration.
func (m *Index) schema() *entity.Schema {
	s := entity.NewSchema().WithName(m.cfg.Collection).
		WithDescription("hmpps products: vectors and filterable metadata").
		WithAutoID(false).
		WithDynamicFieldEnabled(false).
		WithField(entity.NewField().WithName(idField).WithDataType(entity.FieldTypeVarChar).
			WithMaxLength(MaxLength).WithIsPrimaryKey(true)).
		WithField(entity.NewField().WithName(vectorField).WithDataType(entity.FieldTypeFloatVector).
			WithDim(int64(m.cfg.Dimension)))
	for _, c := range m.columns {
		s.WithField(entity.NewField().WithName(c).WithDataType(entity.FieldTypeVarChar).WithMaxLength(MaxLength))
	}
	if m.cfg.Catalog {
		s.WithField(entity.NewField().WithName(docField).WithDataType(entity.FieldTypeVarChar).WithMaxLength(MaxLength)).
			WithField(entity.NewField().WithName(writtenField).WithDataType(entity.FieldTypeInt64)).
			WithField(entity.NewField().WithName(deletedField).WithDataType(entity.FieldTypeBool)).
			WithField(entity.NewField().WithName(bucketField).WithDataType(entity.FieldTypeInt64))
	}
	return s.WithField(entity.NewField().WithName(metadataField).WithDataType(entity.FieldTypeJSON))
}

// checkSchema refuses a collection whose fields differ from the ones m
// writes: the server would reject upserts into it, or search other data.
func (m *Index) checkSchema(s *entity.Schema) error {
	incompatible := func(format string, args ...any) error {
		return fmt.Errorf("%w: collection %q: %s", ErrIncompatibleCollection, m.cfg.Collection, fmt.Sprintf(format, args...))
	}
	want := map[string]entity.FieldType{
		idField:       entity.FieldTypeVarChar,
		vectorField:   entity.FieldTypeFloatVector,
		metadataField: entity.FieldTypeJSON,
	}
	for _, c := range m.columns {
		want[c] = entity.FieldTypeVarChar
	}
	if m.cfg.Catalog {
		want[docField] = entity.FieldTypeVarChar
		want[writtenField] = entity.FieldTypeInt64
		want[deletedField] = entity.FieldTypeBool
		want[bucketField] = entity.FieldTypeInt64
	}
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if f.IsDynamic {
			continue
		}
		typ, ok := want[f.Name]
		switch {
		case !ok:
			return incompatible("it has field %q, which the configuration does not write", f.Name)
		case f.DataType != typ:
			return incompatible("field %q is %s, want %s", f.Name, f.DataType.Name(), typ.Name())
		case f.Name == idField && !f.PrimaryKey:
			return incompatible("field %q is not the primary key", f.Name)
		case f.Name == vectorField:
			dim, err := strconv.Atoi(f.TypeParams[entity.TypeParamDim])
			if err != nil {
				return incompatible("vector field has no dimension: %v", err)
			}
			if dim != m.cfg.Dimension {
				return fmt.Errorf("%w: %w: collection %q holds %d-dimensional vectors, the index is configured for %d",
					ErrIncompatibleCollection, retrieval.ErrDimensionMismatch, m.cfg.Collection, dim, m.cfg.Dimension)
			}
		}
		seen[f.Name] = true
	}
	for name := range want {
		if !seen[name] {
			return incompatible("it lacks field %q", name)
		}
	}
	return nil
}

// ensureIndex creates the vector index when the collection has none, and
// checks the metric of one it has.
func (m *Index) ensureIndex(ctx context.Context, created bool) error {
	name := m.cfg.Collection
	if !created {
		var idxs []entity.Index
		err := m.retry.do(ctx, "describe index of "+name, func(ctx context.Context) (err error) {
			idxs, err = m.cl.DescribeIndex(ctx, name, vectorField)
			return err
		})
		if err == nil && len(idxs) > 0 {
			params := idxs[0].Params()
			if got := params["metric_type"]; !strings.EqualFold(got, string(m.metric)) {
				return fmt.Errorf("%w: collection %q is indexed for metric %s, the index is configured for %s",
					ErrIncompatibleCollection, name, got, m.metric)
			}
			switch t := IndexType(strings.ToUpper(string(idxs[0].IndexType()))); t {
			case HNSW, Flat, IVFFlat:
				m.index = t
				return nil
			default:
				return fmt.Errorf("%w: collection %q has a %s index; this client searches %s, %s and %s indexes",
					ErrIncompatibleCollection, name, t, HNSW, Flat, IVFFlat)
			}
		}
		if errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
			return err
		}
		// Any other error means no index (the message differs between
		// server versions); creating one tells for sure.
	}
	var idx entity.Index
	var err error
	switch m.cfg.Index {
	case Flat:
		idx, err = entity.NewIndexFlat(m.metric)
	case IVFFlat:
		idx, err = entity.NewIndexIvfFlat(m.metric, m.cfg.IVFNList)
	default:
		idx, err = entity.NewIndexHNSW(m.metric, m.cfg.HNSWM, m.cfg.HNSWEfConstruction)
	}
	if err != nil {
		return fmt.Errorf("milvus: %s index: %w", m.cfg.Index, err)
	}
	return m.retry.do(ctx, "create index on "+name, func(ctx context.Context) error {
		return m.cl.CreateIndex(ctx, name, vectorField, idx, false)
	})
}

// Dimension returns the length every vector must have.
func (m *Index) Dimension() int { return m.cfg.Dimension }

// Metric returns how Search scores.
func (m *Index) Metric() retrieval.Metric { return m.cfg.Metric }

// call runs one SDK call under the retry policy; a call that Close cut
// short reports retrieval.ErrClosed. When the server says the collection is not
// loaded (a restarted server reloads it in the background), call loads it,
// waiting for that, and tries once more.
func (m *Index) call(ctx context.Context, op string, fn func(context.Context) error) error {
	err := m.retry.do(ctx, op, fn)
	if err != nil && notLoaded(err) {
		lerr := m.retry.do(ctx, "load collection "+m.cfg.Collection, func(ctx context.Context) error {
			return m.cl.LoadCollection(ctx, m.cfg.Collection, false)
		})
		if lerr == nil {
			err = m.retry.do(ctx, op, fn)
		}
	}
	if err != nil && m.closed.Load() {
		return fmt.Errorf("milvus: %s: %w", op, retrieval.ErrClosed)
	}
	return err
}

// entityColumns returns b as the SDK's columns, in schema order; written
// stamps the rows of a catalog collection.
func (m *Index) entityColumns(b *rowBatch, written uint64) []entity.Column {
	cols := []entity.Column{
		entity.NewColumnVarChar(idField, b.ids),
		entity.NewColumnFloatVector(vectorField, m.cfg.Dimension, b.vectors),
	}
	for i, c := range m.columns {
		cols = append(cols, entity.NewColumnVarChar(c, b.columns[i]))
	}
	if m.cfg.Catalog {
		stamps := make([]int64, len(b.ids))
		for i := range stamps {
			stamps[i] = int64(written)
		}
		cols = append(cols, entity.NewColumnVarChar(docField, b.docs), entity.NewColumnInt64(writtenField, stamps),
			entity.NewColumnBool(deletedField, b.deleted), entity.NewColumnInt64(bucketField, b.buckets))
	}
	return append(cols, entity.NewColumnJSONBytes(metadataField, b.json))
}

// Upsert inserts the records, replacing any with the same ID. The whole
// batch is validated first, so a bad record writes nothing; it is then sent
// in requests of at most Config.BatchSize records and 16 MiB. Under
// retrieval.Cosine vectors are normalized before they are stored.
func (m *Index) Upsert(ctx context.Context, records ...retrieval.Record) error {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if m.cfg.Catalog {
		return fmt.Errorf("milvus: upsert into catalog collection %q: write documents with UpsertDocuments", m.cfg.Collection)
	}
	batches, err := splitBatches(records, nil, m.cfg, m.columns)
	if err != nil {
		return err
	}
	return m.upsertBatches(ctx, batches, len(records))
}

// upsertBatches sends the batches of a write of n records, in order.
func (m *Index) upsertBatches(ctx context.Context, batches []*rowBatch, n int) error {
	written := 0
	for _, b := range batches {
		if err := m.sendBatch(ctx, b); err != nil {
			if written > 0 {
				return fmt.Errorf("%w (the first %d of %d records were written)", err, written, n)
			}
			return err
		}
		written += len(b.ids)
	}
	return nil
}

// readOptions returns the consistency of a read. Under Session it waits
// for this index's last write (delete included), which the SDK's own
// session tracking cannot do for deletes.
func (m *Index) readOptions() []client.SearchQueryOptionFunc {
	switch {
	case m.consistency != entity.ClSession:
		return []client.SearchQueryOptionFunc{client.WithSearchQueryConsistencyLevel(m.consistency)}
	case m.strongReads.Load():
		return []client.SearchQueryOptionFunc{client.WithSearchQueryConsistencyLevel(entity.ClStrong)}
	}
	return []client.SearchQueryOptionFunc{
		client.WithSearchQueryConsistencyLevel(entity.ClCustomized),
		client.WithGuaranteeTimestamp(max(m.lastWrite.Load(), client.EventuallyTimestamp)),
	}
}

// fenceDelete makes later Session reads see a delete: it takes a fresh
// timestamp from the server, later than the delete.
func (m *Index) fenceDelete(ctx context.Context) {
	g, ok := m.cl.(*client.GrpcClient)
	if !ok {
		m.strongReads.Store(true)
		return
	}
	err := m.call(ctx, "timestamp", func(ctx context.Context) error {
		resp, err := g.Service.AllocTimestamp(ctx, &milvuspb.AllocTimestampRequest{})
		if err == nil && resp.GetTimestamp() == 0 {
			err = fmt.Errorf("no timestamp: %s", resp.GetStatus().GetReason())
		}
		if err == nil {
			m.observeWrite(resp.GetTimestamp())
		}
		return err
	})
	if err != nil {
		m.strongReads.Store(true)
	}
}

// Delete removes the records with these IDs; unknown IDs are ignored.
func (m *Index) Delete(ctx context.Context, ids ...string) error {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if m.cfg.Catalog {
		return m.upsertBatches(ctx, tombstones(storableIDs(ids), m.cfg, m.columns), len(ids))
	}
	for chunk := range slices.Chunk(storableIDs(ids), m.cfg.BatchSize) {
		expr := idsExpr(chunk)
		err := m.call(ctx, "delete from "+m.cfg.Collection, func(ctx context.Context) error {
			return m.cl.Delete(ctx, m.cfg.Collection, "", expr)
		})
		// Fenced even when it failed: the server may have applied it.
		m.fenceDelete(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// Get returns the records with these IDs, in the order asked; an unknown ID
// fails the call with an error wrapping retrieval.ErrNotFound. Under retrieval.Cosine the
// vectors are the stored, normalized ones.
func (m *Index) Get(ctx context.Context, ids ...string) ([]retrieval.Record, error) {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	found := make(map[string]retrieval.Record, len(ids))
	output := append([]string{idField, vectorField, metadataField}, m.columns...)
	for chunk := range slices.Chunk(storableIDs(ids), m.cfg.BatchSize) {
		var rs client.ResultSet
		if err := m.read(ctx, "get from "+m.cfg.Collection, func(ctx context.Context) (err error) {
			rs, err = m.cl.Query(ctx, m.cfg.Collection, nil, m.live(idsExpr(chunk)), output,
				m.readOptions()...)
			return err
		}); err != nil {
			return nil, err
		}
		if err := m.collect(rs, found); err != nil {
			return nil, err
		}
	}
	return orderRecords(ids, found)
}

// collect adds the records of a query result to found.
func (m *Index) collect(rs client.ResultSet, found map[string]retrieval.Record) error {
	bad := func(field string) error {
		return fmt.Errorf("milvus: get: result field %q is missing or of an unexpected type", field)
	}
	idCol, ok := rs.GetColumn(idField).(*entity.ColumnVarChar)
	if !ok {
		return bad(idField)
	}
	vecCol, ok := rs.GetColumn(vectorField).(*entity.ColumnFloatVector)
	if !ok {
		return bad(vectorField)
	}
	jsonCol, ok := rs.GetColumn(metadataField).(*entity.ColumnJSONBytes)
	if !ok {
		return bad(metadataField)
	}
	cols := make([][]string, len(m.columns))
	for i, c := range m.columns {
		col, ok := rs.GetColumn(c).(*entity.ColumnVarChar)
		if !ok {
			return bad(c)
		}
		cols[i] = col.Data()
	}
	ids, vecs, docs := idCol.Data(), vecCol.Data(), jsonCol.Data()
	if len(vecs) != len(ids) || len(docs) != len(ids) {
		return errors.New("milvus: get: result fields differ in length")
	}
	for i, id := range ids {
		row := storedRow{columns: make([]string, len(cols)), json: docs[i]}
		for c := range cols {
			if i >= len(cols[c]) {
				return errors.New("milvus: get: result fields differ in length")
			}
			row.columns[c] = cols[c][i]
		}
		md, err := joinMetadata(row, m.columns)
		if err != nil {
			return fmt.Errorf("milvus: get %q: %w", id, err)
		}
		found[id] = retrieval.Record{ID: id, Vector: vecs[i], Metadata: md}
	}
	return nil
}

// Search returns up to k records that pass filter, most similar to query
// first, ties broken by ascending ID. k must be positive; it is capped at
// MaxTopK. Under retrieval.Cosine the query is normalized (into a copy), so a
// zero query is an error. Scores are Milvus's: the cosine similarity or the
// inner product, higher is more similar.
func (m *Index) Search(ctx context.Context, query []float32, k int, filter retrieval.Filter) ([]retrieval.Hit, error) {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	q, expr, err := prepareSearch(query, k, filter, m.cfg, m.columns)
	if err != nil {
		return nil, err
	}
	return topKWithTies(min(k, MaxTopK), MaxTopK, func(limit int) ([]retrieval.Hit, error) {
		return m.search(ctx, q, limit, expr)
	})
}

// search runs one Milvus search for limit hits.
func (m *Index) search(ctx context.Context, q []float32, limit int, expr string) ([]retrieval.Hit, error) {
	var sp entity.SearchParam
	var err error
	switch m.index {
	case Flat:
		sp, err = entity.NewIndexFlatSearchParam()
	case IVFFlat:
		sp, err = entity.NewIndexIvfFlatSearchParam(m.cfg.SearchNProbe)
	default:
		sp, err = entity.NewIndexHNSWSearchParam(max(m.cfg.SearchEf, limit))
	}
	if err != nil {
		return nil, fmt.Errorf("milvus: search parameters: %w", err)
	}
	var res []client.SearchResult
	if err := m.read(ctx, "search "+m.cfg.Collection, func(ctx context.Context) (err error) {
		res, err = m.cl.Search(ctx, m.cfg.Collection, nil, m.live(expr), nil, []entity.Vector{entity.FloatVector(q)},
			vectorField, m.metric, limit, sp, m.readOptions()...)
		return err
	}); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, nil
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("milvus: search result: %w", res[0].Err)
	}
	if res[0].ResultCount == 0 {
		return nil, nil
	}
	idCol, ok := res[0].IDs.(*entity.ColumnVarChar)
	if !ok || idCol.Len() != len(res[0].Scores) {
		return nil, errors.New("milvus: search result: unexpected id column")
	}
	hits := make([]retrieval.Hit, idCol.Len())
	for i, id := range idCol.Data() {
		hits[i] = retrieval.Hit{ID: id, Score: res[0].Scores[i]}
	}
	return hits, nil
}

// Len returns the number of records, as the server counts them. Milvus 2.3
// may briefly count a record twice while it replaces a segment (after a
// flush or a compaction); searches and gets are not affected.
func (m *Index) Len(ctx context.Context) (int, error) {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	var rs client.ResultSet
	if err := m.read(ctx, "count "+m.cfg.Collection, func(ctx context.Context) (err error) {
		rs, err = m.cl.Query(ctx, m.cfg.Collection, nil, m.live(""), []string{"count(*)"},
			m.readOptions()...)
		return err
	}); err != nil {
		return 0, err
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() != 1 {
		return 0, errors.New("milvus: count: unexpected result")
	}
	return int(col.Data()[0]), nil
}

// Flush makes the server persist what was written and seal the segments
// being filled, then waits until the vector index covers every row. Milvus
// does this by itself over time; call Flush after a bulk load, so that
// searches use the index at once instead of scanning unindexed rows.
func (m *Index) Flush(ctx context.Context) error {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := m.call(ctx, "flush "+m.cfg.Collection, func(ctx context.Context) error {
		return m.cl.Flush(ctx, m.cfg.Collection, false)
	}); err != nil {
		return err
	}
	for {
		var total, indexed int64
		if err := m.call(ctx, "index progress of "+m.cfg.Collection, func(ctx context.Context) (err error) {
			total, indexed, err = m.cl.GetIndexBuildProgress(ctx, m.cfg.Collection, vectorField)
			return err
		}); err != nil {
			return err
		}
		if indexed >= total {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("milvus: flush: %w (%d of %d rows indexed)", ctx.Err(), indexed, total)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Drop deletes the collection and every record in it from the server, then
// closes the index. It is the only call that removes a collection, and
// only on purpose: New never drops one, not even an incompatible one.
func (m *Index) Drop(ctx context.Context) error {
	ctx, end, err := m.begin(ctx)
	if err != nil {
		return err
	}
	err = m.call(ctx, "drop collection "+m.cfg.Collection, func(ctx context.Context) error {
		return m.cl.DropCollection(ctx, m.cfg.Collection)
	})
	end()
	if err != nil {
		return err
	}
	return m.Close()
}

// Close ends the calls in flight, waits for them, and closes the
// connection; the collection stays on the server. Every later call, Close
// included, fails with retrieval.ErrClosed.
func (m *Index) Close() error {
	if !m.closed.CompareAndSwap(false, true) {
		return retrieval.ErrClosed
	}
	m.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.cl.Close(); err != nil {
		return fmt.Errorf("milvus: close: %w", err)
	}
	return nil
}
