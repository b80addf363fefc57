package eval

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"hmpps/hmpps"
	"hmpps/internal/htmltext"
)

// review is the part of an Amazon review row the evaluation uses.
type review struct {
	User string
	ASIN string
	Time int64
}

// parseReview decodes one reviews line. reviewerID and asin must be
// non-empty strings and unixReviewTime a non-negative whole number.
func parseReview(b []byte) (review, error) {
	var raw struct {
		User *string     `json:"reviewerID"`
		ASIN *string     `json:"asin"`
		Time json.Number `json:"unixReviewTime"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return review{}, fmt.Errorf("%w: %v", ErrMalformedRecord, err)
	}
	switch {
	case raw.User == nil || strings.TrimSpace(*raw.User) == "":
		return review{}, fmt.Errorf("%w: no reviewerID", ErrMalformedRecord)
	case raw.ASIN == nil || strings.TrimSpace(*raw.ASIN) == "":
		return review{}, fmt.Errorf("%w: no asin", ErrMalformedRecord)
	case raw.Time == "":
		return review{}, fmt.Errorf("%w: no unixReviewTime", ErrMalformedRecord)
	}
	t, err := strconv.ParseInt(raw.Time.String(), 10, 64)
	if err != nil || t < 0 {
		return review{}, fmt.Errorf("%w: unixReviewTime %q is not a non-negative whole number", ErrMalformedRecord, raw.Time)
	}
	return review{User: strings.TrimSpace(*raw.User), ASIN: strings.TrimSpace(*raw.ASIN), Time: t}, nil
}

// metadata is the part of an Amazon metadata row the evaluation uses.
type metadata struct {
	ASIN        string     `json:"asin"`
	Title       string     `json:"title"`
	Brand       string     `json:"brand"`
	Category    stringList `json:"category"`
	Description stringList `json:"description"`
	ImageURL    stringList `json:"imageURL"`
	ImageHiRes  stringList `json:"imageURLHighRes"`
}

// parseMetadata decodes one metadata line; asin must be a non-empty string.
func parseMetadata(b []byte) (metadata, error) {
	var m metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return metadata{}, fmt.Errorf("%w: %v", ErrMalformedRecord, err)
	}
	m.ASIN = strings.TrimSpace(m.ASIN)
	if m.ASIN == "" {
		return metadata{}, fmt.Errorf("%w: no asin", ErrMalformedRecord)
	}
	return m, nil
}

// stringList accepts a JSON list of strings, a single string or null: the
// scrape is not consistent about which one a field holds.
type stringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *stringList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// maxDisplaySentenceWords caps the description sentence in a display title:
// a title is a label, and some first sentences run for a paragraph.
const maxDisplaySentenceWords = 16

// product turns a metadata row into a catalog product and reports whether
// its title was broken markup that had to be replaced.
func (m metadata) product() (p hmpps.Product, brokenTitle bool) {
	p.ID = m.ASIN
	p.Brand = htmltext.Plain(m.Brand)
	for _, c := range m.Category {
		if c = htmltext.Plain(c); c != "" {
			p.Category = append(p.Category, c)
		}
	}
	var desc []string
	for _, s := range m.Description {
		if s = htmltext.Plain(s); s != "" {
			desc = append(desc, s)
		}
	}
	p.Description = strings.Join(desc, "\n")
	// High-resolution URLs are what a vision model would want; a product
	// whose scrape kept only thumbnails still has a picture.
	urls := m.ImageHiRes
	if len(urls) == 0 {
		urls = m.ImageURL
	}
	for _, u := range urls {
		if u = strings.TrimSpace(u); u != "" {
			p.Images = append(p.Images, hmpps.Image{URI: u})
		}
	}
	brokenTitle = strings.Contains(m.Title, "<")
	if !brokenTitle {
		p.Title = htmltext.Plain(m.Title)
	}
	if p.Title == "" {
		p.Title = displayTitle(p.Brand, p.Description)
	}
	if p.Title == "" {
		p.Title = p.ID
	}
	return p, brokenTitle
}

// displayTitle builds a title from what a product page would show first: the
// brand and the first sentence of the description, cut to a label's length.
func displayTitle(brand, description string) string {
	sentence := firstSentence(description)
	if words := strings.Fields(sentence); len(words) > maxDisplaySentenceWords {
		sentence = strings.Join(words[:maxDisplaySentenceWords], " ") + "…"
	}
	switch {
	case brand == "":
		return sentence
	case sentence == "":
		return brand
	}
	return brand + ": " + sentence
}

// firstSentence returns the text up to the first line break or the first
// '.', '!' or '?' followed by a space, without the closing period.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	for i, r := range s {
		if (r == '.' || r == '!' || r == '?') && i+1 < len(s) && unicode.IsSpace(rune(s[i+1])) {
			if r != '.' {
				i++
			}
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimRight(strings.TrimSpace(s), ".")
}
