package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// metrics counts requests and times the search stages, and writes them in
// the Prometheus text exposition format (version 0.0.4), which Prometheus
// and every compatible scraper read. It is written here rather than taken
// from client_golang: see docs/dependencies.md.
type metrics struct {
	requests *counterVec
	duration *histogramVec
	stages   *histogramVec
	searches *counterVec
	// rejections counts requests refused, by the error code of the answer
	// and the caller's key name: both take only values the service
	// defines, never a client's text.
	rejections *counterVec
	// products reports the catalog's size at scrape time.
	products func() int
	// usage reports the model work done so far, by operation, at scrape
	// time.
	usage func() map[string]retrieval.Usage
	// searchLoad reports the searches the engine runs and those waiting
	// for their turn, at scrape time.
	searchLoad func() (running, waiting int)
}

// latencyBuckets are the histogram bounds in seconds: from 100µs (an
// offline stage) to 60s (a model call on a CPU).
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

func newMetrics(products func() int, usage func() map[string]retrieval.Usage, searchLoad func() (int, int)) *metrics {
	return &metrics{
		requests: newCounterVec("hmpps_http_requests_total",
			"HTTP requests by route and status code.", "route", "code"),
		duration: newHistogramVec("hmpps_http_request_duration_seconds",
			"HTTP request latency by route.", latencyBuckets, "route"),
		stages: newHistogramVec("hmpps_search_stage_duration_seconds",
			"Time each search stage took, and the whole search as stage \"total\".", latencyBuckets, "stage"),
		searches: newCounterVec("hmpps_searches_total",
			"Searches answered, by outcome: personalized, unpersonalized (no history kept) or degraded (a stage fell back).", "outcome"),
		rejections: newCounterVec("hmpps_http_rejections_total",
			"Requests refused, by reason (the error code of the answer) and key (the caller's key name; anonymous without keys, none for a request without a valid key).", "reason", "key"),
		products:   products,
		usage:      usage,
		searchLoad: searchLoad,
	}
}

// observeSearch records what one answered search cost.
func (s *server) observeSearch(r *hmpps.Response) {
	m := s.metrics
	t := r.Timings
	for _, st := range []struct {
		name string
		d    time.Duration
	}{{"embed", t.Embed}, {"retrieve", t.Retrieve}, {"history_filter", t.HistoryFilter},
		{"summarize", t.Summarize}, {"rerank", t.Rerank}, {"total", t.Total}} {
		m.stages.observe(st.d, st.name)
	}
	outcome := "personalized"
	switch {
	case r.Degraded:
		outcome = "degraded"
	case !personalized(r):
		outcome = "unpersonalized"
	}
	m.searches.add(1, outcome)
}

// ServeHTTP writes the exposition.
func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	m.write(bw)
	_ = bw.Flush() // a write error means the scraper went away
}

func (m *metrics) write(w io.Writer) {
	m.requests.write(w)
	m.duration.write(w)
	m.stages.write(w)
	m.searches.write(w)
	m.rejections.write(w)
	m.writeUsage(w)
	running, waiting := m.searchLoad()
	writeGauge(w, "hmpps_searches_running", "Searches the engine runs now (at most -max-searches).", running)
	writeGauge(w, "hmpps_searches_waiting", "Searches waiting for their turn (at most -search-queue).", waiting)
	writeGauge(w, "hmpps_catalog_products", "Products in the catalog.", m.products())
}

func writeGauge(w io.Writer, name, help string, v int) {
	writeHeader(w, name, help, "gauge")
	fmt.Fprintf(w, "%s %d\n", name, v)
}

// writeUsage writes the model work as counters by operation.
func (m *metrics) writeUsage(w io.Writer) {
	usage := m.usage()
	ops := sortedKeys(usage)
	for _, c := range []struct {
		name, help string
		value      func(retrieval.Usage) int
	}{
		{"hmpps_model_calls_total", "Requests sent to a model server, by operation.", func(u retrieval.Usage) int { return u.ModelCalls }},
		{"hmpps_model_prompt_tokens_total", "Prompt tokens the model server evaluated, by operation.", func(u retrieval.Usage) int { return u.PromptTokens }},
		{"hmpps_model_generated_tokens_total", "Tokens the model server generated, by operation.", func(u retrieval.Usage) int { return u.GeneratedTokens }},
	} {
		writeHeader(w, c.name, c.help, "counter")
		for _, op := range ops {
			fmt.Fprintf(w, "%s%s %d\n", c.name, renderLabels([]string{"operation"}, []string{op}, "", ""), c.value(usage[op]))
		}
	}
}

// counterVec is a counter per combination of label values.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]float64 // by rendered label set
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, values: map[string]float64{}}
}

// add adds v to the counter of these label values, given in the order of
// the vector's labels.
func (c *counterVec) add(v float64, labelValues ...string) {
	key := renderLabels(c.labels, labelValues, "", "")
	c.mu.Lock()
	c.values[key] += v
	c.mu.Unlock()
}

func (c *counterVec) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	writeHeader(w, c.name, c.help, "counter")
	for _, key := range sortedKeys(c.values) {
		fmt.Fprintf(w, "%s%s %s\n", c.name, key, formatFloat(c.values[key]))
	}
}

// histogramVec is a histogram per combination of label values.
type histogramVec struct {
	name, help string
	labels     []string
	bounds     []float64
	mu         sync.Mutex
	series     map[string]*histogram // by label values joined with \xff
}

// histogram holds counts per bucket (not cumulative; the last one is +Inf),
// their sum, and the label values.
type histogram struct {
	labelValues []string
	counts      []uint64
	sum         float64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	return &histogramVec{name: name, help: help, labels: labels, bounds: bounds, series: map[string]*histogram{}}
}

// observe records d in the histogram of these label values.
func (h *histogramVec) observe(d time.Duration, labelValues ...string) {
	v := d.Seconds()
	i, _ := slices.BinarySearch(h.bounds, v) // first bound >= v: buckets are "le"
	key := strings.Join(labelValues, "\xff")
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.series[key]
	if !ok {
		s = &histogram{labelValues: slices.Clone(labelValues), counts: make([]uint64, len(h.bounds)+1)}
		h.series[key] = s
	}
	s.counts[i]++
	s.sum += v
}

func (h *histogramVec) write(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	writeHeader(w, h.name, h.help, "histogram")
	for _, key := range sortedKeys(h.series) {
		s := h.series[key]
		var cum uint64
		for i, n := range s.counts {
			cum += n
			le := "+Inf"
			if i < len(h.bounds) {
				le = formatFloat(h.bounds[i])
			}
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, renderLabels(h.labels, s.labelValues, "le", le), cum)
		}
		labels := renderLabels(h.labels, s.labelValues, "", "")
		fmt.Fprintf(w, "%s_sum%s %s\n", h.name, labels, formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", h.name, labels, cum)
	}
}

func writeHeader(w io.Writer, name, help, typ string) {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// labelEscaper escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// renderLabels renders {name="value",...}, with one more pair when
// extraName is not blank, or "" when there are no labels at all.
func renderLabels(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		v := ""
		if i < len(values) {
			v = values[i]
		}
		fmt.Fprintf(&b, `%s="%s"`, n, labelEscaper.Replace(v))
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, extraName, labelEscaper.Replace(extraValue))
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
