package wsclient

import "runtime"

// Exported for the external tests (package wsclient_test) only.
var ErrPongMismatch = errPongMismatch

// WaitNoCallback waits until no callback of c runs (a test that learned of
// a callback from inside it, such as OnConnect's event, waits for it to
// return before it calls what behaves differently while one runs: Stop,
// Send).
func WaitNoCallback(c *Client) {
	for _, running := c.inCallback(); running; _, running = c.inCallback() {
		runtime.Gosched()
	}
}
