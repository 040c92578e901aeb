//go:build !race

package wsclient

const memRace = false
