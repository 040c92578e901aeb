//go:build !linux && !js

package wsclient

const hasRawWritev = false

type rawWritev struct{}

func (c *Conn) writevOnce(lw *largeWrite, head []byte, iov [][]byte) (int, error) {
	panic("unreachable")
}
