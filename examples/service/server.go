package main

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"hmpps/hmpps"
	"hmpps/retrieval"
)

// server is the HTTP face of one engine. It is an http.Handler, so tests
// drive it with httptest and main with an http.Server.
type server struct {
	eng     *hmpps.Engine
	cfg     config
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	// routes are the registered patterns: the route label of the metrics
	// takes only these values, so a client cannot grow the series.
	routes map[string]bool
}

// newServer returns the service's handler over eng; only cfg's limits and
// timeouts are read.
func newServer(eng *hmpps.Engine, cfg config, log *slog.Logger) *server {
	s := &server{eng: eng, cfg: cfg, log: log, mux: http.NewServeMux(), routes: map[string]bool{}}
	s.metrics = newMetrics(eng.Len, engineUsage(eng))
	s.handle("PUT /products", s.upsertProducts)
	s.handle("GET /products/{id}", s.getProduct)
	s.handle("DELETE /products/{id}", s.deleteProduct)
	s.handle("POST /search", s.search)
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /metrics", s.metrics.ServeHTTP)
	return s
}

func (s *server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.routes[pattern] = true
}

// ServeHTTP routes the request, bounds its body, answers what no route
// takes in JSON too, and counts and times it.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	route := "other"
	if _, pattern := s.mux.Handler(r); s.routes[pattern] {
		route = pattern
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "handler panicked", "route", route, "panic", v, "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeJSON(sw, http.StatusInternalServerError, errorBody{apiError{Code: "internal", Message: http.StatusText(http.StatusInternalServerError)}})
			}
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.requests.add(1, route, strconv.Itoa(status))
		s.metrics.duration.observe(took, route)
		s.log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", route, "status", status, "took", took)
	}()
	r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
	if route == "other" {
		s.noRoute(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// noRoute answers a request no route takes as the mux would (404, or 405
// with Allow, or a redirect to the clean path), with a JSON body.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	for _, k := range []string{"Allow", "Location"} {
		if v := probe.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	switch probe.status {
	case http.StatusMethodNotAllowed:
		writeJSON(w, probe.status, errorBody{apiError{Code: "method_not_allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + probe.header.Get("Allow")}})
	case http.StatusNotFound, 0:
		writeJSON(w, http.StatusNotFound, errorBody{apiError{Code: "no_route", Message: "no endpoint at " + r.URL.Path}})
	default:
		w.WriteHeader(probe.status)
	}
}

// personalized reports whether the user's history shaped the ranking.
func personalized(r *hmpps.Response) bool { return r.Personalized }

// engineUsage reports the engine's model work so far by operation, for the
// metrics: indexing (captions, embeddings at upsert) and searching.
func engineUsage(eng *hmpps.Engine) func() map[string]retrieval.Usage {
	return func() map[string]retrieval.Usage {
		u := eng.Usage()
		return map[string]retrieval.Usage{"index": u.Index, "search": u.Search}
	}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerProbe records what the mux's fallback handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
