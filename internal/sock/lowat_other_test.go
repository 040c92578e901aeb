//go:build !linux

package sock

const lowatSupported = false
