package summarize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"terminators", "One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"line breaks", "Waterproof\nBreathable\n\nLight", []string{"Waterproof", "Breathable", "Light"}},
		{"bullets", "Waterproof • Breathable | Light · Warm", []string{"Waterproof", "Breathable", "Light", "Warm"}},
		{"list markers", "- Waterproof\n* Light\n— Warm\n-5°C rated", []string{"Waterproof", "Light", "Warm", "-5°C rated"}},
		{"decimal", "Weighs 3.5 kg. Ships free.", []string{"Weighs 3.5 kg.", "Ships free."}},
		{"number at end", "Size 10. Black.", []string{"Size 10.", "Black."}},
		{"e.g.", "Fits many uses, e.g. hiking. Light.", []string{"Fits many uses, e.g. hiking.", "Light."}},
		{"initialism", "Made in the U.S. by hand.", []string{"Made in the U.S. by hand."}},
		{"approx.", "Weighs approx. 3 kg. Light.", []string{"Weighs approx. 3 kg.", "Light."}},
		{"No. before number", "Model No. 5 in black. No. It is not.", []string{"Model No. 5 in black.", "No.", "It is not."}},
		{"unit before lowercase", "A 12 oz. bottle. Holds 12 oz. Ships free.", []string{"A 12 oz. bottle.", "Holds 12 oz.", "Ships free."}},
		{"closing quote and paren", `He said "wow." Then (see above.) Done`, []string{`He said "wow."`, "Then (see above.)", "Done"}},
		{"repeated terminators", "Wow!!! Really?! Yes...", []string{"Wow!!!", "Really?!", "Yes..."}},
		{"no space after period", "Visit example.com today", []string{"Visit example.com today"}},
		{"ellipsis rune", "Wait… what", []string{"Wait…", "what"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, splitSentences(tt.in))
		})
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"boots", "boot"},
		{"boot", "boot"},
		{"shoes", "shoe"},
		{"dresses", "dress"},
		{"dress", "dress"},
		{"batteries", "battery"},
		{"watches", "watch"},
		{"boxes", "box"},
		{"cactus", "cactus"},
		{"chassis", "chassis"},
		{"gas", "gas"},
		{"10s", "10s"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, stem(tt.in), tt.in)
	}
}
