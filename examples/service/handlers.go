package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"hmpps/hmpps"
)

// upsertProducts is PUT /products: a batch of products, all or nothing.
func (s *server) upsertProducts(w http.ResponseWriter, r *http.Request) {
	body, err := decodeJSON[upsertRequest](r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(body.Products) == 0 {
		writeError(w, r, s.log, fmt.Errorf("%w: products is empty", errBadInput))
		return
	}
	if len(body.Products) > s.cfg.MaxBatch {
		writeError(w, r, s.log, fmt.Errorf("%w: %d products in one batch, the limit is %d", errTooLarge, len(body.Products), s.cfg.MaxBatch))
		return
	}
	products := make([]hmpps.Product, len(body.Products))
	for i, p := range body.Products {
		if products[i], err = p.toEngine(); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	// Past the deadline the batch fails as a whole: nothing is written.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpsertTimeout)
	defer cancel()
	if err := s.eng.Upsert(ctx, products...); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, upsertResponse{Upserted: len(products), Products: s.eng.Len()})
}

// getProduct is GET /products/{id}.
func (s *server) getProduct(w http.ResponseWriter, r *http.Request) {
	p, err := s.eng.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, fromEngine(p, true))
}

// deleteProduct is DELETE /products/{id}. It is idempotent, as
// Engine.Delete is: an unknown ID is not an error.
func (s *server) deleteProduct(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.Delete(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// search is POST /search. A search is taken from its caller's rate first,
// so that even a malformed one counts; then the body is read and checked
// against the service's bounds; only then does it wait for its turn at the
// engine, where the model stages are.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	if wait, err := s.rates.take(callerOf(r.Context()).name); err != nil {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, r, s.log, err)
		return
	}
	body, err := decodeJSON[searchRequest](r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.cfg.FairUse.checkSearch(&body); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	req, err := body.toEngine()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// The deadline covers the wait in the queue too: a client is not kept
	// longer than -search-timeout however busy the service is.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SearchTimeout)
	defer cancel()
	if err := s.gate.enter(ctx); err != nil {
		if errors.Is(err, errBusy) {
			w.Header().Set("Retry-After", retryAfter(s.cfg.FairUse.SearchQueueWait))
		}
		writeError(w, r, s.log, err)
		return
	}
	resp, err := func() (*hmpps.Response, error) {
		// Deferred, so that a panicking search gives its place back too.
		defer s.gate.leave()
		return s.eng.Search(ctx, req)
	}()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.observeSearch(resp)
	writeJSON(w, http.StatusOK, newSearchResponse(resp))
}

// saveCatalog is POST /save: the catalog written to its -catalog file now,
// atomically, as at shutdown, so that a crash later loses only what came
// after.
func (s *server) saveCatalog(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Milvus.Catalog {
		writeError(w, r, s.log, fmt.Errorf("%w: the catalog lives in the Milvus collection (-milvus-catalog)", errNoCatalogFile))
		return
	}
	if s.cfg.Catalog == "" {
		writeError(w, r, s.log, fmt.Errorf("%w: the service was started without -catalog, so its catalog lives in memory only", errNoCatalogFile))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpsertTimeout)
	defer cancel()
	s.saving.Lock()
	defer s.saving.Unlock()
	if err := s.eng.Save(ctx, s.cfg.Catalog); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Products int `json:"products"`
	}{s.eng.Len()})
}

// healthz is GET /healthz: the engine answers, and how big the catalog is.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status   string `json:"status"`
		Products int    `json:"products"`
	}{"ok", s.eng.Len()})
}
