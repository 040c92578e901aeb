package wsclient

import "errors"

// clientDone returns a channel closed when c's current run has ended.
func clientDone(c *Client) <-chan struct{} { return c.curRun().done }

// closeStatus returns the code of the server's close frame err carries (a
// *CloseError), or -1.
func closeStatus(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// proto names the HTTP version c's WebSocket runs over.
func proto(c *Conn) string {
	if c.Info().HTTP2 {
		return "HTTP/2"
	}
	return "HTTP/1.1"
}
