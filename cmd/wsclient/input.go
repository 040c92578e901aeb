package main

import (
	"bufio"
	"io"
)

// inputLine is one line of stdin without its line ending, or the error that
// ended the input (io.EOF at the normal end).
type inputLine struct {
	data []byte
	err  error
}

// readLines sends stdin's lines on the returned channel, then one inputLine
// carrying the error that ended the input, then closes the channel. A last
// line without a newline is sent too. The goroutine blocks in Read until
// stdin ends: it is abandoned, not stopped, when the command exits.
func readLines(r io.Reader) <-chan inputLine {
	ch := make(chan inputLine)
	go func() {
		defer close(ch)
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 && (err == nil || err == io.EOF) {
				line = trimEOL(line)
				ch <- inputLine{data: line}
			}
			if err != nil {
				ch <- inputLine{err: err}
				return
			}
		}
	}()
	return ch
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
