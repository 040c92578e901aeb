//go:build race

package wsclient

const memRace = true
