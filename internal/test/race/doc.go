// Package race tells tests whether the race detector is on (go test -race),
// for the tests whose measurements (allocation counts, timings, memory) it
// changes: one build-tag pair for the whole module instead of one per test
// package.
package race
