package retrieval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
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
		})
	}
}
