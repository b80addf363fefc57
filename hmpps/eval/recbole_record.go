package eval

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The columns of RecBole's atomic files that the loader reads. A header
// names each column as "name:type"; other columns are ignored.
const (
	colUser     = "user_id:token"
	colItemList = "item_id_list:token_seq"
	colItem     = "item_id:token"
	colText     = "text:token_seq"
)

// interColumns are the positions of the columns of a sequential .inter file.
type interColumns struct {
	user, list, item, n int
}

// parseInterHeader finds the user, item list and item columns of a
// sequential .inter file's header: tab-separated "name:type" fields.
func parseInterHeader(line string) (interColumns, error) {
	c := interColumns{user: -1, list: -1, item: -1}
	fields := strings.Split(line, "\t")
	c.n = len(fields)
	for i, f := range fields {
		switch strings.TrimSpace(f) {
		case colUser:
			c.user = i
		case colItemList:
			c.list = i
		case colItem:
			c.item = i
		}
	}
	if c.user < 0 || c.list < 0 || c.item < 0 {
		return c, fmt.Errorf("%w: header %q lacks one of %s, %s, %s", ErrMalformedRecord, line, colUser, colItemList, colItem)
	}
	return c, nil
}

// interRow is one line of a sequential .inter file: a user, the items they
// bought before (oldest first, at most the file's window), and the next.
type interRow struct {
	User string
	List []string
	Item string
}

// parseInterRow reads one line under the header's columns. The user and the
// item must be single non-empty tokens; the list holds space-separated
// tokens and may be empty.
func parseInterRow(line string, c interColumns) (interRow, error) {
	fields := strings.Split(line, "\t")
	if len(fields) != c.n {
		return interRow{}, fmt.Errorf("%w: %d tab-separated fields, the header has %d", ErrMalformedRecord, len(fields), c.n)
	}
	r := interRow{User: strings.TrimSpace(fields[c.user]), Item: strings.TrimSpace(fields[c.item]), List: strings.Fields(fields[c.list])}
	switch {
	case r.User == "" || strings.ContainsAny(r.User, " \t"):
		return interRow{}, fmt.Errorf("%w: user %q is not one token", ErrMalformedRecord, r.User)
	case r.Item == "" || strings.ContainsAny(r.Item, " \t"):
		return interRow{}, fmt.Errorf("%w: item %q is not one token", ErrMalformedRecord, r.Item)
	}
	return r, nil
}

// parseIndexLine reads one line of an item2index or user2index file: an
// original ID and the token the .inter files use for it, separated by
// whitespace.
func parseIndexLine(line string) (id, token string, err error) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return "", "", fmt.Errorf("%w: want an ID and an index, got %d fields", ErrMalformedRecord, len(f))
	}
	return f[0], f[1], nil
}

// textColumns are the positions of the columns of a .text file.
type textColumns struct {
	item, text, n int
}

// parseTextHeader finds the item and text columns of a .text file's header.
func parseTextHeader(line string) (textColumns, error) {
	c := textColumns{item: -1, text: -1}
	fields := strings.Split(line, "\t")
	c.n = len(fields)
	for i, f := range fields {
		switch strings.TrimSpace(f) {
		case colItem:
			c.item = i
		case colText:
			c.text = i
		}
	}
	if c.item < 0 || c.text < 0 {
		return c, fmt.Errorf("%w: header %q lacks %s or %s", ErrMalformedRecord, line, colItem, colText)
	}
	return c, nil
}

// itemText is a product's text as a .text file gives it.
type itemText struct {
	ID                     string
	Title, Category, Brand string
}

// parseTextRow reads one line of a .text file: the product's ID and its raw
// text, which splitItemText splits. An empty ID or an empty text is an
// error: a product needs a name.
func parseTextRow(line string, c textColumns) (id, text string, err error) {
	fields := strings.Split(line, "\t")
	if len(fields) != c.n {
		return "", "", fmt.Errorf("%w: %d tab-separated fields, the header has %d", ErrMalformedRecord, len(fields), c.n)
	}
	id, text = strings.TrimSpace(fields[c.item]), strings.TrimSpace(fields[c.text])
	switch {
	case id == "" || strings.ContainsAny(id, " \t"):
		return "", "", fmt.Errorf("%w: item %q is not one token", ErrMalformedRecord, id)
	case strings.Trim(text, ". ") == "":
		return "", "", fmt.Errorf("%w: item %q has no text", ErrMalformedRecord, id)
	}
	return id, text, nil
}

// splitItemText splits UniSRec's "TITLE. CATEGORY. BRAND. " into its parts.
// Titles and brands may contain ". " ("Mr. Heater", "C.R. Laurence"), so
// when the catalog's categories share a root (see categoryRoot), the
// category is the part that starts with the last ". ROOT" and runs to the
// next ". "; a text with ". . " has an empty category there; any other is
// split at its last two ". ". A text of another shape is all title.
func splitItemText(s, root string) (title, category, brand string) {
	s = strings.TrimSpace(s)
	body, ok := strings.CutSuffix(s, ".")
	if !ok {
		return s, "", ""
	}
	if root != "" {
		if i := strings.LastIndex(body, ". "+root); i > 0 {
			rest := body[i+2:]
			if j := strings.Index(rest, ". "); j >= 0 && (len(rest) == len(root) || rest[len(root)] == ' ' || rest[len(root)] == '.') {
				if title = strings.TrimSpace(body[:i]); title != "" {
					return title, strings.TrimSpace(rest[:j]), strings.TrimSpace(rest[j+2:])
				}
			}
		}
	}
	// "TITLE. . BRAND": an empty category, whatever the brand holds.
	if i := strings.LastIndex(body, ". . "); i > 0 {
		if title = strings.TrimSpace(body[:i]); title != "" {
			return title, "", strings.TrimSpace(body[i+4:])
		}
	}
	i := strings.LastIndex(body, ". ")
	if i < 0 {
		return s, "", ""
	}
	j := strings.LastIndex(body[:i], ". ")
	if j < 0 {
		return s, "", ""
	}
	if title = strings.TrimSpace(body[:j]); title == "" {
		return s, "", ""
	}
	return title, strings.TrimSpace(body[j+2 : i]), strings.TrimSpace(body[i+2:])
}

// categoryRoot returns the longest run of leading words that more than half
// of the non-empty categories share: the department every path of an
// Amazon category starts with ("Industrial & Scientific"), or "" when there
// is none.
func categoryRoot(categories []string) string {
	var words [][]string
	for _, c := range categories {
		if w := strings.Fields(c); len(w) > 0 {
			words = append(words, w)
		}
	}
	var root []string
	for n := 1; ; n++ {
		counts := make(map[string]int)
		best, bestN := "", 0
		for _, w := range words {
			if len(w) < n {
				continue
			}
			p := strings.Join(w[:n], " ")
			counts[p]++
			if counts[p] > bestN || counts[p] == bestN && p < best {
				best, bestN = p, counts[p]
			}
		}
		if 2*bestN <= len(words) {
			return strings.Join(root, " ")
		}
		root = strings.Fields(best)
	}
}

// description is one line of a descriptions file.
type description struct {
	ASIN        string
	Description []string
}

// parseDescription decodes one descriptions line: {"asin": ..., "description":
// [...]}, the description a string, a list of strings or null; asin must be
// a non-empty string.
func parseDescription(b []byte) (description, error) {
	var raw struct {
		ASIN        *string    `json:"asin"`
		Description stringList `json:"description"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return description{}, fmt.Errorf("%w: %v", ErrMalformedRecord, err)
	}
	if raw.ASIN == nil || strings.TrimSpace(*raw.ASIN) == "" {
		return description{}, fmt.Errorf("%w: no asin", ErrMalformedRecord)
	}
	return description{ASIN: strings.TrimSpace(*raw.ASIN), Description: raw.Description}, nil
}
