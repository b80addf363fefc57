package retrieval

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckVector(t *testing.T) {
	big := float32(1e30) // squared, it overflows float32
	tests := []struct {
		name    string
		v       []float32
		wantErr error
	}{
		{"ok", []float32{1, 2, 3}, nil},
		{"zero", []float32{0, 0, 0}, nil},
		{"finite but overflowing norm", []float32{big, big, 0}, nil},
		{"NaN", []float32{1, float32(math.NaN()), 3}, ErrInvalidVector},
		{"-Inf", []float32{float32(math.Inf(-1)), 0, 0}, ErrInvalidVector},
		{"empty", nil, ErrInvalidVector},
		{"short", []float32{1, 2}, ErrDimensionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckVector(tt.v, 3)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			// Every refused vector is an invalid vector, the wrong length
			// included, as docs/configuration.md and the package docs promise.
			assert.ErrorIs(t, err, ErrInvalidVector)
		})
	}
}

// unitNormTolerance bounds |‖Normalize(v)‖ - 1|. Each component is the exact
// quotient x/‖x‖ rounded to float64 and then once to float32, so its relative
// error is at most 2⁻²⁴ (+2⁻⁵³ for the float64 step), plus half the spacing
// of float32 subnormals (2⁻¹⁵⁰) for components that underflow. The error
// vector then has norm at most 2⁻²⁴ + 2⁻⁵³ + √n·2⁻¹⁵⁰; 2⁻²⁴ + 2⁻⁴⁰ covers it
// for any length used here. The vek-based normalization this replaced
// returned ‖[0, 1.0000001]‖ = 1 + 2⁻²³ on some processors, which fails it.
const unitNormTolerance = 0x1p-24 + 0x1p-40

// exactUnit returns x/‖x‖ for every component of v, computed with 200 bits
// of precision: the reference that Normalize must match up to one float32
// rounding.
func exactUnit(v []float32) []*big.Float {
	const prec = 200
	sq := new(big.Float).SetPrec(prec)
	for _, x := range v {
		bx := new(big.Float).SetPrec(prec).SetFloat64(float64(x))
		sq.Add(sq, new(big.Float).SetPrec(prec).Mul(bx, bx))
	}
	n := new(big.Float).SetPrec(prec).Sqrt(sq)
	out := make([]*big.Float, len(v))
	for i, x := range v {
		out[i] = new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetFloat64(float64(x)), n)
	}
	return out
}

func TestNormalizeUnitLength(t *testing.T) {
	const maxF, minSub = math.MaxFloat32, math.SmallestNonzeroFloat32
	r := rand.New(rand.NewPCG(9, 9))
	gaussian := make([]float32, 384)
	for i := range gaussian {
		gaussian[i] = float32(r.NormFloat64())
	}
	tenths := make([]float32, 384)
	for i := range tenths {
		tenths[i] = 0.1
	}
	tests := []struct {
		name string
		v    []float32
		// want, when set, is the exact result: x/√(x²) = ±1 is exact in
		// IEEE arithmetic, so a one-hot vector must stay exactly one-hot on
		// every machine, which is what the tests of the index rely on.
		want []float32
	}{
		{"one-hot", []float32{0, 0, 7, 0}, []float32{0, 0, 1, 0}},
		{"one-hot negative", []float32{0, -3}, []float32{0, -1}},
		{"one-hot 0,3", []float32{0, 3}, []float32{0, 1}},
		{"one-hot subnormal", []float32{minSub, 0}, []float32{1, 0}},
		{"one-hot max float32", []float32{0, -maxF}, []float32{0, -1}},
		{"single component", []float32{1e-30}, []float32{1}},
		{"3-4-5", []float32{3, 4}, nil},
		{"3-4-12-13", []float32{3, -4, 12}, nil},
		{"already unit", []float32{0.6, 0.8}, nil},
		{"tiny", []float32{1e-30, 2e-30, -2e-30}, nil},
		{"huge", []float32{1e30, -1e30, 1e30}, nil},
		{"max float32", []float32{maxF, maxF, -maxF}, nil},
		{"subnormals", []float32{1e-40, -3e-41, minSub}, nil},
		{"smallest subnormals", []float32{minSub, minSub, -minSub}, nil},
		{"huge and tiny", []float32{1e30, 1e-30, -1e-20}, nil},
		{"huge and subnormal", []float32{maxF, minSub}, nil},
		{"mixed signs", []float32{-1, 2, -3, 4, -5}, nil},
		{"equal components", tenths, nil},
		{"gaussian 384", gaussian, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := slices.Clone(tt.v)
			require.NoError(t, Normalize(v))
			if tt.want != nil {
				assert.Equal(t, tt.want, v, "bit-exact: x/√(x²) is exact")
			}
			for i, ref := range exactUnit(tt.v) {
				want, _ := ref.Float64()
				// One rounding to float32 (after one to float64): relative
				// 2⁻²⁴ + 2⁻⁵³, or half a subnormal step near zero.
				tol := math.Abs(want)*(0x1p-24+0x1p-53) + 0x1p-150
				assert.InDelta(t, want, float64(v[i]), tol, "component %d", i)
				assert.False(t, math.Signbit(float64(v[i])) != math.Signbit(float64(tt.v[i])) && v[i] != 0,
					"component %d changed sign", i)
			}
			assert.InDelta(t, 1, norm64(v), unitNormTolerance, "norm of the unit vector")
			if len(v) > 1 {
				again := slices.Clone(v)
				require.NoError(t, Normalize(again))
				assert.InDelta(t, 1, norm64(again), unitNormTolerance, "renormalizing stays unit")
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name string
		v    []float32
	}{
		{"nil", nil},
		{"empty", []float32{}},
		{"zero", []float32{0, 0, 0}},
		{"negative zero", []float32{float32(math.Copysign(0, -1))}},
		{"NaN", []float32{1, nan, 3}},
		{"+Inf", []float32{inf, 0}},
		{"-Inf", []float32{1, -inf}},
		{"NaN and Inf", []float32{nan, inf}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bits := func(v []float32) []uint32 {
				out := make([]uint32, len(v))
				for i, x := range v {
					out[i] = math.Float32bits(x)
				}
				return out
			}
			before := bits(tt.v)
			assert.ErrorIs(t, Normalize(tt.v), ErrInvalidVector)
			assert.Equal(t, before, bits(tt.v), "v is left unchanged")
		})
	}
}

func TestDot64(t *testing.T) {
	tests := []struct {
		name string
		a, b []float32
		want float64
	}{
		{"3-4-5", []float32{3, 4}, []float32{0.6, 0.8}, 3*float64(float32(0.6)) + 4*float64(float32(0.8))},
		{"orthogonal", []float32{1, 0}, []float32{0, 1}, 0},
		// The products of float32s near the maximum overflow float32 but
		// not float64.
		{"huge", []float32{3e38, 3e38}, []float32{3e38, -1e38}, float64(float32(3e38))*float64(float32(3e38)) -
			float64(float32(3e38))*float64(float32(1e38))},
		{"empty", nil, nil, 0},
		{"lengths differ", []float32{1, 2}, []float32{1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The sum is rounded in float64, a relative 2⁻⁵³ per addition;
			// the +1 makes a zero want compare absolutely.
			assert.InEpsilon(t, tt.want+1, Dot64(tt.a, tt.b)+1, 1e-15)
		})
	}
	// Against the SIMD Dot on random unit vectors: they agree to float32
	// rounding of a sum of 384 terms.
	r := rand.New(rand.NewPCG(4, 2))
	a, b := make([]float32, 384), make([]float32, 384)
	for i := range a {
		a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	require.NoError(t, Normalize(a))
	require.NoError(t, Normalize(b))
	assert.InDelta(t, Dot64(a, b), Dot(a, b), 1e-6)
}

// dot64Reference is Dot64's documented order written plainly: sixteen
// partial sums over the indexes of each residue mod 16, reduced as the doc
// comment says.
func dot64Reference(a, b []float32) float64 {
	var s [16]float64
	for i := range a {
		s[i%16] += float64(a[i]) * float64(b[i])
	}
	var t [4]float64
	for l := range t {
		t[l] = (s[l] + s[4+l]) + (s[8+l] + s[12+l])
	}
	return (t[0] + t[1]) + (t[2] + t[3])
}

// TestDot64Order checks Dot64 against its documented order bit for bit, at
// every length up to 40 (every tail) and at the usual embedding sizes: the
// order is what makes the result the same on every machine, so it is the
// point of the comparison. Where the assembly kernel runs, it also checks
// the kernel against its portable twin, which other architectures run.
func TestDot64Order(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	lengths := []int{384, 512, 768, 1024, 1537}
	for n := 1; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			// Magnitudes spread over many binades, so that the order of the
			// sum shows in the last bits.
			a[i] = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(40)-20)))
			b[i] = float32(r.NormFloat64() * math.Exp2(float64(r.IntN(40)-20)))
		}
		assert.Equal(t, math.Float64bits(dot64Reference(a, b)), math.Float64bits(Dot64(a, b)), "length %d", n)
		if m := n &^ 15; hasDot64Kernel && m > 0 {
			var simd, portable [16]float64
			dot64SIMD(&simd, a[:m], b[:m])
			dot64Go(&portable, a[:m], b[:m])
			assert.Equal(t, portable, simd, "length %d: kernel and portable twin", m)
		}
	}
}

// FuzzDot64 holds Dot64 to its documented order, bit for bit, on any
// float32 bits, infinities included; a NaN result need only be a NaN, since
// the hardware may give it another payload.
func FuzzDot64(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		a, b := make([]float32, n), make([]float32, n)
		for i := range n {
			a[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i:]))
			b[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i+4:]))
		}
		want, got := dot64Reference(a, b), Dot64(a, b)
		if n == 0 {
			want = 0
		}
		if !(math.IsNaN(want) && math.IsNaN(got)) && math.Float64bits(want) != math.Float64bits(got) {
			t.Fatalf("Dot64 = %v, its documented order gives %v", got, want)
		}
	})
}

func BenchmarkDot64(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{384, 768} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var s float64
			for b.Loop() {
				s += Dot64(x, y)
			}
			_ = s
		})
	}
}
