package milvus

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"hmpps/retrieval"
)

// How a record is laid out in a Milvus row.
//
// Each column key (brand, category, Config.FilterFields) has a VarChar
// field holding its value, or "" when the record lacks the key. Every other
// key lives in the JSON field. So that a missing key and an empty value
// differ (a missing key never matches a condition), a column key whose value
// is "" is also written into the JSON field, as a presence marker.
//
// JSON keys are written as they are when they look like identifiers and as
// "_x" followed by their hex bytes otherwise, so that a key never needs
// escaping inside a JSON path and the two forms cannot collide.

// plainKey is a JSON key stored as it is.
var plainKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// encodeJSONKey returns the JSON key under which metadata key k is stored.
func encodeJSONKey(k string) string {
	if plainKey.MatchString(k) {
		return k
	}
	return "_x" + hex.EncodeToString([]byte(k))
}

// decodeJSONKey reverses encodeJSONKey.
func decodeJSONKey(k string) (string, error) {
	if rest, ok := strings.CutPrefix(k, "_x"); ok {
		b, err := hex.DecodeString(rest)
		if err != nil {
			return "", fmt.Errorf("milvus: bad metadata key %q: %w", k, err)
		}
		return string(b), nil
	}
	return k, nil
}

// storedRow is a record's metadata as a Milvus row stores it.
type storedRow struct {
	// columns[i] is the value of the i-th column key, "" when missing.
	columns []string
	// json is the JSON object of the other keys and presence markers.
	json []byte
}

// splitMetadata lays md out over columns and the JSON field.
func splitMetadata(md map[string]string, columns []string) (storedRow, error) {
	row := storedRow{columns: make([]string, len(columns))}
	rest := make(map[string]string, len(md))
	isColumn := make(map[string]int, len(columns))
	for i, c := range columns {
		isColumn[c] = i
	}
	for k, v := range md {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return row, fmt.Errorf("%w: metadata field %.32q", ErrNotUTF8, k)
		}
		i, ok := isColumn[k]
		if !ok || v == "" {
			rest[encodeJSONKey(k)] = v
		}
		if ok {
			if len(v) > MaxLength {
				return row, fmt.Errorf("%w: metadata field %q has %d bytes, a Milvus field holds %d",
					retrieval.ErrRecordTooLarge, k, len(v), MaxLength)
			}
			row.columns[i] = v
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rest); err != nil {
		return row, fmt.Errorf("milvus: encode metadata: %w", err)
	}
	row.json = []byte(strings.TrimSuffix(b.String(), "\n"))
	return row, nil
}

// joinMetadata reverses splitMetadata; it returns nil for no metadata, as
// the embedded index does.
func joinMetadata(row storedRow, columns []string) (map[string]string, error) {
	var rest map[string]string
	if len(row.json) > 0 {
		if err := json.Unmarshal(row.json, &rest); err != nil {
			return nil, fmt.Errorf("milvus: decode metadata: %w", err)
		}
	}
	md := make(map[string]string, len(rest)+len(columns))
	for k, v := range rest {
		key, err := decodeJSONKey(k)
		if err != nil {
			return nil, err
		}
		md[key] = v
	}
	for i, c := range columns {
		if i < len(row.columns) && row.columns[i] != "" {
			md[c] = row.columns[i]
		}
	}
	if len(md) == 0 {
		return nil, nil
	}
	return md, nil
}

// maxDocBytes is the largest document a catalog row holds: a VarChar
// field holds MaxLength bytes, and base64 makes four of every three.
const maxDocBytes = MaxLength / 4 * 3

// buckets is how many ranges Scan can read a catalog collection by: a row's
// bucket field is a hash of its ID below it.
const buckets = 1024

// bucketOf returns the bucket of id (FNV-1a, modulo buckets).
func bucketOf(id string) int64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int64(h.Sum32() % buckets)
}

// tombstones returns the batches that mark ids deleted in a catalog
// collection: rows with a zero vector, no metadata and no document.
func tombstones(ids []string, cfg Config, columns []string) []*rowBatch {
	var out []*rowBatch
	for chunk := range slices.Chunk(ids, cfg.BatchSize) {
		b := &rowBatch{columns: make([][]string, len(columns))}
		for _, id := range chunk {
			b.ids = append(b.ids, id)
			b.vectors = append(b.vectors, make([]float32, cfg.Dimension))
			for c := range columns {
				b.columns[c] = append(b.columns[c], "")
			}
			b.json = append(b.json, []byte("{}"))
			b.docs = append(b.docs, "")
			b.deleted = append(b.deleted, true)
			b.buckets = append(b.buckets, bucketOf(id))
		}
		out = append(out, b)
	}
	return out
}

// maxUpsertBytes bounds the payload of one upsert request, well under the
// 64 MiB a Milvus proxy accepts by default.
const maxUpsertBytes = 16 << 20

// rowBatch is a run of validated records, column by column.
type rowBatch struct {
	ids     []string
	vectors [][]float32
	columns [][]string
	json    [][]byte
	bytes   int
	// docs, deleted and buckets are the catalog fields (Config.Catalog),
	// nil otherwise; the written field is stamped when the batch is sent.
	docs    []string
	deleted []bool
	buckets []int64
}

// splitBatches validates records as retrieval.Embedded.Upsert does, and for
// Milvus's limits, and splits them into requests of at most cfg.BatchSize
// records and maxUpsertBytes. Under retrieval.Cosine the vectors are normalized
// copies.
//
// docs, when not nil, are the records' documents (Config.Catalog), each
// stored base64-encoded in a VarChar field, so at most maxDocBytes.
func splitBatches(records []retrieval.Record, docs [][]byte, cfg Config, columns []string) ([]*rowBatch, error) {
	if docs != nil && len(docs) != len(records) {
		return nil, fmt.Errorf("milvus: upsert: %d documents for %d records", len(docs), len(records))
	}
	var out []*rowBatch
	var cur *rowBatch
	seen := make(map[string]struct{}, len(records))
	for i, r := range records {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("milvus: upsert record %d: %w", i, retrieval.ErrEmptyID)
		case !utf8.ValidString(r.ID):
			return nil, fmt.Errorf("milvus: upsert %q: %w: id", r.ID, ErrNotUTF8)
		case len(r.ID) > MaxLength:
			return nil, fmt.Errorf("milvus: upsert %.32q: %w: id of %d bytes exceeds %d", r.ID, retrieval.ErrRecordTooLarge, len(r.ID), MaxLength)
		}
		if _, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("milvus: upsert %q: %w", r.ID, retrieval.ErrDuplicateID)
		}
		seen[r.ID] = struct{}{}
		if err := retrieval.CheckRecord(r); err != nil {
			return nil, fmt.Errorf("milvus: upsert %q: %w", r.ID, err)
		}
		if err := retrieval.CheckVector(r.Vector, cfg.Dimension); err != nil {
			return nil, fmt.Errorf("milvus: upsert %q: %w", r.ID, err)
		}
		vec := slices.Clone(r.Vector)
		if cfg.Metric == retrieval.Cosine {
			if err := retrieval.Normalize(vec); err != nil {
				return nil, fmt.Errorf("milvus: upsert %q: %w", r.ID, err)
			}
		}
		row, err := splitMetadata(r.Metadata, columns)
		if err != nil {
			return nil, fmt.Errorf("milvus: upsert %q: %w", r.ID, err)
		}
		var doc string
		if docs != nil {
			if len(docs[i]) > maxDocBytes {
				return nil, fmt.Errorf("milvus: upsert %q: %w: document of %d bytes exceeds %d", r.ID, retrieval.ErrRecordTooLarge, len(docs[i]), maxDocBytes)
			}
			doc = base64.StdEncoding.EncodeToString(docs[i])
		}
		size := len(r.ID) + 4*len(vec) + len(row.json) + len(doc)
		for _, v := range row.columns {
			size += len(v)
		}
		if cur == nil || len(cur.ids) >= cfg.BatchSize || (len(cur.ids) > 0 && cur.bytes+size > maxUpsertBytes) {
			cur = &rowBatch{columns: make([][]string, len(columns))}
			out = append(out, cur)
		}
		cur.ids = append(cur.ids, r.ID)
		cur.vectors = append(cur.vectors, vec)
		for c, v := range row.columns {
			cur.columns[c] = append(cur.columns[c], v)
		}
		cur.json = append(cur.json, row.json)
		if docs != nil {
			cur.docs = append(cur.docs, doc)
			cur.deleted = append(cur.deleted, false)
			cur.buckets = append(cur.buckets, bucketOf(r.ID))
		}
		cur.bytes += size
	}
	return out, nil
}

// topKWithTies returns the k best hits, ties broken by ascending ID, from
// a search that returns up to limit hits best first but orders equal
// scores arbitrarily, as Milvus does. It asks for one hit beyond k, which
// tells whether the k-th place is tied, and while the last hit ties with
// the k-th, for twice as many, up to maxLimit, so that the whole tie is
// seen before it is broken.
func topKWithTies(k, maxLimit int, fetch func(limit int) ([]retrieval.Hit, error)) ([]retrieval.Hit, error) {
	for limit := min(k+1, maxLimit); ; limit = min(2*limit, maxLimit) {
		hits, err := fetch(limit)
		if err != nil {
			return nil, err
		}
		if len(hits) < limit || len(hits) <= k || limit == maxLimit || hits[len(hits)-1].Score != hits[k-1].Score {
			slices.SortFunc(hits, func(a, b retrieval.Hit) int {
				if c := cmp.Compare(b.Score, a.Score); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			if len(hits) == 0 {
				return nil, nil
			}
			return hits[:min(k, len(hits))], nil
		}
	}
}

// storableIDs returns ids without repeats and without the IDs Milvus
// cannot hold (empty or not UTF-8), which therefore are not there.
func storableIDs(ids []string) []string {
	return slices.DeleteFunc(dedupe(ids), func(id string) bool { return id == "" || !utf8.ValidString(id) })
}

// orderRecords returns the records of ids, in their order, from what a
// query found; an ID found twice is returned as two copies.
func orderRecords(ids []string, found map[string]retrieval.Record) ([]retrieval.Record, error) {
	out := make([]retrieval.Record, len(ids))
	for i, id := range ids {
		r, ok := found[id]
		if !ok {
			return nil, fmt.Errorf("milvus: get %q: %w", id, retrieval.ErrNotFound)
		}
		if slices.Contains(ids[:i], id) {
			r.Vector = slices.Clone(r.Vector)
			r.Metadata = maps.Clone(r.Metadata)
		}
		out[i] = r
	}
	return out, nil
}

// prepareSearch checks a search's arguments as retrieval.Embedded.Search does and
// returns the query to send (normalized under retrieval.Cosine) and the filter as an
// expression.
func prepareSearch(query []float32, k int, filter retrieval.Filter, cfg Config, columns []string) ([]float32, string, error) {
	if k <= 0 {
		return nil, "", fmt.Errorf("milvus: search: k must be positive, got %d", k)
	}
	if err := retrieval.CheckVector(query, cfg.Dimension); err != nil {
		return nil, "", fmt.Errorf("milvus: search: %w", err)
	}
	expr, err := filterExpr(filter, columns)
	if err != nil {
		return nil, "", fmt.Errorf("milvus: search: %w", err)
	}
	q := slices.Clone(query)
	if cfg.Metric == retrieval.Cosine {
		if err := retrieval.Normalize(q); err != nil {
			return nil, "", fmt.Errorf("milvus: search: %w", err)
		}
	}
	return q, expr, nil
}
