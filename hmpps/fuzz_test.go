package hmpps

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"strings"
	"testing"

	"hmpps/retrieval"
)

// FuzzSearch throws arbitrary requests at an engine: each must either
// succeed with a well-formed response or fail with one of the documented
// errors, never panic; a query over the length limit always fails with
// ErrRequestTooLarge.
func FuzzSearch(f *testing.F) {
	e, err := New()
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Upsert(context.Background(), testCatalog()...); err != nil {
		f.Fatal(err)
	}
	f.Add("waterproof boots", "hist-wallet,hist-belt", "", "brand", "Heritage Co", 3, 2)
	f.Add("", "", "boot-trail-1,boot-trail-1", "", "", 0, 0)
	f.Add("\xff\xfe", "nope", "boot-trail-1", "category", "Shoes", -1, 100)
	f.Add(strings.Repeat("boots ", DefaultMaxQueryBytes/6+1), "hist-belt", "", "", "", 0, 0)
	f.Fuzz(func(t *testing.T, query, history, candidates, field, value string, topN, k int) {
		req := Request{Query: query, TopN: topN, HistoryK: k}
		if history != "" {
			req.HistoryIDs = strings.Split(history, ",")
		}
		if candidates != "" {
			req.CandidateIDs = strings.Split(candidates, ",")
		}
		if field != "" || value != "" {
			req.Filter = retrieval.Filter{retrieval.In(field, value)}
		}
		resp, err := e.Search(context.Background(), req)
		if len(query) > DefaultMaxQueryBytes && !errors.Is(err, ErrRequestTooLarge) {
			t.Fatalf("a %d-byte query gave %v, want ErrRequestTooLarge", len(query), err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrNotFound) && !errors.Is(err, retrieval.ErrInvalidFilter) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		want := topN
		if want == 0 {
			want = DefaultTopN
		}
		if len(resp.Results) > want {
			t.Fatalf("%d results for TopN %d", len(resp.Results), topN)
		}
		if resp.Personalized != (len(resp.History) > 0) {
			t.Fatalf("Personalized %v with %d kept history items", resp.Personalized, len(resp.History))
		}
	})
}

// FuzzReadModel reads arbitrary model files: each must either fail with
// ErrInvalidModel or give a model that scores a search without panicking
// (and without NaN, unless its weights are so large that they overflow). With
// frame set, the input is the JSON payload, framed with a valid header and
// checksum, so the fuzzer reaches the payload's validation.
func FuzzReadModel(f *testing.F) {
	e, err := New()
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Upsert(context.Background(), testCatalog()...); err != nil {
		f.Fatal(err)
	}
	m, err := Train(context.Background(), e, segmentExamples(6), TrainOptions{Epochs: 2, Negatives: 3})
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	payload, err := json.Marshal(m.doc())
	if err != nil {
		f.Fatal(err)
	}
	qvec, err := e.queryVector(context.Background(), "waterproof boots", nil)
	if err != nil {
		f.Fatal(err)
	}
	hist, err := e.lookup("history", leatherFan)
	if err != nil {
		f.Fatal(err)
	}
	cands, err := e.lookup("candidates", []string{"boot-leather-1", "boot-trail-1", "hist-tent"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), false)
	f.Add(payload, true)
	f.Add([]byte(`{"weights":{"Cand":[1e308,1e308]}}`), true)
	f.Add([]byte("HMPPSMDL"), false)
	f.Fuzz(func(t *testing.T, data []byte, frame bool) {
		if frame {
			var b bytes.Buffer
			b.WriteString(modelMagic)
			binary.Write(&b, binary.LittleEndian, uint32(modelVersion))
			binary.Write(&b, binary.LittleEndian, uint32(len(data)))
			b.Write(data)
			binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), castagnoli))
			data = b.Bytes()
		}
		got, err := ReadModel(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if got.textDim != e.cfg.textEmbedder.Dimension() || got.imageDim != e.cfg.imageDim() {
			if _, err := New(WithModel(got)); !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("New with a model of other dimensions: %v", err)
			}
			return
		}
		// What a search with the model computes, on the engine above.
		l := e.learn(got, "waterproof boots", qvec, hist, cands, nil)
		for i, s := range l.scores {
			if math.IsNaN(s) && !hasHuge(got) {
				t.Fatalf("NaN score for candidate %d", i)
			}
		}
		l.keepAttended(hist, got.historyK())
	})
}

// hasHuge reports whether a model has a weight or scale so large that
// products of features and weights may overflow to infinities.
func hasHuge(m *Model) bool {
	for _, xs := range [][]float64{m.weights.Cand, m.weights.Pair, m.weights.Attn, m.scaler.CandMean, m.scaler.PairMean, m.scaler.HistMean} {
		for _, x := range xs {
			if math.Abs(x) > 1e100 {
				return true
			}
		}
	}
	for _, xs := range [][]float64{m.scaler.CandStd, m.scaler.PairStd, m.scaler.HistStd} {
		for _, x := range xs {
			if x < 1e-100 {
				return true
			}
		}
	}
	return false
}
