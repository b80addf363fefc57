package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
	"hmpps/rerank"
	"hmpps/retrieval"
)

// sample is one parsed line of the text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// family is one metric: its TYPE and its samples.
type family struct {
	typ     string
	samples []sample
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseExposition parses the Prometheus text format (version 0.0.4) as a
// scraper does, strictly: every sample follows the TYPE of its family, all
// of a family's lines are together, names and label pairs are well formed,
// values are floats, and histograms are consistent (cumulative buckets, an
// +Inf bucket equal to _count, a _sum).
func parseExposition(text string) (map[string]*family, error) {
	families := map[string]*family{}
	var current string
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.SplitN(line, " ", 4)
			if len(f) < 3 || (f[1] != "HELP" && f[1] != "TYPE") {
				continue // a comment
			}
			if !metricName.MatchString(f[2]) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, f[2])
			}
			if f[1] == "TYPE" {
				if len(f) != 4 || !strings.Contains(" counter gauge histogram summary untyped ", " "+f[3]+" ") {
					return nil, fmt.Errorf("line %d: bad TYPE line %q", n, line)
				}
				if _, dup := families[f[2]]; dup {
					return nil, fmt.Errorf("line %d: second TYPE for %s", n, f[2])
				}
				families[f[2]] = &family{typ: f[3]}
				current = f[2]
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		fam := families[current]
		base := s.name
		if fam != nil && fam.typ == "histogram" {
			base = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, "_bucket"), "_sum"), "_count")
		}
		if fam == nil || base != current {
			return nil, fmt.Errorf("line %d: sample %s outside its family's block (current %q)", n, s.name, current)
		}
		fam.samples = append(fam.samples, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for name, fam := range families {
		if fam.typ == "histogram" {
			if err := checkHistogram(name, fam); err != nil {
				return nil, err
			}
		}
	}
	return families, nil
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !metricName.MatchString(s.name) {
		return s, fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 || !labelName.MatchString(rest[:eq]) {
				return s, fmt.Errorf("bad label in %q", line)
			}
			name := rest[:eq]
			rest = rest[eq+2:]
			var v strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					switch rest[j+1] {
					case '\\', '"':
						v.WriteByte(rest[j+1])
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf("bad escape in %q", line)
					}
					j++
					continue
				}
				if c == '"' {
					rest, closed = rest[j+1:], true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value in %q", line)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice in %q", name, line)
			}
			s.labels[name] = v.String()
			rest = strings.TrimPrefix(rest, ",")
		}
	}
	if !strings.HasPrefix(rest, " ") {
		return s, fmt.Errorf("no space before the value in %q", line)
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 {
		return s, fmt.Errorf("want a value and an optional timestamp in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, fmt.Errorf("bad value in %q: %w", line, err)
	}
	s.value = v
	return s, nil
}

// checkHistogram checks each series of a histogram family.
func checkHistogram(name string, fam *family) error {
	type series struct {
		buckets    []sample
		sum, count *sample
	}
	all := map[string]*series{}
	key := func(s sample) string {
		var parts []string
		for k, v := range s.labels {
			if k != "le" {
				parts = append(parts, k+"="+v)
			}
		}
		slices.Sort(parts)
		return strings.Join(parts, ",")
	}
	for i := range fam.samples {
		s := &fam.samples[i]
		k := key(*s)
		if all[k] == nil {
			all[k] = &series{}
		}
		switch s.name {
		case name + "_bucket":
			if _, ok := s.labels["le"]; !ok {
				return fmt.Errorf("%s: bucket without le", name)
			}
			all[k].buckets = append(all[k].buckets, *s)
		case name + "_sum":
			all[k].sum = s
		case name + "_count":
			all[k].count = s
		default:
			return fmt.Errorf("%s: unexpected sample %s", name, s.name)
		}
	}
	for k, se := range all {
		if se.sum == nil || se.count == nil || len(se.buckets) == 0 {
			return fmt.Errorf("%s{%s}: missing _sum, _count or buckets", name, k)
		}
		prevLe, prevCount := math.Inf(-1), -1.0
		for _, b := range se.buckets {
			le, err := strconv.ParseFloat(b.labels["le"], 64)
			if err != nil || le <= prevLe || b.value < prevCount {
				return fmt.Errorf("%s{%s}: buckets not increasing at le=%s", name, k, b.labels["le"])
			}
			prevLe, prevCount = le, b.value
		}
		if !math.IsInf(prevLe, 1) || prevCount != se.count.value {
			return fmt.Errorf("%s{%s}: last bucket le=%v count %v, _count %v", name, k, prevLe, prevCount, se.count.value)
		}
	}
	return nil
}

// find returns the value of the sample of fam with these labels.
func find(t *testing.T, fams map[string]*family, name string, labels map[string]string) float64 {
	t.Helper()
	for _, fam := range fams {
		for _, s := range fam.samples {
			if s.name != name {
				continue
			}
			match := true
			for k, v := range labels {
				if s.labels[k] != v {
					match = false
				}
			}
			if match {
				return s.value
			}
		}
	}
	t.Fatalf("no sample %s%v", name, labels)
	return 0
}

func TestMetricsParse(t *testing.T) {
	srv, _ := newTestServer(t, testConfig(t))
	for range 3 {
		status, _, b := call(t, srv, "POST", "/search", `{"query":"waterproof boots","history_ids":["shoe-01"]}`)
		require.Equal(t, 200, status, "%s", b)
	}
	call(t, srv, "POST", "/search", `{"query":""}`)
	call(t, srv, "GET", "/products/nope", "")
	call(t, srv, "GET", "/no/such/route", "")

	status, header, body := call(t, srv, "GET", "/metrics", "")
	require.Equal(t, 200, status)
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", header.Get("Content-Type"))
	fams, err := parseExposition(string(body))
	require.NoError(t, err, "%s", body)

	assert.Equal(t, 3.0, find(t, fams, "hmpps_http_requests_total", map[string]string{"route": "POST /search", "code": "200"}))
	assert.Equal(t, 1.0, find(t, fams, "hmpps_http_requests_total", map[string]string{"route": "POST /search", "code": "400"}))
	assert.Equal(t, 1.0, find(t, fams, "hmpps_http_requests_total", map[string]string{"route": "GET /products/{id}", "code": "404"}))
	assert.Equal(t, 1.0, find(t, fams, "hmpps_http_requests_total", map[string]string{"route": "other", "code": "404"}))
	for _, stage := range []string{"embed", "retrieve", "history_filter", "summarize", "rerank", "total"} {
		assert.Equal(t, 3.0, find(t, fams, "hmpps_search_stage_duration_seconds_count", map[string]string{"stage": stage}), stage)
	}
	assert.Equal(t, 4.0, find(t, fams, "hmpps_http_request_duration_seconds_count", map[string]string{"route": "POST /search"}))
	assert.Equal(t, 3.0, find(t, fams, "hmpps_searches_total", map[string]string{"outcome": "personalized"}))
	assert.Equal(t, 0.0, find(t, fams, "hmpps_model_calls_total", map[string]string{"operation": "search"}))
	assert.Equal(t, 54.0, find(t, fams, "hmpps_catalog_products", nil))
	assert.Equal(t, "histogram", fams["hmpps_search_stage_duration_seconds"].typ)
}

// The model work of searches shows in the usage counters.
func TestMetricsCountModelWork(t *testing.T) {
	counting := rerank.Func(func(ctx context.Context, req rerank.Request) (rerank.Result, error) {
		res, err := rerank.Preference{}.Rerank(ctx, req)
		res.Usage = retrieval.Usage{ModelCalls: 2, PromptTokens: 100, GeneratedTokens: 2}
		return res, err
	})
	srv, _ := newTestServer(t, testConfig(t), hmpps.WithReranker(counting))
	for range 3 {
		status, _, b := call(t, srv, "POST", "/search", `{"query":"waterproof boots"}`)
		require.Equal(t, 200, status, "%s", b)
		assert.Contains(t, string(b), `"usage":{"model_calls":2,"prompt_tokens":100,"generated_tokens":2`)
	}
	_, _, body := call(t, srv, "GET", "/metrics", "")
	fams, err := parseExposition(string(body))
	require.NoError(t, err)
	search := map[string]string{"operation": "search"}
	assert.Equal(t, 6.0, find(t, fams, "hmpps_model_calls_total", search))
	assert.Equal(t, 300.0, find(t, fams, "hmpps_model_prompt_tokens_total", search))
	assert.Equal(t, 6.0, find(t, fams, "hmpps_model_generated_tokens_total", search))
	assert.Equal(t, 3.0, find(t, fams, "hmpps_searches_total", map[string]string{"outcome": "unpersonalized"}))
}

// The parser above must reject what a scraper rejects, or the test above
// proves nothing.
func TestParseExpositionRejects(t *testing.T) {
	bad := map[string]string{
		"sample before TYPE":    "x 1\n",
		"bad value":             "# TYPE x counter\nx one\n",
		"unterminated label":    "# TYPE x counter\nx{a=\"b 1\n",
		"bad label name":        "# TYPE x counter\nx{1a=\"b\"} 1\n",
		"family split":          "# TYPE x counter\nx 1\n# TYPE y counter\ny 1\nx 2\n",
		"histogram not cumul.":  "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"histogram count wrong": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
		"histogram no +Inf":     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"unknown type":          "# TYPE x countr\nx 1\n",
	}
	for name, text := range bad {
		_, err := parseExposition(text)
		assert.Error(t, err, name)
	}
	_, err := parseExposition("# HELP x a \\\\ help\n# TYPE x counter\nx{a=\"q\\\"uote\\n\"} 1\n")
	assert.NoError(t, err)
}

func TestLabelEscaping(t *testing.T) {
	c := newCounterVec("x_total", "help with \\ and\nnewline", "route")
	c.add(2, "a \"quoted\"\\path\n")
	var b strings.Builder
	c.write(&b)
	fams, err := parseExposition(b.String())
	require.NoError(t, err, b.String())
	require.Len(t, fams["x_total"].samples, 1)
	assert.Equal(t, "a \"quoted\"\\path\n", fams["x_total"].samples[0].labels["route"])
}
