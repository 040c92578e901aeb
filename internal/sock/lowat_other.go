//go:build !linux

package sock

// The receive low-water mark is not used here: other systems do not make
// room in the receive buffer for it, and a mark the buffer cannot reach
// would stall the read.
const (
	LowatMin = 0
	LowatMax = 0
)

type lowat struct{}

func (s *Stream) setupLowat() {}

// RaiseLowat does nothing here.
func (s *Stream) RaiseLowat(n int) {}

// LowerLowat does nothing here.
func (s *Stream) LowerLowat(owed int64) {}

// Unread is 0: without the mark, bytes do not wait in the kernel for a
// read that wants more.
func (s *Stream) Unread() uint64 { return 0 }
