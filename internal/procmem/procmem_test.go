package procmem

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	const status = "Name:\tgo\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t8\n"
	tests := []struct {
		name, status, field string
		want                uint64
		ok                  bool
	}{
		{"resident", status, "VmRSS:", 100 << 20, true},
		{"peak", status, "VmHWM:", 200 << 20, true},
		{"missing", status, "VmSwap:", 0, false},
		{"not a number", "VmRSS:\tmany kB\n", "VmRSS:", 0, false},
		{"negative", "VmRSS:\t-4 kB\n", "VmRSS:", 0, false},
		{"empty", "", "VmRSS:", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parse(tt.status, tt.field)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, ok := Resident(0)
		assert.False(t, ok, "no /proc outside Linux")
		return
	}
	rss, ok := Resident(0)
	assert.True(t, ok)
	assert.Positive(t, rss)
	peak, ok := Peak(os.Getpid())
	assert.True(t, ok)
	assert.GreaterOrEqual(t, peak, rss)
	_, ok = Resident(-1)
	assert.False(t, ok, "no such process")
}

func FuzzParse(f *testing.F) {
	f.Add("VmRSS:\t  102400 kB\n")
	f.Fuzz(func(t *testing.T, s string) {
		if b, ok := parse(s, "VmRSS:"); ok && b%1024 != 0 {
			t.Fatalf("%d bytes is not whole kilobytes", b)
		}
	})
}
