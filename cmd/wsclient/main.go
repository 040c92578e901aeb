// Command wsclient is a WebSocket client for the terminal, built on the
// github.com/wsclient/wsclient library.
//
//	wsclient demo                 run the sample handler against a local echo server
//	wsclient [flags] URL          talk to a server: stdin lines out, messages in
//	wsclient serve [flags]        run a local echo server
//	wsclient help                 show the full help
//	wsclient version              show the version (also --version, -V)
//
// Run "wsclient --help" for the flags, examples and exit codes.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes. They are part of the command's interface: keep them stable and
// in step with the help text and README.
const (
	exitOK            = 0   // the connection ended with a normal close
	exitError         = 1   // any other error
	exitUsage         = 2   // bad command line
	exitHandshake     = 3   // the server refused or botched the opening handshake
	exitTLS           = 4   // TLS handshake or certificate verification failed
	exitLost          = 5   // connection lost without a close frame, or keepalive timeout
	exitConnect       = 6   // could not reach the server (DNS, TCP, proxy, timeout)
	exitAbnormalClose = 7   // the server closed with a code other than 1000, 1001 or 1005
	exitInterrupted   = 130 // Ctrl-C before the connection was established, or a second Ctrl-C
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches on the first argument: a subcommand name or the flags and
// URL of the interactive client.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "serve":
			return runServe(args[1:], stdout, stderr)
		case "help":
			return runHelp(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, versionString())
			return exitOK
		}
	}
	return runClient(args, stdin, stdout, stderr)
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, mainHelp)
		return exitOK
	}
	switch args[0] {
	case "demo":
		fmt.Fprint(stdout, demoHelp)
	case "serve":
		fmt.Fprint(stdout, serveHelp)
	case "client":
		fmt.Fprint(stdout, mainHelp)
	default:
		return usageError(stderr, errors.New("no help for "+args[0]+" (topics: demo, serve)"))
	}
	return exitOK
}

// usageError reports a command-line problem and returns exitUsage.
func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "wsclient: %s\nRun 'wsclient --help' for usage.\n", redact(err.Error()))
	return exitUsage
}
