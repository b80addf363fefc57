package summarize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePerspectives(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		want    []string
		wantErr bool
	}{
		{"object", `{"perspectives": ["waterproofing", "ankle support"]}`, 5, []string{"waterproofing", "ankle support"}, false},
		{"bare list", `["sole grip"]`, 5, []string{"sole grip"}, false},
		{"code fence", "```json\n{\"perspectives\": [\"style\"]}\n```", 5, []string{"style"}, false},
		{"capped", `["a", "b", "c", "d"]`, 2, []string{"a", "b"}, false},
		{"deduplicated and trimmed", `["  Waterproof ", "waterproof", "", "warm\nlining"]`, 5, []string{"Waterproof", "warm lining"}, false},
		{"long entry cut", `["` + strings.Repeat("x", 100) + `"]`, 5, []string{strings.Repeat("x", 60)}, false},
		{"empty list", `{"perspectives": []}`, 5, nil, true},
		{"not JSON", `waterproofing, grip`, 5, nil, true},
		{"wrong type", `{"perspectives": [1, 2]}`, 5, nil, true},
		{"empty", ``, 5, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePerspectives(tt.in, tt.max)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrBadModelAnswer)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCleanSummary(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		want    string
		wantErr bool
	}{
		{"  Waterproof   leather\nboots. ", 10, "Waterproof leather boots.", false},
		{"Summary: Waterproof boots.", 10, "Waterproof boots.", false},
		{`"Quoted summary."`, 10, "Quoted summary.", false},
		{"one two three four", 2, "one two…", false},
		{"   ", 10, "", true},
	}
	for _, tt := range tests {
		got, err := cleanSummary(tt.in, tt.max)
		if tt.wantErr {
			assert.ErrorIs(t, err, ErrBadModelAnswer, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

// FuzzParsePerspectives: any model output gives a clean, bounded list or
// an error, never a panic.
func FuzzParsePerspectives(f *testing.F) {
	for _, s := range []string{`{"perspectives":["a","b"]}`, `["x"]`, "```json\n[]\n```", `{"perspectives":null}`, `[""]`, "\xff"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		got, err := parsePerspectives(s, max)
		if err != nil {
			return
		}
		if len(got) == 0 || (max > 0 && len(got) > max) {
			t.Fatalf("got %d perspectives for max %d", len(got), max)
		}
		for _, p := range got {
			if p == "" || utf8.RuneCountInString(p) > maxPerspectiveRunes || !utf8.ValidString(p) || strings.TrimSpace(p) != p {
				t.Fatalf("unclean perspective %q", p)
			}
		}
	})
}

// FuzzCleanSummary: the budget always holds.
func FuzzCleanSummary(f *testing.F) {
	f.Add("Summary: a b c", 2)
	f.Add("\"\"", 5)
	f.Fuzz(func(t *testing.T, s string, max int) {
		got, err := cleanSummary(s, max)
		if err != nil {
			return
		}
		if n := len(strings.Fields(got)); got == "" || (max > 0 && n > max) {
			t.Fatalf("cleanSummary(%q, %d) = %q (%d words)", s, max, got, n)
		}
	})
}
