package cooccur

import "fmt"

// Normalization turns a pair's co-occurrence weight w(a, b) into a strength.
// Raw weights favour products everybody buys; the others divide that out in
// different ways. m(x) is x's margin (its weight with everything), M the sum
// of all margins, S the number of sequences and s(x) how many hold x.
type Normalization int

const (
	// NormRaw is w(a, b).
	NormRaw Normalization = iota
	// NormConditional is w(a, b) / m(a): the share of a's co-occurrences
	// that are with b, an estimate of P(b | a). It is the one asymmetric
	// strength.
	NormConditional
	// NormCosine is w(a, b) / sqrt(m(a) m(b)).
	NormCosine
	// NormPMI is the positive pointwise mutual information
	// max(0, log(w(a, b) M / (m(a) m(b)))): the log of the lift, how much
	// more often the pair co-occurs than chance would have it.
	NormPMI
	// NormIDF is w(a, b) log(1 + S / s(b)): raw weights damped by how
	// common b is, as tf-idf damps common words.
	NormIDF
	numNormalizations
)

// Normalizations returns every Normalization, NormRaw first.
func Normalizations() []Normalization {
	out := make([]Normalization, numNormalizations)
	for i := range out {
		out[i] = Normalization(i)
	}
	return out
}

var normalizationNames = [numNormalizations]string{"raw", "conditional", "cosine", "pmi", "idf"}

// String returns the normalization's name: "raw", "conditional", "cosine",
// "pmi" or "idf".
func (n Normalization) String() string {
	if n < 0 || n >= numNormalizations {
		return fmt.Sprintf("Normalization(%d)", int(n))
	}
	return normalizationNames[n]
}

// MarshalText implements encoding.TextMarshaler.
func (n Normalization) MarshalText() ([]byte, error) {
	if n < 0 || n >= numNormalizations {
		return nil, fmt.Errorf("cooccur: unknown normalization %d", int(n))
	}
	return []byte(n.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (n *Normalization) UnmarshalText(b []byte) error {
	for i, name := range normalizationNames {
		if string(b) == name {
			*n = Normalization(i)
			return nil
		}
	}
	return fmt.Errorf("cooccur: unknown normalization %q", b)
}
