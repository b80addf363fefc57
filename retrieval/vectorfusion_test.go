package retrieval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/viterin/vek/vek32"
)

func gaussianVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func cosine64(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestFusionValidate(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name    string
		f       VectorFusion
		wantErr bool
	}{
		{"default", DefaultVectorFusion, false},
		{"text only", VectorFusion{TextWeight: 1}, false},
		{"image only", VectorFusion{ImageWeight: 1}, false},
		{"unnormalized", VectorFusion{TextWeight: 7, ImageWeight: 3}, false},
		{"zero value", VectorFusion{}, true},
		{"negative", VectorFusion{TextWeight: 1, ImageWeight: -0.1}, true},
		{"NaN", VectorFusion{TextWeight: nan, ImageWeight: 1}, true},
		{"Inf", VectorFusion{TextWeight: 1, ImageWeight: inf}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidConfig)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

// TestFusionFormulas checks the two properties documented on VectorFusion:
// p1·p2 = wt·cos(t1,t2) + wi·cos(i1,i2) and Query(q)·p = cos(q,t).
func TestFusionFormulas(t *testing.T) {
	const textDim, imageDim = 24, 10
	r := rand.New(rand.NewPCG(7, 11))
	tests := []struct {
		name             string
		f                VectorFusion
		image1, image2   bool
		wantTextShare    float64 // wt after normalizing the weights
		wantImageShare   float64
		wantProductNorm1 float64
	}{
		{"default, both images", DefaultVectorFusion, true, true, 0.7, 0.3, 1},
		{"default, first lacks image", DefaultVectorFusion, false, true, 0.7, 0.3, math.Sqrt(0.7)},
		{"default, no images", DefaultVectorFusion, false, false, 0.7, 0.3, math.Sqrt(0.7)},
		{"unnormalized weights", VectorFusion{TextWeight: 2, ImageWeight: 6}, true, true, 0.25, 0.75, 1},
		{"text only weights", VectorFusion{TextWeight: 1}, true, true, 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for trial := range 20 {
				// Arbitrary scales: VectorFusion normalizes.
				t1 := vek32.MulNumber(gaussianVector(r, textDim), 3)
				t2 := gaussianVector(r, textDim)
				i1 := vek32.MulNumber(gaussianVector(r, imageDim), 0.01)
				i2 := gaussianVector(r, imageDim)
				q := gaussianVector(r, textDim)
				var img1, img2 []float32
				if tt.image1 {
					img1 = i1
				}
				if tt.image2 {
					img2 = i2
				}
				p1, err := tt.f.Product(t1, img1, textDim, imageDim)
				require.NoError(t, err)
				p2, err := tt.f.Product(t2, img2, textDim, imageDim)
				require.NoError(t, err)
				require.Len(t, p1, textDim+imageDim)
				assert.InDelta(t, tt.wantProductNorm1, vek32.Norm(p1), 1e-5)

				want := tt.wantTextShare * cosine64(t1, t2)
				if tt.image1 && tt.image2 {
					want += tt.wantImageShare * cosine64(i1, i2)
				}
				assert.InDelta(t, want, vek32.Dot(p1, p2), 1e-5, "trial %d: product·product", trial)

				fq, err := tt.f.Query(q, imageDim)
				require.NoError(t, err)
				require.Len(t, fq, textDim+imageDim)
				assert.InDelta(t, cosine64(q, t1), vek32.Dot(fq, p1), 1e-5, "trial %d: query·product", trial)
				assert.InDelta(t, cosine64(q, t2), vek32.Dot(fq, p2), 1e-5, "trial %d: query·product", trial)

				tp := tt.f.TextPart(p1, textDim)
				assert.InDelta(t, 1, cosine64(tp, t1), 1e-5)
				assert.InDelta(t, 1, vek32.Norm(tp), 1e-5)
			}
		})
	}
}

func TestFusionDoesNotAlias(t *testing.T) {
	text := []float32{3, 4}
	image := []float32{0, 2}
	p, err := DefaultVectorFusion.Product(text, image, 2, 2)
	require.NoError(t, err)
	p[0] = 100
	assert.Equal(t, []float32{3, 4}, text)
	assert.Equal(t, []float32{0, 2}, image)
}

func TestFusionImageDimensionZero(t *testing.T) {
	p, err := DefaultVectorFusion.Product([]float32{3, 4}, nil, 2, 0)
	require.NoError(t, err)
	q, err := DefaultVectorFusion.Query([]float32{3, 4}, 0)
	require.NoError(t, err)
	assert.InDelta(t, 1, vek32.Dot(p, q), 1e-6)

	_, err = DefaultVectorFusion.Product([]float32{3, 4}, []float32{1}, 2, 0)
	require.ErrorIs(t, err, ErrDimensionMismatch)
}

func TestFusionErrors(t *testing.T) {
	nan := float32(math.NaN())
	ok := []float32{1, 2, 3}
	tests := []struct {
		name          string
		f             VectorFusion
		text, image   []float32
		textDim, imDi int
		want          error
	}{
		{"missing text", DefaultVectorFusion, nil, ok, 3, 3, ErrInvalidVector},
		{"text wrong length", DefaultVectorFusion, []float32{1, 2}, ok, 3, 3, ErrDimensionMismatch},
		{"image wrong length", DefaultVectorFusion, ok, []float32{1}, 3, 3, ErrDimensionMismatch},
		{"empty non-nil image", DefaultVectorFusion, ok, []float32{}, 3, 3, ErrInvalidVector},
		{"NaN text", DefaultVectorFusion, []float32{1, nan, 3}, nil, 3, 3, ErrInvalidVector},
		{"NaN image", DefaultVectorFusion, ok, []float32{nan, 1, 1}, 3, 3, ErrInvalidVector},
		{"zero text", DefaultVectorFusion, []float32{0, 0, 0}, nil, 3, 3, ErrInvalidVector},
		{"zero image", DefaultVectorFusion, ok, []float32{0, 0, 0}, 3, 3, ErrInvalidVector},
		{"zero text dim", DefaultVectorFusion, ok, nil, 0, 3, ErrInvalidConfig},
		{"negative image dim", DefaultVectorFusion, ok, nil, 3, -1, ErrInvalidConfig},
		{"invalid weights", VectorFusion{}, ok, nil, 3, 3, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.f.Product(tt.text, tt.image, tt.textDim, tt.imDi)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, p)
		})
	}
}

func TestFusionQueryErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name     string
		f        VectorFusion
		text     []float32
		imageDim int
		want     error
	}{
		{"image-only fusion", VectorFusion{ImageWeight: 1}, []float32{1}, 3, ErrInvalidConfig},
		{"empty", DefaultVectorFusion, nil, 3, ErrInvalidVector},
		{"NaN", DefaultVectorFusion, []float32{nan}, 3, ErrInvalidVector},
		{"zero", DefaultVectorFusion, []float32{0, 0}, 3, ErrInvalidVector},
		{"negative image dim", DefaultVectorFusion, []float32{1}, -1, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.f.Query(tt.text, tt.imageDim)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, q)
		})
	}
}

func TestFusionTinyAndHugeComponents(t *testing.T) {
	// Scaling in float64 keeps denormal and near-max inputs finite.
	for _, v := range [][]float32{{1e-40, 2e-40}, {3e38, 3e38}} {
		p, err := DefaultVectorFusion.Product(v, nil, 2, 1)
		require.NoError(t, err)
		require.NoError(t, CheckVector(p, 3))
		assert.InDelta(t, math.Sqrt(0.7), vek32.Norm(p), 1e-5)
	}
}

func TestFusionTextPartInvalid(t *testing.T) {
	assert.Nil(t, DefaultVectorFusion.TextPart([]float32{1, 2}, 0))
	assert.Nil(t, DefaultVectorFusion.TextPart([]float32{1, 2}, 3))
	assert.Nil(t, DefaultVectorFusion.TextPart([]float32{0, 0, 1}, 2))
	assert.Nil(t, DefaultVectorFusion.TextPart(nil, 1))
}
