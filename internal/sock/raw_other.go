//go:build !unix

package sock

// Raw socket I/O is not used here: every read and write watches its
// context first.

type rawIO struct{}

func (s *Stream) setupRaw() {}

// Read reads from the stream into p for the read under way, watching its
// context first.
func (s *Stream) Read(p []byte) (int, error) {
	s.ArmRead()
	return s.nc.Read(p)
}

// ReadBuffered is not used where Raw is false.
func (s *Stream) ReadBuffered(b Buffer) (int, error) {
	panic("sock: ReadBuffered on a stream that is not Raw")
}

// Write writes b for the write under way, watching its context first.
func (s *Stream) Write(b []byte) (int, error) {
	s.armWrite()
	return s.nc.Write(b)
}

// WriteNow is not used where Raw is false.
func (s *Stream) WriteNow(b []byte) (int, error) { return s.Write(b) }
