package summarize

import "maps"

// englishStopwords are words too common to say what a query is about. They are
// spelled as tokenize.Words returns them, so contractions appear without their
// apostrophe ("dont"). Negations ("no", "not", "without") are kept: "without
// heel" and "heel" want different products even if a lexical scorer can only
// see the shared word. The last group are shopping phrases that appear in
// queries ("I need something for...") but say nothing about the product.
var englishStopwords = map[string]bool{
	"a": true, "about": true, "above": true, "after": true, "again": true, "all": true,
	"also": true, "am": true, "an": true, "and": true, "any": true, "are": true,
	"as": true, "at": true, "be": true, "because": true, "been": true, "before": true,
	"being": true, "below": true, "between": true, "both": true, "but": true, "by": true,
	"can": true, "could": true, "did": true, "do": true, "does": true, "doing": true,
	"dont": true, "down": true, "during": true, "each": true, "few": true, "for": true,
	"from": true, "further": true, "had": true, "has": true, "have": true, "having": true,
	"he": true, "her": true, "here": true, "hers": true, "him": true, "his": true,
	"how": true, "i": true, "id": true, "if": true, "im": true, "in": true,
	"into": true, "is": true, "it": true, "its": true, "ive": true, "just": true,
	"me": true, "more": true, "most": true, "my": true, "myself": true, "of": true,
	"off": true, "on": true, "once": true, "only": true, "or": true, "other": true,
	"our": true, "ours": true, "out": true, "over": true, "own": true, "same": true,
	"she": true, "should": true, "so": true, "some": true, "such": true, "than": true,
	"that": true, "the": true, "their": true, "theirs": true, "them": true, "then": true,
	"there": true, "these": true, "they": true, "this": true, "those": true, "through": true,
	"to": true, "too": true, "under": true, "until": true, "up": true, "very": true,
	"was": true, "we": true, "were": true, "what": true, "when": true, "where": true,
	"which": true, "while": true, "who": true, "whom": true, "why": true, "will": true,
	"with": true, "would": true, "you": true, "your": true, "yours": true, "yourself": true,

	// Shopping phrases.
	"buy": true, "find": true, "get": true, "like": true, "looking": true, "need": true,
	"please": true, "show": true, "something": true, "want": true,
}

// EnglishStopwords returns a copy of the stopword list Extractive uses when its
// Stopwords field is nil, for callers who want to extend it.
func EnglishStopwords() map[string]bool {
	return maps.Clone(englishStopwords)
}
