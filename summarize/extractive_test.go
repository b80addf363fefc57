package summarize

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/internal/htmltext"
)

const bootText = "The Ridge is our lightest trail boot. " +
	"Its waterproof membrane keeps feet dry in streams and rain. " +
	"The upper is full-grain leather with a padded collar. " +
	"A Vibram sole grips wet rock and loose gravel. " +
	"Each pair weighs 1.1 kg in size 9. " +
	"Ships in recycled packaging."

func TestExtractive(t *testing.T) {
	tests := []struct {
		name     string
		e        Extractive
		query    string
		text     string
		maxWords int
		want     string
	}{
		{
			name:  "picks the query-relevant sentence",
			query: "waterproof boots for rain", text: bootText, maxWords: 10,
			want: "Its waterproof membrane keeps feet dry in streams and rain.",
		},
		{
			name:  "leftover budget goes to the lead sentence, then to what fits",
			query: "waterproof", text: bootText, maxWords: 21,
			want: "The Ridge is our lightest trail boot. Its waterproof membrane keeps feet dry in streams and rain. Ships in recycled packaging.",
		},
		{
			name:  "keeps original order",
			query: "wet rock grip, light boot", text: bootText, maxWords: 16,
			want: "The Ridge is our lightest trail boot. A Vibram sole grips wet rock and loose gravel.",
		},
		{
			name:  "fills the budget exactly with a smaller later sentence",
			query: "leather sole", text: bootText, maxWords: 22,
			want: "The upper is full-grain leather with a padded collar. A Vibram sole grips wet rock and loose gravel. Ships in recycled packaging.",
		},
		{
			name:  "empty query picks lead sentences",
			query: "", text: bootText, maxWords: 18,
			want: "The Ridge is our lightest trail boot. Its waterproof membrane keeps feet dry in streams and rain.",
		},
		{
			name:  "stopword-only query picks lead sentences",
			query: "I want something for the", text: bootText, maxWords: 7,
			want: "The Ridge is our lightest trail boot.",
		},
		{
			name:  "plurals match",
			query: "gravel soles", text: bootText, maxWords: 10,
			want: "A Vibram sole grips wet rock and loose gravel.",
		},
		{
			name:     "strips HTML and closes list items",
			query:    "warm lining",
			text:     "<h2>Features</h2><ul><li>Warm fleece lining</li><li>Rubber toe cap</li><li>Lace-up closure</li></ul><script>track()</script>",
			maxWords: 3,
			want:     "Warm fleece lining.",
		},
		{
			name: "text within budget is returned whole",
			text: "<p>Warm fleece lining</p><p>Rubber toe cap &amp; heel</p>", query: "heel", maxWords: 10,
			want: "Warm fleece lining\nRubber toe cap & heel",
		},
		{
			name: "empty text", query: "boots", text: "", maxWords: 10, want: "",
		},
		{
			name: "markup only", query: "boots", text: "<div><script>x()</script></div>", maxWords: 10, want: "",
		},
		{
			name: "duplicates dropped", query: "waterproof", maxWords: 6,
			text: "Fully waterproof. Light and warm today. Fully waterproof!",
			want: "Fully waterproof. Light and warm today.",
		},
		{
			name: "number breaks a tie", query: "waterproof", maxWords: 5,
			text: "Waterproof and built for adventure. Waterproof to 20 m depth.",
			want: "Waterproof to 20 m depth.",
		},
		{
			name: "negative SpecBoost turns it off", e: Extractive{SpecBoost: -1}, query: "waterproof", maxWords: 5,
			text: "Waterproof and built for adventure. Waterproof to 20 m depth.",
			want: "Waterproof and built for adventure.",
		},
		{
			name: "custom stopwords", e: Extractive{Stopwords: map[string]bool{}}, query: "the", maxWords: 3,
			text: "A red boot. The blue one. A green boot.",
			want: "The blue one.",
		},
		{
			name: "one giant sentence is cut at the budget", query: "", maxWords: 5,
			text: "This boot has a waterproof leather upper, a fleece lining, and a rubber sole.",
			want: "This boot has a waterproof…",
		},
		{
			name: "cut keeps the words holding the query", query: "rubber sole", maxWords: 4,
			text: "This boot has a waterproof leather upper, a fleece lining, and a rubber sole.",
			want: "…and a rubber sole.",
		},
		{
			name: "cut trims a comma and uses the given ellipsis", e: Extractive{Ellipsis: "..."}, query: "leather", maxWords: 7,
			text: "This boot has a waterproof leather upper, a fleece lining, and a rubber sole.",
			want: "This boot has a waterproof leather upper...",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.e.Summarize(context.Background(), tt.query, Document{ID: "p1", Text: tt.text}, tt.maxWords)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Text)
			assert.LessOrEqual(t, len(strings.Fields(got.Text)), tt.maxWords)
			assert.Equal(t, Usage{}, got.Usage)
		})
	}
}

func TestExtractiveDefaultBudget(t *testing.T) {
	text := strings.Repeat("Sturdy boot with a grippy sole for hiking. ", 5) // deduplicated to one
	for i := range 30 {
		text += fmt.Sprintf("Feature number %d of this boot. ", i)
	}
	for _, maxWords := range []int{0, -3} {
		got, err := Extractive{}.Summarize(context.Background(), "grippy sole", Document{Text: text}, maxWords)
		require.NoError(t, err)
		n := len(strings.Fields(got.Text))
		assert.LessOrEqual(t, n, DefaultMaxWords)
		assert.Greater(t, n, DefaultMaxWords-6, "the budget should be nearly filled")
		assert.Equal(t, 1, strings.Count(got.Text, "grippy sole"))
	}
}

func TestExtractiveCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extractive{}.Summarize(ctx, "boots", Document{ID: "p1", Text: bootText}, 10)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `"p1"`)
}

func TestExtractiveDeterministicAndConcurrent(t *testing.T) {
	text := benchText()
	e := Extractive{}
	first, err := e.Summarize(context.Background(), "waterproof leather boots with a grippy sole", Document{Text: text}, 40)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := e.Summarize(context.Background(), "waterproof leather boots with a grippy sole", Document{Text: text}, 40)
				assert.NoError(t, err)
				assert.Equal(t, first, got)
			}
		})
	}
	wg.Wait()
}

func FuzzExtractive(f *testing.F) {
	f.Add("waterproof boots", bootText, uint8(12))
	f.Add("", "<ul><li>a</li><li>b c d e f</li></ul>", uint8(2))
	f.Add("x", "No. 5. e.g. 3.5 approx. • - * | ...", uint8(1))
	f.Fuzz(func(t *testing.T, query, text string, budget uint8) {
		maxWords := int(budget)
		got, err := Extractive{}.Summarize(context.Background(), query, Document{Text: text}, maxWords)
		if err != nil {
			t.Fatal(err)
		}
		if maxWords <= 0 {
			maxWords = DefaultMaxWords
		}
		// The ellipsis is attached to a word, so the budget holds exactly,
		// which is stricter than allowing it one word of its own.
		if n := len(strings.Fields(got.Text)); n > maxWords {
			t.Fatalf("%d words over a budget of %d: %q", n, maxWords, got.Text)
		}
		if !utf8.ValidString(got.Text) {
			t.Fatalf("invalid UTF-8: %q", got.Text)
		}
		again, _ := Extractive{}.Summarize(context.Background(), query, Document{Text: text}, maxWords)
		if again != got {
			t.Fatalf("not deterministic: %q then %q", got.Text, again.Text)
		}
	})
}

// benchText returns a product description of about 300 words, in HTML.
func benchText() string {
	paras := []string{
		"The Ridge Mid is a lightweight hiking boot built for long days on mixed terrain.",
		"Its waterproof, breathable membrane keeps feet dry in rain, puddles and shallow streams, while letting sweat escape on warm climbs.",
		"The upper combines full-grain leather with abrasion-resistant mesh panels, so it holds its shape without a long break-in period.",
		"A padded collar and gusseted tongue keep out grit and small stones.",
		"Underfoot, a Vibram Megagrip outsole with 4 mm lugs grips wet rock, mud and loose gravel.",
		"A dual-density EVA midsole cushions each step and a nylon shank adds stability under a heavy pack.",
		"The removable OrthoLite insole can be swapped for your own orthotics.",
		"Each pair weighs approx. 1.1 kg in a men's size 9.",
		"Available in sizes 7 to 13, including half sizes, in regular and wide fits.",
		"Colours: slate grey, forest green and tan.",
		"Reflective heel tabs make you easier to see on roads at dusk, and a pull loop at the back helps you slip the boot on with cold hands.",
		"Every boot is inspected by hand before it leaves our workshop in Portugal.",
	}
	var b strings.Builder
	for _, p := range paras {
		b.WriteString("<p>" + p + "</p>")
	}
	b.WriteString("<ul>")
	for _, li := range []string{
		"Waterproof leather and mesh upper", "Vibram Megagrip outsole, 4 mm lugs",
		"EVA midsole with nylon shank", "Gusseted tongue", "Weight: 1.1 kg per pair (size 9)",
		"Lace-up closure with speed hooks", "Rated to -10°C with winter socks",
	} {
		b.WriteString("<li>" + li + "</li>")
	}
	b.WriteString("</ul><p>Care: brush off dirt after each hike, let the boots dry away from direct heat, and re-proof the leather every few months with a wax-based treatment. " +
		"Our boots are backed by a two-year warranty against manufacturing defects. " +
		"Free returns within 60 days if they do not fit, even after a trail test. " +
		"Pair them with merino hiking socks for the best comfort on long descents, and loosen the top hooks on steep climbs to give your ankles room to flex.</p>")
	return b.String()
}

func BenchmarkExtractive(b *testing.B) {
	text := benchText()
	b.Logf("description: %d words", len(strings.Fields(htmltext.Plain(text))))
	doc := Document{ID: "p1", Text: text}
	ctx := context.Background()
	e := Extractive{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Summarize(ctx, "waterproof leather boots with a grippy sole", doc, DefaultMaxWords); err != nil {
			b.Fatal(err)
		}
	}
}
