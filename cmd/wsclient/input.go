package main

import (
	"bufio"
	"errors"
	"io"
)

// inputLine is one line of stdin without its line ending, or the error that
// ended the input (io.EOF at the normal end). A line longer than the limit
// is not kept: it arrives with data nil and tooLong set to its length.
type inputLine struct {
	data    []byte
	tooLong int64
	err     error
}

// readLines sends stdin's lines on the returned channel, then one inputLine
// carrying the error that ended the input, then closes the channel. A last
// line without a newline is sent too. A line longer than limit bytes
// (limit < 0: no limit) is read to its end and dropped, and reported by its
// length, so that an endless line cannot exhaust memory. The goroutine
// blocks in Read until stdin ends: it is abandoned, not stopped, when the
// command exits.
func readLines(r io.Reader, limit int64) <-chan inputLine {
	ch := make(chan inputLine)
	go func() {
		defer close(ch)
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, n, err := readLine(br, limit)
			switch {
			case n > 0 && line == nil:
				ch <- inputLine{tooLong: n}
			case n > 0:
				ch <- inputLine{data: trimEOL(line)}
			}
			if err != nil {
				ch <- inputLine{err: err}
				return
			}
		}
	}()
	return ch
}

// messageLines sends msgs (the -x flags) as the lines of the input, then
// io.EOF, then closes the channel.
func messageLines(msgs []string) <-chan inputLine {
	ch := make(chan inputLine, len(msgs)+1)
	for _, m := range msgs {
		ch <- inputLine{data: []byte(m)}
	}
	ch <- inputLine{err: io.EOF}
	close(ch)
	return ch
}

// readLine reads one line with its line ending and returns it with its
// length in bytes. When the line without its ending is longer than limit
// (limit < 0: no limit), it returns nil and the length of the whole line,
// read and dropped: no more than limit plus one buffer is ever held. err
// is the error that ended the input, returned with the last line (if any).
func readLine(br *bufio.Reader, limit int64) (line []byte, n int64, err error) {
	dropped := false
	for {
		chunk, err := br.ReadSlice('\n')
		n += int64(len(chunk))
		if !dropped {
			// +2: a line ending ("\r\n") is not part of the message.
			if limit >= 0 && int64(len(line)+len(chunk)) > limit+2 {
				dropped, line = true, nil
			} else {
				line = append(line, chunk...) // a copy: chunk is only valid until the next read
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if dropped || limit >= 0 && int64(len(trimEOL(line))) > limit {
			return nil, n, err
		}
		return line, n, err
	}
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
