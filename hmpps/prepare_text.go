package hmpps

// prepareText derives from en's product what searches read of its text, so
// that no search parses HTML or tokenizes catalog text: the plain text, its
// lexical fields, the header and the summarizer's prepared text. Upsert and
// Open call it once per product; the file format stores none of it (the
// lexical index's statistics, which it does store, count these fields).
func (e *Engine) prepareText(en *entry) {
	en.text, en.lexical = en.product.textFields()
	en.header = en.product.header()
	if e.cfg.summarizer != nil {
		en.prepared = e.cfg.plan.preparer.Prepare(en.product.summaryText())
	}
}
