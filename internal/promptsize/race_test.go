//go:build race

package promptsize_test

// raceEnabled is true under the race detector, which slows the figures'
// thousands of searches about tenfold; they then run on a sample.
const raceEnabled = true
