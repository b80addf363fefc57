package eval

import (
	"strings"

	"hmpps/internal/tokenize"
	"hmpps/summarize"
)

// CategoryQuery builds the search query for a product from its category path,
// as Ai et al. (SIGIR 2017) did for Amazon data, where real queries are not
// public: the words of the path from the top level down, lowercased, without
// stopwords, each word kept at its first occurrence. A path of fewer than two
// levels says nothing beyond the store's department and gives "", meaning no
// query. For example
//
//	Magazine Subscriptions > Cooking, Food & Wine > Recipes & Techniques
//
// becomes "magazine subscriptions cooking food wine recipes techniques".
//
// The levels must be plain text (the loaders unescape HTML entities: "&amp;"
// here would become the word "amp"). stopwords holds lowercase words as
// tokenize.Words returns them; nil means summarize.EnglishStopwords.
func CategoryQuery(path []string, stopwords map[string]bool) string {
	if len(path) < 2 {
		return ""
	}
	return CategoryWords(path, stopwords)
}

// CategoryWords is CategoryQuery without its rule on the number of levels:
// the words of every level, for data whose category text joins its levels
// so that they cannot be told apart (RecBole's Amazon files, where one
// "level" holds the whole path, see ReadRecBole). It returns "" only for a
// path without words.
func CategoryWords(path []string, stopwords map[string]bool) string {
	if stopwords == nil {
		stopwords = englishStopwords
	}
	seen := make(map[string]bool)
	var words []string
	for _, level := range path {
		for _, w := range tokenize.Words(level) {
			if stopwords[w] || seen[w] {
				continue
			}
			seen[w] = true
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// englishStopwords is read once; CategoryQuery never modifies it.
var englishStopwords = summarize.EnglishStopwords()
