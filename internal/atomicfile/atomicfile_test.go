package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirEntries lists the names in dir, so that a test can see a leftover
// temporary file.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.bin")

	require.NoError(t, Write(path, writeString("first")))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, defaultMode, fi.Mode().Perm())

	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, Write(path, writeString("second, longer")))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "second, longer", string(got))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "replacing keeps the old permissions")

	assert.Equal(t, []string{"index.bin"}, dirEntries(t, dir))
}

func TestWriteLargeContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	want := make([]byte, 3*bufferSize+17)
	for i := range want {
		want[i] = byte(i * 7)
	}
	require.NoError(t, Write(path, func(w io.Writer) error {
		for i := 0; i < len(want); i += 1000 {
			if _, err := w.Write(want[i:min(i+1000, len(want))]); err != nil {
				return err
			}
		}
		return nil
	}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"error before writing", func(io.Writer) error { return errBoom }},
		{"error midway", func(w io.Writer) error {
			// More than one buffer, so part of it has reached the file.
			if _, err := w.Write(make([]byte, 2*bufferSize)); err != nil {
				return err
			}
			return errBoom
		}},
		{"short write then error", func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			return errBoom
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "index.bin")
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

			err := Write(path, tt.write)
			require.ErrorIs(t, err, errBoom)

			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "old", string(got))
			assert.Equal(t, []string{"index.bin"}, dirEntries(t, dir), "no temporary file is left behind")
		})
	}
}

func TestWriteFailureWithoutOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.bin")
	err := Write(path, func(io.Writer) error { return errors.New("boom") })
	require.Error(t, err)
	assert.Empty(t, dirEntries(t, dir))
}

func TestWriteRejectsDirectoryTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(target, 0o755))
	called := false
	err := Write(target, func(io.Writer) error { called = true; return nil })
	require.Error(t, err)
	assert.False(t, called, "nothing is written when the target cannot be replaced")
	assert.Equal(t, []string{"sub"}, dirEntries(t, dir))
}

func TestWriteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "index.bin")
	err := Write(path, writeString("x"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, Write("plain", writeString("x")))
	got, err := os.ReadFile("plain")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))
}
