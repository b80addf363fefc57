package main

import (
	"context"
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

// search is POST /search.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	body, err := decodeJSON[searchRequest](r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	req, err := body.toEngine()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SearchTimeout)
	defer cancel()
	resp, err := s.eng.Search(ctx, req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.observeSearch(resp)
	writeJSON(w, http.StatusOK, newSearchResponse(resp))
}

// healthz is GET /healthz: the engine answers, and how big the catalog is.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status   string `json:"status"`
		Products int    `json:"products"`
	}{"ok", s.eng.Len()})
}
