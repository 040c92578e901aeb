package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
)

// Slash commands: with slash commands on (stdin a terminal, or --slash), a
// line starting with "/" is a command rather than a message, and a line
// starting with "//" is sent without its first "/".

const slashHelp = `commands (a line starting with // is sent as a message without its first /):
  /ping [data]              send a ping (its pong is shown)
  /pong [data]              send an unsolicited pong
  /close [code [reason]]    close the connection (default 1000) and exit
  /help                     show this help`

// slashCmd is a parsed slash command.
type slashCmd struct {
	name   string // "ping", "pong", "close", "help"
	data   []byte // ping and pong payload
	code   int    // close code
	reason string // close reason
}

// parseSlash parses line as a slash command. ok is false when the line is a
// message: it does not start with "/", or starts with "//" (then msg is the
// line without its first "/"). An unknown command or bad arguments return
// an error, to be shown with slashHelp.
func parseSlash(line []byte) (cmd slashCmd, msg []byte, ok bool, err error) {
	if len(line) == 0 || line[0] != '/' {
		return slashCmd{}, line, false, nil
	}
	if len(line) > 1 && line[1] == '/' {
		return slashCmd{}, line[1:], false, nil
	}
	name, arg, _ := strings.Cut(string(line[1:]), " ")
	cmd.name = name
	switch name {
	case "ping", "pong":
		if len(arg) > 125 {
			return cmd, nil, true, fmt.Errorf("/%s: data is %d bytes; a control frame carries at most 125", name, len(arg))
		}
		cmd.data = []byte(arg)
	case "close":
		cmd.code = wsclient.CloseNormalClosure
		codeStr, reason, _ := strings.Cut(strings.TrimSpace(arg), " ")
		if codeStr != "" {
			n, err := strconv.Atoi(codeStr)
			if err != nil || !sendableCloseCode(n) {
				return cmd, nil, true, fmt.Errorf("/close %s: want a close code we may send: 1000-1003, 1007-1011 or 3000-4999", codeStr)
			}
			cmd.code = n
		}
		cmd.reason = strings.TrimSpace(reason)
		if len(cmd.reason) > 123 || !utf8.ValidString(cmd.reason) {
			return cmd, nil, true, errors.New("/close: the reason must be UTF-8 text of at most 123 bytes")
		}
	case "help", "?":
		cmd.name = "help"
	case "":
		return cmd, nil, true, errors.New("a command name must follow /")
	default:
		return cmd, nil, true, fmt.Errorf("unknown command /%s", name)
	}
	return cmd, nil, true, nil
}

// sendableCloseCode reports whether an endpoint may send code in a close
// frame (RFC 6455 section 7.4).
func sendableCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	}
	return code >= 3000 && code <= 4999
}
