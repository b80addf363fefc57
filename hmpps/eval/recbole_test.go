package eval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hmpps/hmpps"
)

// TestLoadRecBoleKnownFacts checks the loader against the facts the data
// folder's README states.
func TestLoadRecBoleKnownFacts(t *testing.T) {
	d := loadScientific(t)
	assert.Equal(t, "amazon-scientific", d.Name)
	// The README counts 133 products without a category, splitting every
	// text at its last two ". ": that reads "Norton Abrasives - St" as the
	// category of a product whose text is "TITLE. . Norton Abrasives - St.
	// Gobain. ", which has none. It counts 59,384 purchases in the test
	// rows; three users
	// bought more than the 51 a test row shows (a list of 50, then the
	// item), and their training rows hold the 43 purchases before.
	assert.Equal(t, Stats{
		Rows: 59384 + 43, Users: 8442, Products: 4385, DuplicatePairs: 264,
		WithMetadata: 4385, WithCategory: 4251, WithDescription: 3103, WithBrand: 4385 - 12, TruncatedLists: 43,
	}, d.Stats)
	require.Len(t, d.Products, 4385)
	var noCategory, noBrand int
	for _, p := range d.Products {
		assert.NotEmpty(t, p.Title, p.ID)
		assert.NotEqual(t, p.ID, p.Title, "every product has a text line")
		if len(p.Category) == 0 {
			noCategory++
		} else {
			require.Len(t, p.Category, 1, "the levels cannot be told apart")
			assert.True(t, strings.HasPrefix(p.Category[0], "Industrial & Scientific"), p.Category[0])
		}
		if p.Brand == "" {
			noBrand++
		}
	}
	assert.Equal(t, 134, noCategory)
	assert.Equal(t, 12, noBrand)

	seqs := d.Sequences()
	require.Len(t, seqs, 8442)
	minLen, maxLen, repeaters := 1<<30, 0, 0
	for _, s := range seqs {
		minLen, maxLen = min(minLen, len(s.Purchases)), max(maxLen, len(s.Purchases))
		seen := map[string]bool{}
		repeat := false
		for i, p := range s.Purchases {
			assert.Equal(t, int64(i), p.Time)
			repeat = repeat || seen[p.Product]
			seen[p.Product] = true
		}
		if repeat {
			repeaters++
		}
	}
	assert.Equal(t, 5, minLen)
	assert.Equal(t, 80, maxLen, "the training rows' windows hold more than the test row's 51")
	assert.Equal(t, 243, repeaters, "users who bought some product twice")
	// The README's figures are those of the test rows' windows: the last
	// 51 purchases at most.
	var inWindows, longer, windowRepeaters int
	for _, s := range seqs {
		w := s.Purchases[max(0, len(s.Purchases)-51):]
		inWindows += len(w)
		count(&longer, len(s.Purchases) > 51)
		seen := map[string]bool{}
		repeat := false
		for _, p := range w {
			repeat = repeat || seen[p.Product]
			seen[p.Product] = true
		}
		count(&windowRepeaters, repeat)
	}
	assert.Equal(t, 59384, inWindows)
	assert.InDelta(t, 7.03, float64(inWindows)/8442, 0.005)
	assert.Equal(t, 242, windowRepeaters)
	assert.Equal(t, 3, longer, "the three validation rows that are not the test row's list minus its last item")

	p, ok := d.Product("B0000223SI")
	require.True(t, ok)
	assert.Equal(t, "PORTER-CABLE 740000801 4 1/2-Inch x 10yd 80 Grit Adhesive-Backed Sanding Roll", p.Title)
	assert.Equal(t, []string{"Industrial & Scientific Abrasive & Finishing Products Manual Sanding Products Sanding Rolls"}, p.Category)
	assert.Equal(t, "PORTER-CABLE", p.Brand)
	assert.Contains(t, p.Description, "clog- and loading-resistant sandpaper from Porter-Cable")
}

// TestRecBoleSequencesAreTheFilesSplit checks that the rebuilt sequences give
// back every row of the three .inter files: the last purchase and the one
// before are the test and validation rows' items, and every earlier one is
// a training row's, each after the window of purchases its row lists.
func TestRecBoleSequencesAreTheFilesSplit(t *testing.T) {
	d := loadScientific(t)
	dir := scientificDir(t)
	items, users := readIndexFile(t, dir, "Scientific.item2index"), readIndexFile(t, dir, "Scientific.user2index")
	seqs := map[string][]string{}
	for _, s := range d.Sequences() {
		for _, p := range s.Purchases {
			seqs[s.User] = append(seqs[s.User], p.Product)
		}
	}
	for _, f := range []struct {
		name string
		// at is the position of a row's item in its user's sequence, or
		// -1 for a training row (the position its list length gives).
		at func(n int) int
	}{{"Scientific.train.inter", nil}, {"Scientific.valid.inter", func(n int) int { return n - 2 }}, {"Scientific.test.inter", func(n int) int { return n - 1 }}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
		for _, line := range lines {
			cols := strings.Split(line, "\t")
			seq := seqs[users[cols[0]]]
			var list []string
			for _, tok := range strings.Fields(cols[1]) {
				list = append(list, items[tok])
			}
			at := len(list)
			if f.at != nil {
				at = f.at(len(seq))
			} else if len(list) == 50 {
				continue // a full window: its place is not its length
			}
			require.Less(t, at, len(seq), line)
			assert.Equal(t, items[cols[2]], seq[at], "%s: %s", f.name, line)
			assert.Equal(t, list, seq[at-len(list):at], "%s: %s", f.name, line)
		}
	}
}

// readIndexFile reads an index file into a map from token to ID.
func readIndexFile(t *testing.T, dir, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		out[f[1]] = f[0]
	}
	return out
}

// tinyRecBole is a data set in the atomic layout: four products, two users,
// a window of three, one repeat purchase and one truncated test row.
func tinyRecBole() RecBoleFiles {
	return RecBoleFiles{
		Text: strings.NewReader("item_id:token\ttext:token_seq\n" +
			"A1\tSanding Roll No. 5. Industrial & Scientific Abrasives Sanding Rolls. Acme. \n" +
			"A2\tGlue. . Bond Co. \n" +
			"A3\tPlain title without parts\n" +
			"A4\tGloves. Safety Gloves. . \n"),
		ItemIndex: strings.NewReader("A1\t0\nA2 1\nA3\t2\nA4\t3\nA5\t4\n"),
		UserIndex: strings.NewReader("U1\t0\nU2\t1\n"),
		Train: strings.NewReader("user_id:token\titem_id_list:token_seq\titem_id:token\n" +
			"0\t0 1 2\t3\n0\t0 1\t2\n0\t0\t1\n1\t4\t0\n"),
		Valid: strings.NewReader("user_id:token\titem_id_list:token_seq\titem_id:token\n" +
			"0\t1 2 3\t0\n1\t4 0\t2\n"),
		Test: strings.NewReader("user_id:token\titem_id_list:token_seq\titem_id:token\n" +
			"1\t4 0 2\t4\n0\t2 3 0\t1\n"),
		Descriptions: strings.NewReader(`{"asin": "A1", "description": ["<b>Fine</b> grit.", ""]}` + "\n" +
			`{"asin": "A1", "description": "ignored, the first line wins"}` + "\n" +
			`{"asin": "Z9", "description": "not in the catalog"}` + "\n" +
			`{"asin": "A2", "description": null}` + "\n"),
	}
}

func TestReadRecBole(t *testing.T) {
	d, err := ReadRecBole(context.Background(), "tiny", tinyRecBole())
	require.NoError(t, err)
	assert.Equal(t, Stats{Rows: 10, Users: 2, Products: 5, DuplicatePairs: 3, WithMetadata: 4, WithCategory: 2,
		WithDescription: 1, WithBrand: 2, TruncatedLists: 2}, d.Stats)
	assert.Equal(t, Purchase{User: "U1", Product: "A1", Time: 4}, d.Purchases[4], "a repeat purchase, at its place")
	assert.Equal(t, []string{"A1", "A2", "A3", "A4", "A1", "A2"}, products(d, "U1"))
	assert.Equal(t, []string{"A5", "A1", "A3", "A5"}, products(d, "U2"))
	assert.Equal(t, []hmpps.Product{
		{ID: "A1", Title: "Sanding Roll No. 5", Category: []string{"Industrial & Scientific Abrasives Sanding Rolls"}, Brand: "Acme", Description: "Fine grit."},
		{ID: "A2", Title: "Glue", Brand: "Bond Co"},
		{ID: "A3", Title: "Plain title without parts"},
		{ID: "A4", Title: "Gloves", Category: []string{"Safety Gloves"}},
		{ID: "A5", Title: "A5"},
	}, d.Products)
}

// products returns one user's purchased product IDs in order.
func products(d *Dataset, user string) []string {
	var out []string
	for _, p := range d.Purchases {
		if p.User == user {
			out = append(out, p.Product)
		}
	}
	return out
}

func TestReadRecBoleWithoutIndexes(t *testing.T) {
	f := RecBoleFiles{
		Text:  strings.NewReader("text:token_seq\titem_id:token\nA title. Cat. Brand. \tX\n"),
		Train: strings.NewReader("item_id:token\tuser_id:token\titem_id_list:token_seq\n"),
		Valid: strings.NewReader("item_id:token\tuser_id:token\titem_id_list:token_seq\nY\tu\t\n"),
		Test:  strings.NewReader("item_id:token\tuser_id:token\titem_id_list:token_seq\nX\tu\tY\n"),
	}
	d, err := ReadRecBole(context.Background(), "swapped", f)
	require.NoError(t, err)
	assert.Equal(t, []string{"Y", "X"}, products(d, "u"), "columns found by name, tokens are IDs")
	x, _ := d.Product("X")
	assert.Equal(t, "A title", x.Title)
	y, _ := d.Product("Y")
	assert.Equal(t, "Y", y.Title, "a purchased product without text keeps its ID as title")
}

func TestReadRecBoleErrors(t *testing.T) {
	header := "user_id:token\titem_id_list:token_seq\titem_id:token\n"
	text := "item_id:token\ttext:token_seq\nA\tTitle. Cat. Brand. \nB\tOther. Cat. Brand. \n"
	tests := []struct {
		name                     string
		text, train, valid, test string
		want                     error
	}{
		{"no header columns", text, "user\titems\titem\n", header, header, ErrMalformedRecord},
		{"wrong field count", text, header + "u\tA\n", header, header, ErrMalformedRecord},
		{"user with a space", text, header, header + "u v\tA\tB\n", header + "u v\tA B\tA\n", ErrMalformedRecord},
		{"no validation row", text, header + "u\tA\tB\n", header, header + "u\tA B\tA\n", ErrMalformedRecord},
		{"no test row", text, header, header + "u\tA\tB\n", header, ErrMalformedRecord},
		{"validation not the end", text, header, header + "u\tA\tB\n", header + "u\tB B\tA\n", ErrMalformedRecord},
		{"training rows that do not chain", text, header + "u\tA\tB\nu\tB B\tA\n", header + "u\tA B\tA\n", header + "u\tA B A\tB\n", ErrMalformedRecord},
		{"two test rows", text, header, header + "u\tA\tB\n", header + "u\tA B\tA\nu\tA B\tA\n", ErrMalformedRecord},
		{"text without title", "item_id:token\ttext:token_seq\nA\t . \n", header, header, header, ErrMalformedRecord},
		{"text twice", text + "A\tAgain. C. B. \n", header, header, header, ErrMalformedRecord},
		{"empty text file", "", header, header, header, ErrNoData},
		{"empty inter file", text, "", header, header, ErrNoData},
		{"no purchases", text, header, header, header, ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRecBole(context.Background(), "x", RecBoleFiles{Text: strings.NewReader(tt.text),
				Train: strings.NewReader(tt.train), Valid: strings.NewReader(tt.valid), Test: strings.NewReader(tt.test)})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
		})
	}

	f := tinyRecBole()
	f.ItemIndex = strings.NewReader("A1\t0\n")
	_, err := ReadRecBole(context.Background(), "x", f)
	assert.ErrorIs(t, err, ErrMalformedRecord, "an index token the item2index file lacks")
	f = tinyRecBole()
	f.UserIndex = strings.NewReader("U1\t0\nU2\t0\n")
	_, err = ReadRecBole(context.Background(), "x", f)
	assert.ErrorIs(t, err, ErrMalformedRecord, "a token given twice")
	f = tinyRecBole()
	f.Descriptions = strings.NewReader(`{"description": "no asin"}`)
	_, err = ReadRecBole(context.Background(), "x", f)
	assert.ErrorIs(t, err, ErrMalformedRecord)
	_, err = ReadRecBole(context.Background(), "x", RecBoleFiles{})
	assert.ErrorIs(t, err, ErrNoData)
}

func TestLoadRecBoleFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadRecBole(context.Background(), dir)
	assert.ErrorIs(t, err, ErrNoData, "no .text file")

	write := func(name, s string) { require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644)) }
	header := "user_id:token\titem_id_list:token_seq\titem_id:token\n"
	write("Tiny.text", "item_id:token\ttext:token_seq\nA\tTitle A. Cat. Brand. \nB\tTitle B. Cat. Brand. \n")
	write("Tiny.train.inter", header)
	write("Tiny.valid.inter", header+"u\tA\tB\n")
	_, err = LoadRecBole(context.Background(), dir)
	assert.ErrorIs(t, err, ErrNoData, "no test file")

	write("Tiny.test.inter", header+"u\tA B\tA\n")
	d, err := LoadRecBole(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Base(dir), d.Name)
	assert.Equal(t, []string{"A", "B", "A"}, products(d, "u"))
}

func TestSplitItemText(t *testing.T) {
	const root = "Industrial & Scientific"
	tests := []struct{ text, root, title, category, brand string }{
		{"T. C. B. ", "", "T", "C", "B"},
		{"Model No. 5 Kit. Tools Hand Tools. Acme. ", "", "Model No. 5 Kit", "Tools Hand Tools", "Acme"},
		{"T. . B. ", "", "T", "", "B"},
		{"T. C. . ", "", "T", "C", ""},
		{"Just a title", "", "Just a title", "", ""},
		{"Two parts. Only. ", "", "Two parts. Only.", "", ""},
		{". C. B. ", "", ". C. B.", "", ""},
		{"", "", "", "", ""},
		{"Mr. Heater Kit. Industrial & Scientific Pipe Fittings. Mr. Heater. ", root, "Mr. Heater Kit", "Industrial & Scientific Pipe Fittings", "Mr. Heater"},
		{"Tape: 2 in. x 18 yds. (Red). Industrial & Scientific Tape. J.V. Converting. ", root, "Tape: 2 in. x 18 yds. (Red)", "Industrial & Scientific Tape", "J.V. Converting"},
		{" Industrial & Scientific />. Industrial & Scientific Seals. Sterling Seal & Supply, Inc. (STCC). ", root, "Industrial & Scientific />", "Industrial & Scientific Seals", "Sterling Seal & Supply, Inc. (STCC)"},
		{"Mr. Heater Kit. Industrial & Scientific Pipe Fittings. Mr. Heater. ", "", "Mr. Heater Kit. Industrial & Scientific Pipe Fittings", "Mr", "Heater"},
		{"T. . B. ", root, "T", "", "B"},
		{"Wheel (Pack of 1). . Norton Abrasives - St. Gobain. ", root, "Wheel (Pack of 1)", "", "Norton Abrasives - St. Gobain"},
		{"T. . . ", "", "T", "", ""},
		{"T. Industrial & Scientifically. B. ", root, "T", "Industrial & Scientifically", "B"},
		{"T. Industrial & Scientific. B. ", root, "T", "Industrial & Scientific", "B"},
	}
	for _, tt := range tests {
		title, category, brand := splitItemText(tt.text, tt.root)
		assert.Equal(t, []string{tt.title, tt.category, tt.brand}, []string{title, category, brand}, "%q", tt.text)
	}
}

func TestCategoryRoot(t *testing.T) {
	tests := []struct {
		categories []string
		want       string
	}{
		{[]string{"Office Products Paper", "Office Products Pens", "Office Products", "", "Other"}, "Office Products"},
		{[]string{"A B", "A C", "D E", "F"}, ""},
		{[]string{"A B", "A C", "A"}, "A"},
		{nil, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, categoryRoot(tt.categories), "%q", tt.categories)
	}
}
