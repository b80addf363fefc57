package hmpps

import (
	"errors"
	"fmt"

	"hmpps/retrieval/lexical"
)

// fileSections returns the sections Save writes after the catalog. The
// caller holds e.mu, so they describe the same catalog as the records.
func (e *Engine) fileSections() ([]fileSection, error) {
	lex, err := e.lex.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("lexical index: %w", err)
	}
	sections := []fileSection{{Kind: sectionLexical, Version: sectionLexicalVersion, Data: lex}}
	if e.cfg.model != nil {
		b, err := e.cfg.model.marshal()
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		sections = append(sections, fileSection{Kind: sectionModel, Version: sectionModelVersion, Data: b})
	}
	return sections, nil
}

// modelSection returns the model a file's sections hold, or nil. A model
// section of another version fails the open rather than being skipped: the
// engine would silently rank without the model it was saved with.
func modelSection(sections []fileSection) (*Model, error) {
	for _, sec := range sections {
		if sec.Kind != sectionModel {
			continue
		}
		if sec.Version != sectionModelVersion {
			return nil, fmt.Errorf("%w: model section version %d, this library reads %d", ErrInvalidModel, sec.Version, sectionModelVersion)
		}
		m, err := unmarshalModel(sec.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorruptFile, err)
		}
		return m, nil
	}
	return nil, nil
}

// restoreLexical restores the lexical index from the sections' lexical
// section, and reports whether it could: a file of version 1 has none, and
// a section of another version or encoding (written by a library whose
// lexical fields or encoding differ) is not an error, the index is rebuilt
// from the products (see checkLexical). It reads nothing else of the
// engine, so that Open runs it beside loading the catalog.
func (e *Engine) restoreLexical(sections []fileSection) (bool, error) {
	for _, sec := range sections {
		if sec.Kind == sectionLexical {
			return e.loadLexical(sec)
		}
	}
	return false, nil
}

// checkLexical rebuilds the lexical index from the products when
// restoreLexical could not restore it, and otherwise checks that it holds
// the products.
func (e *Engine) checkLexical(restored bool) error {
	if !restored {
		e.rebuildLexical()
		return nil
	}
	// The checksum vouches for the bytes; this vouches that the section
	// and the catalog were written together.
	if e.lex.Len() != len(e.products) {
		return fmt.Errorf("%w: the lexical index holds %d products, the catalog %d", ErrCorruptFile, e.lex.Len(), len(e.products))
	}
	for id := range e.products {
		if !e.lex.Contains(id) {
			return fmt.Errorf("%w: product %q is not in the lexical index", ErrCorruptFile, id)
		}
	}
	return nil
}

// rebuildLexical indexes the text of every product of the catalog, the
// tokenizing on every CPU.
func (e *Engine) rebuildLexical() {
	ids := make([]string, 0, len(e.products))
	for id := range e.products {
		ids = append(ids, id)
	}
	analyses := make([]lexical.Analysis, len(ids))
	parallel(len(ids), minProductsPerWorker, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := e.products[ids[i]].product()
			_, doc := p.textFields()
			analyses[i] = lexical.Analyze(doc)
		}
	})
	e.lex.UpsertBatch(ids, analyses)
}

// loadLexical restores the lexical index from its section and reports
// whether it could; a section of another version or encoding is not an
// error, the index is rebuilt.
func (e *Engine) loadLexical(sec fileSection) (bool, error) {
	if sec.Version != sectionLexicalVersion {
		return false, nil
	}
	err := e.lex.UnmarshalBinary(sec.Data)
	switch {
	case errors.Is(err, lexical.ErrFormat):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: %v", ErrCorruptFile, err)
	}
	return true, nil
}
