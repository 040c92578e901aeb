package wsclient

// Exported for the external tests (package wsclient_test) only.
var ErrPongMismatch = errPongMismatch
