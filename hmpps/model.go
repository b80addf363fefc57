package hmpps

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"

	"hmpps/internal/cooccur"
	"hmpps/internal/ltr"
	"hmpps/retrieval"
)

// ErrInvalidModel reports a model file that is truncated, altered or of an
// unknown version, or a model that does not fit the engine it is given to.
var ErrInvalidModel = errors.New("hmpps: invalid model")

// Model is the paper's two training stages, learned from purchases by Train:
//
//   - Stage one is a query-aware history filter: each history item gets an
//     attention weight, a softmax over a learned weighted sum of its
//     features for the query (its cosine to the query, its lexical match,
//     the share of the query's words in its category path, its recency).
//     The HistoryK items of highest weight are the kept history that a
//     model reranker reads and Response.History reports.
//   - Stage two is a learned ranker: a linear score over candidate features
//     (lexical score, query cosine, category match with the query, a
//     popularity prior, similarity to the history) and over
//     (candidate, history item) features summed with stage one's weights.
//
// Both are trained together, stage one through stage two's loss. Give a
// Model to an engine with WithModel. A Model is immutable once trained and
// safe for concurrent use; the exported switches are read when the engine
// is built.
type Model struct {
	// DisableStageOne makes the engine keep history with its configured
	// HistoryFilter instead of the learned attention, and makes stage two
	// weigh every history item the same. Train sets it when trained with
	// TrainOptions.DisableStageOne (the ablation of stage one); setting it
	// on a model trained with stage one changes what stage two was
	// trained on.
	DisableStageOne bool
	// DisableStageTwo makes the engine rank with its configured reranker
	// over the kept history of the learned stage one, instead of the
	// learned score: the ablation of stage two.
	DisableStageTwo bool
	// HistoryK is how many history items the learned stage one keeps for
	// the reranker and the response. If zero, retrieval.DefaultHistoryK.
	HistoryK int

	// Neighbors is how many products bought together with the history a
	// search adds to the candidates it retrieves, when the retrieval lacks
	// them: the third candidate source (see docs/architecture.md). If
	// zero, DefaultNeighbors; negative adds none, the ablation of
	// collaborative retrieval. Requests that name their candidates get
	// none.
	Neighbors int

	weights ltr.Weights
	scaler  ltr.Scaler
	// popularity is each product's number of buyers in the training
	// purchases, the prior of the "popularity" feature.
	popularity map[string]float64
	// collab is what the model learned from who bought what together; nil
	// in a model of version 1, which reads no co-purchases.
	collab *collaborative
	// cats caches the words of the category paths the features read.
	cats *categoryCache
	// textDim and imageDim are the engine's when trained: the features
	// split fused vectors at textDim, and cosines mean nothing across
	// embedders.
	textDim, imageDim int
	curve             []TrainingEpoch
	best              int
	stats             TrainingSummary
	// verdict is the calibration of a model reranker's verdicts (see
	// Calibrate); nil for a model that was not calibrated.
	verdict *verdict
}

// TrainingEpoch is one point of a model's training curve.
type TrainingEpoch struct {
	// Epoch counts passes over the training examples from 1.
	Epoch int `json:"epoch"`
	// Loss is the mean listwise softmax cross-entropy of the bought product
	// over the training examples, without the L2 penalty.
	Loss float64 `json:"loss"`
	// ValidationNDCG10 is NDCG@10 on the validation examples after the
	// epoch; NaN when there were none (it is stored as null).
	ValidationNDCG10 float64 `json:"-"`
}

// TrainingSummary says what a model was trained on and how long it took.
type TrainingSummary struct {
	// Examples and ValidationExamples count the lists trained and
	// validated on.
	Examples           int `json:"examples"`
	ValidationExamples int `json:"validation_examples"`
	// Negatives is the mean number of negatives per training example.
	Negatives float64 `json:"negatives"`
	// Took is the wall time of Train.
	Took time.Duration `json:"took"`
	// Refit is true when the weights were trained again on the examples
	// and the validation purchases together (TrainOptions.Refit): then
	// Examples counts both, and the curve is the first training's.
	Refit bool `json:"refit,omitempty"`
}

// FeatureWeight is one learned weight, on a standardized feature (zero
// mean, unit variance over the training lists), so weights of one stage
// compare with each other.
type FeatureWeight struct {
	// Stage is 1 for the history filter, 2 for the ranker.
	Stage int `json:"stage"`
	// Name says what the feature measures.
	Name string `json:"name"`
	// Weight is the learned coefficient.
	Weight float64 `json:"weight"`
}

// clone returns a copy of m whose switches can change without changing m;
// the learned tables are shared, since nothing writes them after Train.
// It returns nil for nil.
func (m *Model) clone() *Model {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// Curve returns the training curve, one entry per epoch run.
func (m *Model) Curve() []TrainingEpoch { return append([]TrainingEpoch(nil), m.curve...) }

// BestEpoch returns the epoch (from 1) whose weights the model holds: the one
// with the best validation NDCG@10, or the last one without validation.
func (m *Model) BestEpoch() int { return m.best + 1 }

// Summary returns what the model was trained on.
func (m *Model) Summary() TrainingSummary { return m.stats }

// FeatureWeights returns every learned weight, stage one's first.
func (m *Model) FeatureWeights() []FeatureWeight {
	var out []FeatureWeight
	for i, n := range historyFeatures {
		out = append(out, FeatureWeight{Stage: 1, Name: n, Weight: m.weights.Attn[i]})
	}
	for i, n := range candidateFeatures {
		out = append(out, FeatureWeight{Stage: 2, Name: n, Weight: m.weights.Cand[i]})
	}
	for i, n := range pairFeatures {
		out = append(out, FeatureWeight{Stage: 2, Name: n, Weight: m.weights.Pair[i]})
	}
	return out
}

// HiddenUnits returns the number of hidden units of stage two's score: 0
// for a linear one.
func (m *Model) HiddenUnits() int { return len(m.weights.V) }

// historyK is the number of items the learned stage one keeps.
func (m *Model) historyK() int {
	if m.HistoryK > 0 {
		return m.HistoryK
	}
	return retrieval.DefaultHistoryK
}

// The model file: modelMagic, a uint32 version, a uint32 length and that
// many bytes of JSON (modelDoc), then a CRC-32C of everything before it.
const (
	modelMagic = "HMPPSMDL"
	// modelVersion 2 added the collaborative signal: its features, the
	// co-purchase table, the recent popularity and Neighbors. A file of
	// version 1 is read as a model whose new features weigh 0.
	modelVersion = 2
	// maxModelBytes bounds what ReadModel accepts: a model is a few
	// hundred weights and one count per product.
	maxModelBytes = 256 << 20
)

// modelDoc is the JSON payload of a model file.
type modelDoc struct {
	CandidateFeatures []string           `json:"candidate_features"`
	PairFeatures      []string           `json:"pair_features"`
	HistoryFeatures   []string           `json:"history_features"`
	Weights           ltr.Weights        `json:"weights"`
	Scaler            ltr.Scaler         `json:"scaler"`
	Popularity        map[string]float64 `json:"popularity"`
	// CoPurchase, Recency and Lateness are the collaborative signal
	// (version 2).
	CoPurchase      *cooccur.Table        `json:"co_purchase,omitempty"`
	Recency         map[string]float64    `json:"recency,omitempty"`
	Lateness        map[string][2]float64 `json:"lateness,omitempty"`
	Neighbors       int                   `json:"neighbors,omitempty"`
	TextDim         int                   `json:"text_dim"`
	ImageDim        int                   `json:"image_dim"`
	HistoryK        int                   `json:"history_k"`
	DisableStageOne bool                  `json:"disable_stage_one"`
	DisableStageTwo bool                  `json:"disable_stage_two"`
	Curve           []curvePoint          `json:"curve"`
	BestEpoch       int                   `json:"best_epoch"`
	Summary         TrainingSummary       `json:"summary"`
	// Verdict is the calibration, a part with its own version; absent
	// from models that were not calibrated.
	Verdict *verdictDoc `json:"verdict,omitempty"`
}

// curvePoint is a TrainingEpoch with its NaN validation as null.
type curvePoint struct {
	Epoch      int      `json:"epoch"`
	Loss       float64  `json:"loss"`
	Validation *float64 `json:"validation_ndcg10"`
}

// WriteTo writes the model as a standalone file: a magic string, the format
// version, the JSON of the weights, the feature names and standardization,
// the popularity counts, the training curve and summary, and a CRC-32C
// checksum. It implements io.WriterTo.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.marshal()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("hmpps: write model: %w", err)
	}
	return int64(n), nil
}

// marshal returns the model file's bytes.
func (m *Model) marshal() ([]byte, error) { return encodeModel(m.doc()) }

// doc returns the model as the file's payload.
func (m *Model) doc() modelDoc {
	doc := modelDoc{
		CandidateFeatures: candidateFeatures, PairFeatures: pairFeatures, HistoryFeatures: historyFeatures,
		Weights: m.weights, Scaler: m.scaler, Popularity: m.popularity, TextDim: m.textDim, ImageDim: m.imageDim,
		HistoryK: m.HistoryK, DisableStageOne: m.DisableStageOne, DisableStageTwo: m.DisableStageTwo,
		BestEpoch: m.best + 1, Summary: m.stats, Neighbors: m.Neighbors, Verdict: m.verdict.doc(),
	}
	if m.collab != nil {
		doc.CoPurchase, doc.Recency, doc.Lateness = m.collab.table, m.collab.recency, m.collab.lateness
	}
	for _, e := range m.curve {
		p := curvePoint{Epoch: e.Epoch, Loss: e.Loss}
		if !math.IsNaN(e.ValidationNDCG10) {
			v := e.ValidationNDCG10
			p.Validation = &v
		}
		doc.Curve = append(doc.Curve, p)
	}
	return doc
}

// encodeModel frames doc as a model file.
func encodeModel(doc modelDoc) ([]byte, error) {
	payload, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("hmpps: write model: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(modelMagic)
	binary.Write(&b, binary.LittleEndian, uint32(modelVersion))
	binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes(), nil
}

// ReadModel reads a model written by Model.WriteTo. A truncated or altered
// file, an unknown version, or a model whose features or weights do not fit
// this library fails with an error wrapping ErrInvalidModel.
func ReadModel(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("hmpps: read model: %w", err)
	}
	if len(data) > maxModelBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidModel, maxModelBytes)
	}
	return unmarshalModel(data)
}

func unmarshalModel(data []byte) (*Model, error) {
	head := len(modelMagic) + 8
	if len(data) < head+4 || string(data[:len(modelMagic)]) != modelMagic {
		return nil, fmt.Errorf("%w: not a model file or truncated", ErrInvalidModel)
	}
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(trailer) {
		return nil, fmt.Errorf("%w: checksum mismatch (truncated or altered)", ErrInvalidModel)
	}
	version := binary.LittleEndian.Uint32(body[len(modelMagic):])
	if version < 1 || version > modelVersion {
		return nil, fmt.Errorf("%w: version %d, this library reads 1 to %d", ErrInvalidModel, version, modelVersion)
	}
	if n := binary.LittleEndian.Uint32(body[len(modelMagic)+4:]); int64(n) != int64(len(body)-head) {
		return nil, fmt.Errorf("%w: payload of %d bytes, file holds %d", ErrInvalidModel, n, len(body)-head)
	}
	var doc modelDoc
	if err := json.Unmarshal(body[head:], &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidModel, err)
	}
	if version == 1 {
		if err := doc.upgrade(); err != nil {
			return nil, err
		}
	}
	if err := doc.validate(); err != nil {
		return nil, err
	}
	m := &Model{
		DisableStageOne: doc.DisableStageOne, DisableStageTwo: doc.DisableStageTwo, HistoryK: doc.HistoryK, Neighbors: doc.Neighbors,
		weights: doc.Weights, scaler: doc.Scaler, popularity: doc.Popularity, textDim: doc.TextDim, imageDim: doc.ImageDim,
		best: doc.BestEpoch - 1, stats: doc.Summary, cats: &categoryCache{},
	}
	if doc.CoPurchase != nil {
		m.collab = &collaborative{table: doc.CoPurchase, recency: doc.Recency, lateness: doc.Lateness}
	}
	if m.popularity == nil {
		m.popularity = map[string]float64{}
	}
	v, err := doc.Verdict.verdict()
	if err != nil {
		return nil, err
	}
	m.verdict = v
	for _, p := range doc.Curve {
		e := TrainingEpoch{Epoch: p.Epoch, Loss: p.Loss, ValidationNDCG10: math.NaN()}
		if p.Validation != nil {
			e.ValidationNDCG10 = *p.Validation
		}
		m.curve = append(m.curve, e)
	}
	return m, nil
}

// validate checks that a decoded model fits this library's features.
func (d *modelDoc) validate() error {
	if !slices.Equal(d.CandidateFeatures, candidateFeatures) || !slices.Equal(d.PairFeatures, pairFeatures) ||
		!slices.Equal(d.HistoryFeatures, historyFeatures) {
		return fmt.Errorf("%w: its features are not this library's", ErrInvalidModel)
	}
	w, s := d.Weights, d.Scaler
	shapes := []struct {
		xs []float64
		n  int
	}{
		{w.Cand, featureDims.Cand}, {w.Pair, featureDims.Pair}, {w.Attn, featureDims.Hist},
		{s.CandMean, featureDims.Cand}, {s.CandStd, featureDims.Cand},
		{s.PairMean, featureDims.Pair}, {s.PairStd, featureDims.Pair},
		{s.HistMean, featureDims.Hist}, {s.HistStd, featureDims.Hist},
	}
	if err := w.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidModel, err)
	}
	for i, sh := range shapes {
		if len(sh.xs) != sh.n {
			return fmt.Errorf("%w: parameter block %d has %d values, want %d", ErrInvalidModel, i, len(sh.xs), sh.n)
		}
		for _, x := range sh.xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: parameter block %d is not finite", ErrInvalidModel, i)
			}
		}
	}
	for _, std := range [][]float64{s.CandStd, s.PairStd, s.HistStd} {
		for _, x := range std {
			if x <= 0 {
				return fmt.Errorf("%w: a standard deviation is not positive", ErrInvalidModel)
			}
		}
	}
	for _, counts := range []map[string]float64{d.Popularity, d.Recency} {
		for id, c := range counts {
			if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
				return fmt.Errorf("%w: popularity of %q is %v", ErrInvalidModel, id, c)
			}
		}
	}
	for id, l := range d.Lateness {
		if !(l[1] > 0) || math.IsInf(l[1], 0) || !(l[0] >= 0) || l[0] > l[1] {
			return fmt.Errorf("%w: lateness of %q is %v", ErrInvalidModel, id, l)
		}
	}
	if (d.Recency != nil || d.Lateness != nil) && d.CoPurchase == nil {
		return fmt.Errorf("%w: a collaborative signal without its co-purchase table", ErrInvalidModel)
	}
	switch {
	case d.TextDim <= 0 || d.ImageDim < 0:
		return fmt.Errorf("%w: dimensions %d/%d", ErrInvalidModel, d.TextDim, d.ImageDim)
	case d.HistoryK < 0:
		return fmt.Errorf("%w: history k %d is negative", ErrInvalidModel, d.HistoryK)
	case d.BestEpoch < 0 || d.BestEpoch > len(d.Curve):
		return fmt.Errorf("%w: best epoch %d of %d", ErrInvalidModel, d.BestEpoch, len(d.Curve))
	}
	return nil
}

// The features of a model file of version 1: the first of each kind.
const (
	version1Cand = 7
	version1Pair = 5
	version1Hist = 4
)

// upgrade turns the payload of a version 1 file into one of this version:
// its features must be the first ones of this library's, and the features
// added since get a weight of 0 and a unit scale, so the model scores as it
// did.
func (d *modelDoc) upgrade() error {
	if !slices.Equal(d.CandidateFeatures, candidateFeatures[:version1Cand]) ||
		!slices.Equal(d.PairFeatures, pairFeatures[:version1Pair]) ||
		!slices.Equal(d.HistoryFeatures, historyFeatures[:version1Hist]) {
		return fmt.Errorf("%w: its features are not those of version 1", ErrInvalidModel)
	}
	w, s := &d.Weights, &d.Scaler
	for _, b := range []struct {
		xs   *[]float64
		n, v int
		fill float64
	}{
		{&w.Cand, featureDims.Cand, version1Cand, 0}, {&w.Pair, featureDims.Pair, version1Pair, 0}, {&w.Attn, featureDims.Hist, version1Hist, 0},
		{&s.CandMean, featureDims.Cand, version1Cand, 0}, {&s.CandStd, featureDims.Cand, version1Cand, 1},
		{&s.PairMean, featureDims.Pair, version1Pair, 0}, {&s.PairStd, featureDims.Pair, version1Pair, 1},
		{&s.HistMean, featureDims.Hist, version1Hist, 0}, {&s.HistStd, featureDims.Hist, version1Hist, 1},
	} {
		if len(*b.xs) != b.v {
			return fmt.Errorf("%w: a parameter block has %d values, version 1 has %d", ErrInvalidModel, len(*b.xs), b.v)
		}
		for len(*b.xs) < b.n {
			*b.xs = append(*b.xs, b.fill)
		}
	}
	d.CandidateFeatures, d.PairFeatures, d.HistoryFeatures = candidateFeatures, pairFeatures, historyFeatures
	d.CoPurchase, d.Recency, d.Lateness, d.Neighbors = nil, nil, nil, 0
	return nil
}
