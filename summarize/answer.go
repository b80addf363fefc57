package summarize

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPerspectiveRunes caps one perspective: they are meant to be short noun
// phrases, and a runaway one must not bloat every summary prompt.
const maxPerspectiveRunes = 60

// perspectivesAnswer is the JSON shape the perspectives call asks for.
type perspectivesAnswer struct {
	Perspectives []string `json:"perspectives"`
}

// parsePerspectives reads a model's perspectives answer: the requested
// object {"perspectives": [...]}, or a bare JSON list, possibly inside a
// Markdown code fence. Entries are trimmed, emptied of control characters,
// cut to 60 runes, de-duplicated ignoring case and capped at max (when max >
// 0). An answer with no usable entry is an error wrapping
// ErrBadModelAnswer.
func parsePerspectives(s string, max int) ([]string, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "```"))
	}
	var list []string
	var obj perspectivesAnswer
	if err := json.Unmarshal([]byte(s), &obj); err == nil && obj.Perspectives != nil {
		list = obj.Perspectives
	} else if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("%w: perspectives are not a JSON list: %q", ErrBadModelAnswer, clip(s, 60))
	}
	out := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, p := range list {
		p = cleanLine(p)
		if utf8.RuneCountInString(p) > maxPerspectiveRunes {
			p = strings.TrimSpace(string([]rune(p)[:maxPerspectiveRunes]))
		}
		key := strings.ToLower(p)
		if p == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, p)
		if max > 0 && len(out) == max {
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no perspectives in %q", ErrBadModelAnswer, clip(s, 60))
	}
	return out, nil
}

// cleanLine replaces control characters and runs of whitespace with single
// spaces and trims the result.
func cleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cleanSummary turns a model's summary into plain text of at most maxWords
// words: whitespace collapsed, a leading "Summary:" label and wrapping
// quotes removed, and the text cut at the budget with an ellipsis. An empty
// result is an error wrapping ErrBadModelAnswer.
func cleanSummary(s string, maxWords int) (string, error) {
	s = cleanLine(s)
	for _, label := range []string{"summary:", "product summary:"} {
		if len(s) >= len(label) && strings.EqualFold(s[:len(label)], label) {
			s = strings.TrimSpace(s[len(label):])
		}
	}
	s = strings.Trim(s, "\"“”'")
	words := strings.Fields(s)
	if len(words) == 0 {
		return "", fmt.Errorf("%w: empty summary", ErrBadModelAnswer)
	}
	if maxWords > 0 && len(words) > maxWords {
		return strings.Join(words[:maxWords], " ") + defaultEllipsis, nil
	}
	return strings.Join(words, " "), nil
}

// clip cuts s to n runes for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
