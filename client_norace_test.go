//go:build !race

package wsclient_test

const raceEnabled = false
