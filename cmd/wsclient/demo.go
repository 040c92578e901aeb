package main

import (
	"fmt"
	"io"
)

// runDemo runs the sample handler against an embedded echo server.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "wsclient: demo: not yet available")
	return exitError
}
