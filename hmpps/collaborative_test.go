package hmpps

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/cooccur"
	"hmpps/internal/ltr"
	"hmpps/retrieval"
)

// coExamples are segmentExamples with only the first boot of each kind
// bought: boot-leather-2, boot-trail-2 and hist-grinder are in no training
// purchase, so the model knows nothing of who bought them.
func coExamples(users int) []TrainingExample {
	out := segmentExamples(users)
	for i := range out {
		out[i].Positive = strings.Replace(out[i].Positive, "-2", "-1", 1)
	}
	return out
}

// unseen are the catalog products coExamples never holds.
var unseen = []string{"boot-leather-2", "boot-trail-2", "hist-grinder"}

// trainCollab trains a model on coExamples(40), quickly and reproducibly.
func trainCollab(t testing.TB, e *Engine, opts TrainOptions) *Model {
	t.Helper()
	if opts.Negatives == 0 {
		opts.Negatives = 6
	}
	if opts.Epochs == 0 {
		opts.Epochs = 8
	}
	opts.Seed = 3
	m, err := Train(context.Background(), e, coExamples(40), opts)
	require.NoError(t, err)
	return m
}

// isCollaborative reports whether a feature is read from who bought what:
// the buyer counts, the recent popularity, the lateness and the
// co-purchases.
func isCollaborative(name string) bool {
	return strings.Contains(name, "co-purchase") || strings.Contains(name, "popularity") || name == "lateness"
}

// TestShopperSequencesFromOverlappingWindows proves that each shopper's
// sequence is rebuilt from examples whose histories are overlapping
// windows of it, whatever the window's length, with repeated purchases, a
// History of products beside HistoryIDs, shoppers interleaved and examples
// without a User each a shopper of their own.
func TestShopperSequencesFromOverlappingWindows(t *testing.T) {
	ex := func(user string, history []string, positive string) TrainingExample {
		return TrainingExample{User: user, HistoryIDs: history, Positive: positive}
	}
	tests := []struct {
		name     string
		examples []TrainingExample
		want     [][]string
		of       []int
	}{
		{"whole histories", []TrainingExample{
			ex("u", nil, "a"), ex("u", []string{"a"}, "b"), ex("u", []string{"a", "b"}, "c"),
		}, [][]string{{"a", "b", "c"}}, []int{0, 0, 0}},
		{"windows of two", []TrainingExample{
			ex("u", []string{"a", "b"}, "c"), ex("u", []string{"b", "c"}, "d"), ex("u", []string{"c", "d"}, "e"),
		}, [][]string{{"a", "b", "c", "d", "e"}}, []int{0, 0, 0}},
		{"windows of one", []TrainingExample{
			ex("u", []string{"a"}, "b"), ex("u", []string{"b"}, "c"), ex("u", []string{"c"}, "d"),
		}, [][]string{{"a", "b", "c", "d"}}, []int{0, 0, 0}},
		{"a product bought again", []TrainingExample{
			ex("u", []string{"a", "b"}, "a"), ex("u", []string{"b", "a"}, "b"), ex("u", []string{"a", "b"}, "c"),
		}, [][]string{{"a", "b", "a", "b", "c"}}, []int{0, 0, 0}},
		{"shoppers interleaved", []TrainingExample{
			ex("u", []string{"a"}, "b"), ex("v", []string{"x"}, "y"), ex("u", []string{"a", "b"}, "c"), ex("v", []string{"y"}, "z"),
		}, [][]string{{"a", "b", "c"}, {"x", "y", "z"}}, []int{0, 1, 0, 1}},
		{"examples without a user", []TrainingExample{
			ex("", []string{"a"}, "b"), ex("", []string{"a", "b"}, "c"), ex("u", []string{"a"}, "b"),
		}, [][]string{{"a", "b"}, {"a", "b", "c"}, {"a", "b"}}, []int{0, 1, 2}},
		{"History before HistoryIDs", []TrainingExample{
			{User: "u", History: []Product{{ID: "a"}}, HistoryIDs: []string{"b"}, Positive: "c"},
			{User: "u", History: []Product{{ID: "b"}, {ID: "c"}}, Positive: "d"},
		}, [][]string{{"a", "b", "c", "d"}}, []int{0, 0}},
		{"a history that starts anew", []TrainingExample{
			ex("u", []string{"a"}, "b"), ex("u", []string{"x", "y"}, "z"),
		}, [][]string{{"a", "b", "x", "y", "z"}}, []int{0, 0}},
		{"an example with no history", []TrainingExample{
			ex("u", []string{"a"}, "b"), ex("u", nil, "c"),
		}, [][]string{{"a", "b", "c"}}, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seqs, of := shopperSequences(tt.examples)
			assert.Equal(t, tt.want, seqs)
			assert.Equal(t, tt.of, of)
		})
	}

	// A history sent without its latest purchases: the second example's
	// history lacks c, bought since. Every purchase is in the sequence,
	// in the order bought, and the latest one ends it.
	seqs, of := shopperSequences([]TrainingExample{ex("u", []string{"a", "b"}, "c"), ex("u", []string{"a", "b"}, "d")})
	require.Len(t, seqs, 1)
	assert.Equal(t, []int{0, 0}, of)
	seq := seqs[0]
	assert.Equal(t, []string{"a", "b", "c"}, seq[:3])
	assert.Equal(t, "d", seq[len(seq)-1])
	assert.Less(t, slices.Index(seq, "c"), slices.Index(seq, "d"))
}

// TestShopperSequenceExtend proves extend's rule on its own: what a window
// adds after the longest of its prefixes (shorter than itself) that the
// sequence ends with, and all of it when none is.
func TestShopperSequenceExtend(t *testing.T) {
	tests := []struct {
		seq, window, want []string
	}{
		{nil, []string{"a", "b"}, []string{"a", "b"}},
		{[]string{"a", "b"}, []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{[]string{"a", "b", "c"}, []string{"b", "c", "d"}, []string{"a", "b", "c", "d"}},
		{[]string{"a", "b", "c"}, []string{"c", "d"}, []string{"a", "b", "c", "d"}},
		{[]string{"a", "b"}, []string{"d"}, []string{"a", "b", "d"}},
		{[]string{"a", "b"}, []string{"b", "b"}, []string{"a", "b", "b"}},
		{[]string{"a", "b", "a"}, []string{"a", "b", "a", "c"}, []string{"a", "b", "a", "c"}},
		{[]string{"b", "a", "b"}, []string{"a", "b", "x"}, []string{"b", "a", "b", "x"}},
		{[]string{"a", "b", "c"}, []string{"x", "y", "z"}, []string{"a", "b", "c", "x", "y", "z"}},
		{[]string{"a"}, []string{"a"}, []string{"a", "a"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, extend(slices.Clone(tt.seq), tt.window), "%v + %v", tt.seq, tt.window)
	}
}

// TestCollabLearnsOnlyTrainingPurchases proves the no-leak guarantee of
// the validation purchases: a product that only TrainOptions.Validation
// holds has no co-purchase, no buyers, no recent popularity and no
// lateness in the trained model, whose counts are those of the training
// purchases alone.
func TestCollabLearnsOnlyTrainingPurchases(t *testing.T) {
	e := newTestEngine(t)
	val := []TrainingExample{
		{User: "later", Query: "waterproof boots", HistoryIDs: []string{"hist-wallet", "hist-grinder"}, Positive: "boot-leather-2"},
		{User: "later", Query: "waterproof boots", HistoryIDs: []string{"hist-wallet", "hist-grinder", "boot-leather-2"}, Positive: "boot-trail-2"},
		{User: "other", Query: "trail boots", HistoryIDs: []string{"hist-grinder"}, Positive: "boot-trail-2",
			Negatives: []string{"boot-leather-1", "boot-leather-2"}},
	}
	m := trainCollab(t, e, TrainOptions{Validation: val, Epochs: 3})
	require.NotNil(t, m.collab)
	co := m.collab.table.Without()
	for _, id := range unseen {
		_, known := co.Index(id)
		assert.False(t, known, "%s has a co-purchase entry", id)
		assert.NotContains(t, m.popularity, id)
		assert.NotContains(t, m.collab.recency, id)
		assert.NotContains(t, m.collab.lateness, id)
		related, err := co.Related([]string{id}, nil, cooccur.NormRaw)
		require.NoError(t, err)
		assert.Empty(t, related, "%s has co-purchase neighbours", id)
	}
	assert.Zero(t, co.Weight("hist-wallet", "hist-grinder"), "bought together in validation only")

	// The counts are the training purchases' and nothing else's.
	seqs, _ := shopperSequences(coExamples(40))
	want := learnCollaborative(seqs, DefaultCoPurchaseWindow)
	wantTable, err := json.Marshal(want.table)
	require.NoError(t, err)
	gotTable, err := json.Marshal(m.collab.table)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantTable), string(gotTable))
	assert.Equal(t, want.recency, m.collab.recency)
	assert.Equal(t, want.lateness, m.collab.lateness)
	assert.Equal(t, popularity(coExamples(40)), m.popularity)
}

// TestCollabTrainingListsLeaveTheShopperOut proves the other half of the
// no-leak guarantee: a training example's features read the signal
// without the shopper's own purchases. The only buyer of a pair finds no
// co-purchase, no buyer and no recent popularity for it in their own list,
// while a search reads them.
func TestCollabTrainingListsLeaveTheShopperOut(t *testing.T) {
	e := newTestEngine(t)
	examples := append(coExamples(20),
		TrainingExample{User: "loner", Query: "waterproof boots", HistoryIDs: []string{"hist-grinder"}, Positive: "boot-trail-2"})
	loner := len(examples) - 1
	opts := TrainOptions{Negatives: 6, Seed: 3}.withDefaults()
	m, lists, _, err := buildLists(context.Background(), e, examples, opts)
	require.NoError(t, err)
	l := lists[loner]
	require.Equal(t, 0, l.Positive)
	require.Equal(t, 1, l.H)
	raw := func(xs, mean, std []float64, i int) float64 { return xs[i]*std[i%len(std)] + mean[i%len(mean)] }
	cand := func(name string) float64 {
		return raw(l.Cand, m.scaler.CandMean, m.scaler.CandStd, slices.Index(candidateFeatures, name))
	}
	for _, name := range candidateFeatures {
		if !isCollaborative(name) || name == "lateness" {
			continue
		}
		assert.InDelta(t, 0, cand(name), 1e-9, "%s of the loner's own purchase", name)
	}
	assert.InDelta(t, 0.5, cand("lateness"), 1e-9, "no other shopper bought it")
	for _, name := range pairFeatures {
		if strings.Contains(name, "co-purchase") {
			assert.InDelta(t, 0, raw(l.Pair, m.scaler.PairMean, m.scaler.PairStd, slices.Index(pairFeatures, name)), 1e-9, name)
		}
	}
	assert.InDelta(t, 0, raw(l.Hist, m.scaler.HistMean, m.scaler.HistStd, slices.Index(historyFeatures, "item co-purchases")), 1e-9)

	// A search reads what the loner bought.
	assert.Equal(t, 1.0, m.collab.table.Weight("hist-grinder", "boot-trail-2"))
	assert.Equal(t, 1.0, m.popularity["boot-trail-2"])
	assert.Greater(t, m.collab.recency["boot-trail-2"], 0.0)
}

// collabInput is a search's feature input for the model: the history and
// candidates by ID, the model's view of the signal.
func collabInput(t *testing.T, e *Engine, m *Model, query string, history, candidates []string) featureInput {
	t.Helper()
	hist, err := e.lookup("history", history)
	require.NoError(t, err)
	cands, err := e.lookup("candidates", candidates)
	require.NoError(t, err)
	qvec, err := e.queryVector(context.Background(), query, nil)
	require.NoError(t, err)
	return featureInput{query: query, qvec: qvec, history: hist, candidates: cands, shopper: m.collab.view(m.popularity),
		cats: m.cats, lexCand: e.lexicalScores(query, cands), lexHist: e.lexicalScores(query, hist)}
}

// TestCollabUnseenProductIsRankedByContent proves that a product no
// training purchase holds reads 0 for every collaborative feature (the
// neutral 0.5 for lateness), so that the collaborative weights move every
// such product's score by the same amount: among them the model ranks by
// content alone, as the same model with its collaborative weights at zero
// does. A product the training saw is moved by its own co-purchases.
func TestCollabUnseenProductIsRankedByContent(t *testing.T) {
	e := newTestEngine(t)
	m := trainCollab(t, e, TrainOptions{HiddenUnits: -1})
	history := []string{"hist-wallet", "hist-belt", "hist-dressing"}
	candidates := append(slices.Clone(unseen), "boot-leather-1", "boot-trail-1")
	in := collabInput(t, e, m, "waterproof boots", history, candidates)
	l := features(&in, e.cfg.textEmbedder.Dimension())
	nc, np := featureDims.Cand, featureDims.Pair
	for c, id := range candidates {
		for k, name := range candidateFeatures {
			x := l.Cand[c*nc+k]
			switch {
			case !isCollaborative(name):
			case slices.Contains(unseen, id) && name == "lateness":
				assert.Equal(t, 0.5, x, "%s: %s", id, name)
			case slices.Contains(unseen, id):
				assert.Zero(t, x, "%s: %s", id, name)
			}
		}
		for h := range history {
			for k, name := range pairFeatures {
				if strings.Contains(name, "co-purchase") && slices.Contains(unseen, id) {
					assert.Zero(t, l.Pair[(c*l.H+h)*np+k], "%s with %s: %s", id, history[h], name)
				}
			}
		}
	}
	known := slices.Index(candidates, "boot-leather-1")
	require.Greater(t, l.Cand[known*nc+slices.Index(candidateFeatures, "co-purchase")], 0.0, "a product the training saw")

	// The same model without its collaborative weights.
	content := m.clone()
	content.weights = m.weights.Clone()
	var collabWeights float64
	for k, name := range candidateFeatures {
		if isCollaborative(name) {
			collabWeights += math.Abs(content.weights.Cand[k])
			content.weights.Cand[k] = 0
		}
	}
	for k, name := range pairFeatures {
		if strings.Contains(name, "co-purchase") {
			collabWeights += math.Abs(content.weights.Pair[k])
			content.weights.Pair[k] = 0
		}
	}
	require.Greater(t, collabWeights, 0.0, "the model learned collaborative weights")
	full := e.learn(m, in.query, in.qvec, in.history, in.candidates, nil)
	alone := e.learn(content, in.query, in.qvec, in.history, in.candidates, nil)
	shift := full.scores[0] - alone.scores[0]
	for c, id := range unseen {
		assert.InDelta(t, shift, full.scores[c]-alone.scores[c], 1e-9, "%s moves as every unseen product does", id)
	}
	assert.Greater(t, math.Abs(full.scores[known]-alone.scores[known]-shift), 1e-6, "a product the training saw moves by its own co-purchases")
	order := func(scores []float64) []string {
		ids := slices.Clone(unseen)
		slices.SortStableFunc(ids, func(a, b string) int {
			return -cmpFloat(scores[slices.Index(candidates, a)], scores[slices.Index(candidates, b)])
		})
		return ids
	}
	assert.Equal(t, order(alone.scores), order(full.scores), "unseen products in the order of their content")

	// DisableCollaborative holds the co-purchase weights at zero.
	off := trainCollab(t, e, TrainOptions{HiddenUnits: -1, Epochs: 3, DisableCollaborative: true})
	for _, fw := range off.FeatureWeights() {
		if strings.Contains(fw.Name, "co-purchase") {
			assert.Zero(t, fw.Weight, "stage %d %s", fw.Stage, fw.Name)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// frameModel frames doc as a model file of the given version.
func frameModel(t *testing.T, version uint32, doc modelDoc) []byte {
	t.Helper()
	payload, err := json.Marshal(doc)
	require.NoError(t, err)
	var b bytes.Buffer
	b.WriteString(modelMagic)
	require.NoError(t, binary.Write(&b, binary.LittleEndian, version))
	require.NoError(t, binary.Write(&b, binary.LittleEndian, uint32(len(payload))))
	b.Write(payload)
	require.NoError(t, binary.Write(&b, binary.LittleEndian, crc32.Checksum(b.Bytes(), castagnoli)))
	return b.Bytes()
}

// TestCollabModelFileRoundTrip proves that a model file keeps the
// collaborative signal and Neighbors: the model read back holds the same
// co-purchase table, recent popularity and lateness, and searches that add
// co-purchase neighbours give the same results, scores and all.
func TestCollabModelFileRoundTrip(t *testing.T) {
	e := newTestEngine(t)
	m := trainCollab(t, e, TrainOptions{Epochs: 4})
	m.Neighbors = 3
	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	got, err := ReadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, 3, got.Neighbors)
	require.NotNil(t, got.collab)
	a, err := json.Marshal(m.collab.table)
	require.NoError(t, err)
	b, err := json.Marshal(got.collab.table)
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	assert.Equal(t, m.collab.recency, got.collab.recency)
	assert.Equal(t, m.collab.lateness, got.collab.lateness)
	assert.Equal(t, m.popularity, got.popularity)
	assert.Equal(t, m.FeatureWeights(), got.FeatureWeights())

	before := newTestEngine(t, WithModel(m), WithRetrieveK(2))
	after := newTestEngine(t, WithModel(got), WithRetrieveK(2))
	for _, req := range []Request{
		{Query: "waterproof boots", HistoryIDs: []string{"hist-wallet", "hist-novel"}, TopN: 20},
		{Query: "waterproof boots", HistoryIDs: trailFan, TopN: 20, ExcludeHistory: true},
		{Query: "leather", HistoryIDs: []string{"hist-gaiters"}, TopN: 20},
	} {
		x, err := before.Search(context.Background(), req)
		require.NoError(t, err)
		y, err := after.Search(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, x.Candidates, y.Candidates, "%q", req.Query)
		assert.Greater(t, x.Candidates, 2, "%q: neighbours were added", req.Query)
		require.Equal(t, ids(x.Results), ids(y.Results), "%q", req.Query)
		for i := range x.Results {
			assert.Equal(t, x.Results[i].Score, y.Results[i].Score)
			assert.Equal(t, x.Results[i].LearnedScore, y.Results[i].LearnedScore)
		}
		assert.Equal(t, x.History, y.History)
	}
}

// versionOne returns m's file payload as version 1 wrote it: the first
// features of each kind, a linear score, no collaborative signal.
func versionOne(m *Model) modelDoc {
	doc := m.doc()
	doc.CandidateFeatures = candidateFeatures[:version1Cand]
	doc.PairFeatures = pairFeatures[:version1Pair]
	doc.HistoryFeatures = historyFeatures[:version1Hist]
	w := m.weights
	doc.Weights = ltr.Weights{Cand: slices.Clone(w.Cand[:version1Cand]), Pair: slices.Clone(w.Pair[:version1Pair]),
		Attn: slices.Clone(w.Attn[:version1Hist])}
	s := m.scaler
	doc.Scaler = ltr.Scaler{
		CandMean: slices.Clone(s.CandMean[:version1Cand]), CandStd: slices.Clone(s.CandStd[:version1Cand]),
		PairMean: slices.Clone(s.PairMean[:version1Pair]), PairStd: slices.Clone(s.PairStd[:version1Pair]),
		HistMean: slices.Clone(s.HistMean[:version1Hist]), HistStd: slices.Clone(s.HistStd[:version1Hist]),
	}
	doc.CoPurchase, doc.Recency, doc.Lateness, doc.Neighbors = nil, nil, nil, 0
	return doc
}

// TestModelFileVersions proves that a file of version 1 reads back as a
// model that scores as its linear weights over the version 1 features
// say, every feature added since weighing 0, with no co-purchases and no
// neighbours; that a version 1 file whose features are not version 1's is
// refused; and that versions this library does not know are refused with
// ErrInvalidModel.
func TestModelFileVersions(t *testing.T) {
	e := newTestEngine(t)
	m := trainCollab(t, e, TrainOptions{HiddenUnits: -1, Epochs: 4})
	v1 := versionOne(m)
	got, err := ReadModel(bytes.NewReader(frameModel(t, 1, v1)))
	require.NoError(t, err)
	assert.Nil(t, got.collab)
	assert.Zero(t, got.neighbors())
	assert.Zero(t, got.HiddenUnits())
	for _, fw := range got.FeatureWeights() {
		var old []float64
		var names []string
		switch {
		case fw.Stage == 1:
			old, names = v1.Weights.Attn, historyFeatures
		case slices.Contains(candidateFeatures, fw.Name):
			old, names = v1.Weights.Cand, candidateFeatures
		default:
			old, names = v1.Weights.Pair, pairFeatures
		}
		if k := slices.Index(names, fw.Name); k < len(old) {
			assert.Equal(t, old[k], fw.Weight, fw.Name)
		} else {
			assert.Zero(t, fw.Weight, "%s is newer than version 1", fw.Name)
		}
	}

	// Its scores, by hand from the version 1 features and weights.
	history := []string{"hist-wallet", "hist-grinder", "hist-belt"}
	candidates := []string{"boot-leather-1", "boot-leather-2", "boot-trail-1", "boot-trail-2", "hist-novel"}
	in := collabInput(t, e, got, "waterproof boots", history, candidates)
	l := features(&in, e.cfg.textEmbedder.Dimension())
	z := func(x, mean, std float64) float64 { return (x - mean) / std }
	nc, np, nh := featureDims.Cand, featureDims.Pair, featureDims.Hist
	w, s := v1.Weights, v1.Scaler
	att := make([]float64, l.H)
	var sum float64
	for h := range l.H {
		for k := range version1Hist {
			att[h] += w.Attn[k] * z(l.Hist[h*nh+k], s.HistMean[k], s.HistStd[k])
		}
	}
	for h := range att {
		att[h] = math.Exp(att[h])
		sum += att[h]
	}
	want := make([]float64, l.C)
	for c := range l.C {
		for k := range version1Cand {
			want[c] += w.Cand[k] * z(l.Cand[c*nc+k], s.CandMean[k], s.CandStd[k])
		}
		for h := range l.H {
			for k := range version1Pair {
				want[c] += att[h] / sum * w.Pair[k] * z(l.Pair[(c*l.H+h)*np+k], s.PairMean[k], s.PairStd[k])
			}
		}
	}
	learned := e.learn(got, in.query, in.qvec, in.history, in.candidates, nil)
	require.Len(t, learned.scores, len(want))
	for c := range want {
		assert.InDelta(t, want[c], learned.scores[c], 1e-9, candidates[c])
	}
	resp, err := newTestEngine(t, WithModel(got)).Search(context.Background(),
		Request{Query: "waterproof boots", HistoryIDs: history, CandidateIDs: candidates, TopN: len(candidates)})
	require.NoError(t, err)
	for _, r := range resp.Results {
		assert.InDelta(t, want[slices.Index(candidates, r.ID)], r.LearnedScore, 1e-9, r.ID)
	}

	// The helper frames a file this library writes as it does.
	current, err := ReadModel(bytes.NewReader(frameModel(t, modelVersion, m.doc())))
	require.NoError(t, err)
	assert.Equal(t, m.FeatureWeights(), current.FeatureWeights())

	refused := map[string][]byte{
		"version 0":                   frameModel(t, 0, m.doc()),
		"version 3":                   frameModel(t, modelVersion+1, m.doc()),
		"a version 2 payload as 1":    frameModel(t, 1, m.doc()),
		"version 1 with short blocks": frameModel(t, 1, func() modelDoc { d := versionOne(m); d.Weights.Cand = d.Weights.Cand[1:]; return d }()),
	}
	for name, data := range refused {
		_, err := ReadModel(bytes.NewReader(data))
		assert.ErrorIs(t, err, ErrInvalidModel, name)
	}
}

// searchIDs returns the IDs of every candidate a search ranked.
func searchIDs(t *testing.T, e *Engine, req Request) []string {
	t.Helper()
	req.TopN = 50
	resp, err := e.Search(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, resp.Candidates, len(resp.Results))
	out := ids(resp.Results)
	slices.Sort(out)
	return out
}

// TestSearchAddsCoPurchaseNeighbors proves the third candidate source: a
// search without CandidateIDs ranks, beside what retrieval returns,
// products bought with the history that retrieval alone does not return,
// at most Model.Neighbors of them, none outside the request's Filter, none
// of the history with ExcludeHistory, and none when the request names its
// candidates or the model's Neighbors is negative.
func TestSearchAddsCoPurchaseNeighbors(t *testing.T) {
	e := newTestEngine(t)
	m := trainCollab(t, e, TrainOptions{Epochs: 3})
	require.Zero(t, m.Neighbors)
	none := m.clone()
	none.Neighbors = -1
	one := m.clone()
	one.Neighbors = 1
	withDefault := newTestEngine(t, WithModel(m), WithRetrieveK(2))
	withNone := newTestEngine(t, WithModel(none), WithRetrieveK(2))
	withOne := newTestEngine(t, WithModel(one), WithRetrieveK(2))

	req := Request{Query: "waterproof boots", HistoryIDs: []string{"hist-wallet"}}
	retrieved := searchIDs(t, withNone, req)
	require.Len(t, retrieved, 2)
	all := searchIDs(t, withDefault, req)
	for _, id := range retrieved {
		assert.Contains(t, all, id, "retrieval's candidates stay")
	}
	// hist-novel was bought with the wallet and does not match the query.
	require.NotContains(t, retrieved, "hist-novel")
	assert.Contains(t, all, "hist-novel")
	assert.Greater(t, m.collab.table.Weight("hist-wallet", "hist-novel"), 0.0)
	for _, id := range all {
		assert.True(t, slices.Contains(retrieved, id) || m.collab.table.Weight("hist-wallet", id) > 0,
			"%s is neither retrieved nor bought with the history", id)
	}
	assert.NotContains(t, all, "hist-wallet", "the history is not its own neighbour")
	assert.Len(t, searchIDs(t, withOne, req), len(retrieved)+1, "at most Model.Neighbors")

	// The request's filter holds for the neighbours.
	filtered := req
	filtered.Filter = retrieval.Filter{retrieval.In("brand", "Heritage Co")}
	brands := make(map[string]string)
	for _, p := range testCatalog() {
		brands[p.ID] = p.Brand
	}
	got := searchIDs(t, withDefault, filtered)
	assert.NotContains(t, got, "hist-novel")
	for _, id := range got {
		assert.Equal(t, "Heritage Co", brands[id], id)
	}
	assert.Contains(t, got, "hist-belt", "a neighbour the filter keeps")
	assert.NotContains(t, searchIDs(t, withNone, filtered), "hist-belt")

	// With ExcludeHistory no history item comes back, neighbour or not.
	history := []string{"hist-wallet", "hist-belt", "hist-novel"}
	got = searchIDs(t, withDefault, Request{Query: "waterproof boots", HistoryIDs: history, ExcludeHistory: true})
	for _, id := range history {
		assert.NotContains(t, got, id)
	}
	assert.Contains(t, got, "hist-dressing", "neighbours beyond the history are added")

	// Named candidates are ranked as they are.
	named := []string{"boot-trail-1", "hist-tent"}
	got = searchIDs(t, withDefault, Request{Query: "waterproof boots", HistoryIDs: []string{"hist-wallet"}, CandidateIDs: named})
	assert.Equal(t, named, got)
	assert.Equal(t, retrieved, searchIDs(t, withNone, req), "no neighbours with Neighbors < 0")
}

// TestRecount proves that Recount refuses no purchases and a purchase
// without a positive, and returns a copy whose counts are those of the new
// purchases (buyers, co-purchases with the model's window, recent
// popularity, lateness) and whose weights are the model's, while the model
// keeps its own counts.
func TestRecount(t *testing.T) {
	e := newTestEngine(t)
	m := trainCollab(t, e, TrainOptions{Epochs: 2, CoPurchaseWindow: 2})
	for name, purchases := range map[string][]TrainingExample{
		"none":        nil,
		"empty":       {},
		"no positive": {{User: "u", Query: "boots", HistoryIDs: []string{"hist-wallet"}, Positive: "boot-leather-1"}, {User: "u", HistoryIDs: []string{"hist-wallet"}}},
	} {
		_, err := m.Recount(purchases)
		assert.ErrorIs(t, err, ErrInvalidTraining, name)
	}

	pop, recency, lateness := maps.Clone(m.popularity), maps.Clone(m.collab.recency), maps.Clone(m.collab.lateness)
	table, err := json.Marshal(m.collab.table)
	require.NoError(t, err)
	purchases := []TrainingExample{
		{User: "u", HistoryIDs: []string{"hist-grinder", "hist-novel"}, Positive: "boot-trail-2"},
		{User: "u", HistoryIDs: []string{"hist-novel", "boot-trail-2"}, Positive: "hist-tent"},
		{User: "v", HistoryIDs: []string{"hist-grinder"}, Positive: "boot-trail-2"},
	}
	c, err := m.Recount(purchases)
	require.NoError(t, err)
	require.NotSame(t, m, c)

	assert.Equal(t, map[string]float64{"hist-grinder": 2, "hist-novel": 1, "boot-trail-2": 2, "hist-tent": 1}, c.popularity)
	seqs, _ := shopperSequences(purchases)
	assert.Equal(t, [][]string{{"hist-grinder", "hist-novel", "boot-trail-2", "hist-tent"}, {"hist-grinder", "boot-trail-2"}}, seqs)
	want := learnCollaborative(seqs, 2)
	assert.Equal(t, want.recency, c.collab.recency)
	assert.Equal(t, want.lateness, c.collab.lateness)
	assert.Equal(t, cooccur.Options{Window: 2}, c.collab.table.Options(), "the model's window")
	assert.Equal(t, 2.0, c.collab.table.Weight("hist-grinder", "boot-trail-2"))
	assert.Zero(t, c.collab.table.Weight("hist-grinder", "hist-tent"), "three places apart")
	assert.Zero(t, c.collab.table.Weight("hist-wallet", "boot-leather-1"), "the old purchases are not counted")
	assert.Equal(t, m.FeatureWeights(), c.FeatureWeights())
	assert.Equal(t, m.scaler, c.scaler)

	// The model keeps its counts.
	assert.Equal(t, pop, m.popularity)
	assert.Equal(t, recency, m.collab.recency)
	assert.Equal(t, lateness, m.collab.lateness)
	after, err := json.Marshal(m.collab.table)
	require.NoError(t, err)
	assert.Equal(t, string(table), string(after))
	assert.Greater(t, m.collab.table.Weight("hist-wallet", "boot-leather-1"), 0.0)

	// A model of version 1 gets its buyer counts only.
	v1, err := ReadModel(bytes.NewReader(frameModel(t, 1, versionOne(m))))
	require.NoError(t, err)
	c1, err := v1.Recount(purchases)
	require.NoError(t, err)
	assert.Nil(t, c1.collab)
	assert.Equal(t, c.popularity, c1.popularity)
}
