package hmpps

import "hmpps/summarize"

// prepareText derives from en's product what searches read of its text, so
// that no search parses HTML or tokenizes catalog text: the plain text, its
// lexical fields, the header and the summarizer's prepared text. Upsert and
// Open call it once per product; the file format stores none of it (the
// lexical index's statistics, which it does store, count these fields).
func (e *Engine) prepareText(en *entry) {
	en.text, en.lexical = en.product.textFields()
	en.header = en.product.header()
	if e.cfg.summarizer != nil {
		en.prepared = e.extractive().Prepare(en.product.summaryText())
	}
}

// extractive returns the extractive summarizer the prepared texts serve: the
// configured summarizer when it is one, else the fallback's.
func (e *Engine) extractive() summarize.Extractive {
	if x, ok := e.cfg.summarizer.(summarize.Extractive); ok {
		return x
	}
	return summarize.Extractive{}
}
