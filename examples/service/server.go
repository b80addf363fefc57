package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
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
	// routes are the registered patterns with the role each needs: the
	// route label of the metrics takes only these values, so a client
	// cannot grow the series.
	routes map[string]role
	// keys are the callers; empty, everyone is anonymous.
	keys *keyring
	// rates are the searches' token buckets; nil without -search-rate.
	rates *searchRates
	// gate bounds the searches the engine runs at once.
	gate *gate
	// saving serializes POST /save.
	saving sync.Mutex
}

// newServer returns the service's handler over eng; cfg's access, fair use,
// limits and timeouts are read.
func newServer(eng *hmpps.Engine, cfg config, log *slog.Logger) *server {
	s := &server{eng: eng, cfg: cfg, log: log, mux: http.NewServeMux(), routes: map[string]role{}, gate: newGate(cfg.FairUse)}
	s.keys = &s.cfg.Access.Keys
	s.rates = newSearchRates(cfg.FairUse, s.keys, time.Now)
	s.metrics = newMetrics(eng.Len, engineUsage(eng), s.gate.load)
	s.handle("PUT /products", roleWrite, s.upsertProducts)
	s.handle("GET /products/{id}", roleRead, s.getProduct)
	s.handle("DELETE /products/{id}", roleWrite, s.deleteProduct)
	s.handle("POST /search", roleRead, s.search)
	s.handle("GET /healthz", rolePublic, s.healthz)
	s.handle("GET /metrics", roleAdmin, s.metrics.ServeHTTP)
	s.handle("POST /save", roleAdmin, s.saveCatalog)
	return s
}

func (s *server) handle(pattern string, need role, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.routes[pattern] = need
}

// callerKey is the context key of the request's caller.
type callerKey struct{}

// callerOf returns the caller ServeHTTP authenticated.
func callerOf(ctx context.Context) apiKey {
	k, _ := ctx.Value(callerKey{}).(apiKey)
	return k
}

// ServeHTTP routes the request, authenticates its caller and checks the
// role, bounds its body, answers what no route takes in JSON too, and
// counts and times it.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	route := "other"
	// A request no route takes still needs a key, so that an unknown
	// caller cannot map the service by its 404s and 405s.
	need := roleRead
	if _, pattern := s.mux.Handler(r); pattern != "" {
		if n, ok := s.routes[pattern]; ok {
			route, need = pattern, n
		}
	}
	caller := apiKey{name: anonymous, role: roleAdmin}
	if !s.keys.open() {
		caller = apiKey{name: noKey}
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "handler panicked", "route", route, "key", caller.name, "panic", v, "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeAPIError(sw, http.StatusInternalServerError, apiError{Code: "internal", Message: http.StatusText(http.StatusInternalServerError)})
			}
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.requests.add(1, route, strconv.Itoa(status))
		s.metrics.duration.observe(took, route)
		if rejected(status, sw.code) {
			s.metrics.rejections.add(1, sw.code, caller.name)
		}
		s.log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", route,
			"key", caller.name, "status", status, "code", sw.code, "took", took)
	}()
	if need > rolePublic && !s.keys.open() {
		var err error
		if caller, err = s.authenticate(r); err != nil {
			// RFC 6750: a request without credentials is told the scheme,
			// one with bad credentials also why.
			challenge := `Bearer realm="hmpps"`
			if errors.Is(err, errBadKey) {
				challenge += `, error="invalid_token"`
			}
			sw.Header().Set("WWW-Authenticate", challenge)
			writeError(sw, r, s.log, err)
			return
		}
		if caller.role < need {
			writeError(sw, r, s.log, fmt.Errorf("%w: key %q has the role %s; %s needs %s", errForbidden, caller.name, caller.role, route, need))
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, caller))
	r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
	if route == "other" {
		s.noRoute(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// authenticate returns the key of the request's Authorization header.
// More than one such header is refused: a proxy and the service could each
// read a different one.
func (s *server) authenticate(r *http.Request) (apiKey, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return apiKey{name: noKey}, errNoKey
	case 1:
		return s.keys.identify(values[0])
	default:
		return apiKey{name: noKey}, fmt.Errorf("%w: %d Authorization headers, want one", errBadKey, len(values))
	}
}

// rejected reports whether an answer refused the request for what it was
// or who sent it: every 4xx, and a 503 for a full search queue.
func rejected(status int, code string) bool {
	return (status >= 400 && status < 500) || code == "busy"
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
		writeAPIError(w, probe.status, apiError{Code: "method_not_allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + probe.header.Get("Allow")})
	case http.StatusNotFound, 0:
		writeAPIError(w, http.StatusNotFound, apiError{Code: "no_route", Message: "no endpoint at " + r.URL.Path})
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
	// code is the error code of the answer, if it is an error.
	code string
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
