package eval

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// amazonDir returns the shared Amazon Magazine data folder, or skips the test
// when it is absent: the data lives beside the repository
// (../shared/data/amazon-magazine from its root) and is never copied into it.
// HMPPS_DATA_DIR overrides the location.
func amazonDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HMPPS_DATA_DIR")
	if dir == "" {
		// This package is hmpps/eval, two levels below the repository root.
		dir = filepath.Join("..", "..", "..", "shared", "data", "amazon-magazine")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the Amazon Magazine data is not at %s (the repository root's ../shared/data/amazon-magazine; set HMPPS_DATA_DIR to point elsewhere): %v", dir, err)
	}
	return dir
}

var (
	magazineOnce sync.Once
	magazine     *Dataset
	magazineErr  error
)

// loadMagazine loads the shared dataset once per test binary.
func loadMagazine(t testing.TB) *Dataset {
	t.Helper()
	dir := amazonDir(t)
	magazineOnce.Do(func() { magazine, magazineErr = LoadAmazon(context.Background(), dir) })
	require.NoError(t, magazineErr)
	return magazine
}

// scientificDir returns the shared Amazon Industrial & Scientific data folder
// (RecBole's atomic files), or skips the test when it is absent: the data
// lives beside the repository (../shared/data/amazon-scientific from its
// root) and is never copied into it. HMPPS_RECBOLE_DIR overrides the
// location.
func scientificDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HMPPS_RECBOLE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data", "amazon-scientific")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the Amazon Scientific data is not at %s (the repository root's ../shared/data/amazon-scientific; set HMPPS_RECBOLE_DIR to point elsewhere): %v", dir, err)
	}
	return dir
}

var (
	scientificOnce sync.Once
	scientific     *Dataset
	scientificErr  error
)

// loadScientific loads the shared RecBole dataset once per test binary.
func loadScientific(t testing.TB) *Dataset {
	t.Helper()
	dir := scientificDir(t)
	scientificOnce.Do(func() { scientific, scientificErr = LoadRecBole(context.Background(), dir) })
	require.NoError(t, scientificErr)
	return scientific
}
