//go:build !linux

package sock

// HasWritev reports whether WritevOnce may be used: not here.
const HasWritev = false

// Writev is not used here.
type Writev struct{}

// WritevOnce is not used where HasWritev is false.
func (s *Stream) WritevOnce(w *Writev, head []byte, iov [][]byte) (int, error) {
	panic("sock: WritevOnce without writev")
}
