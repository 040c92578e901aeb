// Package sock is a connection's byte stream: the net.Conn under a
// WebSocket connection, read and written with the fewest system calls and
// wake-ups the platform allows, and interrupted when the context of the
// call under way ends.
//
// A Stream works over any net.Conn (a TLS connection, an HTTP/2 stream, a
// wrapper that counts or throttles), with plain Read and Write. Over a
// plain *net.TCPConn or *net.UnixConn (Raw) it reads and writes through
// syscall.RawConn instead:
//
//   - ReadBuffered reads into a buffer its caller lends (Buffer) and lets
//     the caller take it back when the socket has nothing to read, so a
//     reader that waits for its next message holds no buffer, while one
//     that finds data at once keeps its buffer;
//   - WriteNow writes what the socket takes without waiting;
//   - on Linux, WritevOnce writes several buffers with one writev call, and
//     RaiseLowat and LowerLowat move the socket's receive low-water mark
//     (SO_RCVLOWAT) for the large reads of a big frame.
//
// Contexts: a call records its context (BeginRead, BeginWrite) and ends it
// (EndRead, EndWrite); the context is watched only once the call is about
// to wait on the socket, by moving the socket's deadline into the past
// when it ends (context.AfterFunc), and the deadline the user set is put
// back afterwards. CtxErr turns the error of such an interrupted call into
// the context's.
//
// Errors are those of a socket's Read and Write: a *net.OpError ("read" or
// "write", with the addresses) around the system call's error,
// net.ErrClosed or os.ErrDeadlineExceeded, or io.EOF at the end of the
// stream.
package sock
