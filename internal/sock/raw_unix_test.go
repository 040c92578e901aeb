//go:build unix

package sock

// rawSupported: plain sockets are read and written raw here.
const rawSupported = true
