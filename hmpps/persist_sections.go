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

// loadSections restores what the sections hold into an engine whose
// products Open has just loaded, and rebuilds from the products what they
// do not hold: the lexical index of a version 1 file, or one written by a
// library whose lexical fields or encoding differ.
func (e *Engine) loadSections(sections []fileSection) error {
	lexical := false
	for _, sec := range sections {
		switch sec.Kind {
		case sectionLexical:
			ok, err := e.loadLexical(sec)
			if err != nil {
				return err
			}
			lexical = ok
		}
	}
	if !lexical {
		for id, en := range e.products {
			e.lex.Upsert(id, en.lexical)
		}
	}
	return nil
}

// loadLexical restores the lexical index from its section and reports
// whether it could; a section of another version is not an error, the
// index is rebuilt.
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
	// The checksum vouches for the bytes; this vouches that the section
	// and the catalog were written together.
	if e.lex.Len() != len(e.products) {
		return false, fmt.Errorf("%w: the lexical index holds %d products, the catalog %d", ErrCorruptFile, e.lex.Len(), len(e.products))
	}
	for id := range e.products {
		if !e.lex.Contains(id) {
			return false, fmt.Errorf("%w: product %q is not in the lexical index", ErrCorruptFile, id)
		}
	}
	return true, nil
}
