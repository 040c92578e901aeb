//go:build !unix

package sock

const rawSupported = false
