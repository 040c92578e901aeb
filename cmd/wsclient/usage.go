package main

// The help texts. Every flag defined in options.go and serve.go appears here
// (a test checks it), and the exit codes match the constants in main.go.

const mainHelp = `wsclient: a WebSocket client for the terminal.

Usage:
  wsclient demo [flags]          run the sample handler against a local echo server
  wsclient [flags] URL           connect to URL: stdin lines are sent, messages printed
  wsclient serve [flags]         run a local echo server until Ctrl-C
  wsclient help [demo|serve]     show this help, or a subcommand's
  wsclient version               show the version (also --version, -V)

Examples:
  wsclient demo
  wsclient serve                                  # prints ws://127.0.0.1:PORT
  wsclient ws://127.0.0.1:PORT                    # type lines; Ctrl-D or Ctrl-C to end
  printf 'a\nb\n' | wsclient ws://127.0.0.1:PORT  # prints a and b, exits 0
  wsclient --json --wait -1 -H 'Authorization: Bearer T' wss://example.com/feed </dev/null
  wsclient --keepalive 20 --reconnect --subprotocol chat.v1,chat.v0 wss://example.com/ws
  wsclient localhost:8080/ws                      # no scheme: taken as ws://
  echo '{"op":"time"}' | wsclient -1 ws://127.0.0.1:PORT   # one message out, one in
  wsclient -c ws://127.0.0.1:PORT -x hello -w 2    # wscat style: send hello, wait 2s

Flags may come before or after the URL. The URL is ws:// or wss:// (http:// and
https:// are taken as ws:// and wss://; a URL without a scheme, such as
127.0.0.1:9001 or example.com/feed, as ws://, which is said on stderr).
user:password@ in it is sent as Basic authorization, and shown as ***@ in
everything wsclient prints. Without --proxy, proxies come from HTTPS_PROXY,
HTTP_PROXY and NO_PROXY. DURATION is a number of seconds (20, 0.5) or a Go
duration (500ms, 20s, 1m). One-letter flags without a value combine: -qP is
-q -P. The spellings of wscat and websocat in parentheses below are accepted
too (where the two disagree, -n and -s are wscat's).

Connecting:
  -c, --connect URL           the URL, as a flag (wscat); or give it as an argument
  -H, --header 'Name: value'  add a request header (repeatable)
  -o, --origin URL            send an Origin header
  --auth user:password        send Basic authorization (wscat; also user:password@ in
                              the URL)
  --host NAME                 send this Host header (wscat)
  -s, --subprotocol NAME[,NAME]
                              offer subprotocols, in order of preference (repeatable;
                              each an RFC 7230 token; also websocat's --protocol NAME)
  --compress                  offer permessage-deflate compression
  --timeout DURATION          limit for connecting and the opening handshake (default 30s)
  --proxy URL                 connect through this proxy: http://, https:// (CONNECT) or
                              socks5://, with optional user:password@ (instead of the
                              environment's; also for localhost)
  --proxy-cacert FILE         trust the CA certificates in this PEM file for an https://
                              proxy (instead of the system's roots; --cacert is for the
                              server only)
  -L, --follow-redirects      (also --location, wscat) follow the server's redirects (301, 302, 303, 307, 308) to
                              a new URL, at most 10 within --timeout; never from wss://
                              to ws://; once the chain leaves the first host and port,
                              user:password@ and the Authorization, Cookie and Host
                              headers are not sent
  --http2 off|auto|only       WebSocket over HTTP/2 (RFC 8441): auto = when the server
                              offers it, only = required (default off)
  --keepalive DURATION        send a ping every DURATION; after 3 unanswered pings the
                              connection counts as lost (default 0: off; also
                              --ping-interval DURATION, websocat)
  --reconnect                 when an established connection ends other than by our own
                              close (server close, connection lost, keepalive timeout),
                              reconnect, until stdin ends or Ctrl-C; lines typed
                              meanwhile are sent after the reconnect. The delays are
                              500ms, 1s, 2s ... doubling up to 30s, each shortened at
                              random by up to half (so the first retry comes 250ms to
                              500ms after the connection ended); a failed attempt
                              counts toward the next delay. The first connection must
                              succeed: a failure there exits at once
  --max-message-size SIZE     largest message accepted, e.g. 65536, 64KiB, 16MiB
                              (default 32MiB; -1: no limit); a larger one closes with 1009.
                              A longer stdin line is not sent (an error says so)

TLS (wss:// URLs):
  --cacert FILE               trust the CA certificates in this PEM file (instead of the
                              system's roots; wscat: --ca FILE)
  --cert FILE, --key FILE     present this client certificate and key (PEM)
  --insecure                  DANGEROUS: do not verify the server's certificate at all
                              (also -k, websocat; -n, --no-check, wscat); warns on stderr

Input and output:
  -b, --binary                send each stdin line as a binary message (default: text,
                              which -t, --text ask for: websocat)
  -x, --execute MESSAGE       send MESSAGE after connecting, instead of reading stdin
                              (repeatable, in order), then --wait (wscat)
  -w, --wait DURATION         after stdin ends, keep receiving for DURATION (less if the
                              server closes first), then close normally with 1000
                              (default 1s; 0: close at once, replies still on their way
                              may be missed; -1: stay until the server closes or Ctrl-C)
  -E, --exit-on-eof           close as soon as stdin ends: --wait 0 (websocat)
  -1, --one-message           send at most one message (the first line), and close with
                              1000 once one message has been received; --wait defaults
                              to -1 then (websocat)
  --slash                     slash commands in the input, also when stdin is not a
                              terminal (on by default in a terminal; --slash=false turns
                              them off): /ping [data], /pong [data], /close [code
                              [reason]], /help; a line starting with // is sent without
                              its first /
  --json                      print one JSON object per line for each event, for scripts
  --base64                    show binary payloads in base64 (default: hex)
  -P, --show-ping-pong        also show pings and pongs received from the server (text
                              payloads quoted, others in hex or base64)
  --no-color                  accepted and ignored (wscat): wsclient does not colour
  -q, --quiet                 no status lines or warnings on stderr (errors are still
                              shown)
  -v, --trace                 print the dial's phases with their durations, the
                              connection's closes and pongs, and the statistics at exit
                              (stderr)
  -V, --version               show the version and exit
  -h, --help                  show this help

Output:
  Received text messages are printed to stdout as they are, one per line; binary
  messages as one line of hex (or base64). When stdout is a terminal they are
  marked "< ", and when stdin is one too, lines are typed after a "> " prompt (as
  in wscat). Status lines (connected, closed, pings) go to stderr, prefixed with
  "wsclient:". Lines from stdin wait for the connection; lines that could not be
  sent because the session ended are counted in one line on stderr.

  With --json, stdout carries one JSON object per line, with "event" and "time"
  (RFC 3339) and, per event:
    connect     url, subprotocol, extensions
    message     type ("text" or "binary"), data, size, and encoding ("hex" or
                "base64") for binary data
    ping, pong  data, size, and encoding ("hex" or "base64") when the payload
                is not UTF-8 text               (with --show-ping-pong)
    close       code, reason, by ("server": the server closed; "client": we did)
    disconnect  error: the connection ended without a close handshake, or a
                connection attempt failed
    reconnect   attempt, delay_ms               (with --reconnect)
    redirect    code, location                  (with -L)
  Errors are still written to stderr as text.

Ending a session:
  Ctrl-D (end of stdin) waits --wait for replies, then closes with 1000.
  Ctrl-C or SIGTERM sends a close frame (1001, going away) and waits up to 5s
  for the server's answer (it says so); a second Ctrl-C exits at once (exit
  code 130).

Exit codes:
  0  the connection ended with a close handshake: closed by us, or by the server
     with 1000 (normal), 1001 (going away) or no code
  1  any other error (protocol violation by the server, message too big, a close
     frame the server never answered, I/O)
  2  bad usage: unknown flag, missing or bad URL, bad -H header (such as one the
     handshake sets itself), unreadable --cacert/--proxy-cacert/--cert file
  3  handshake refused or invalid: the server answered e.g. 403 or 404, not 101
  4  TLS failure: the handshake failed or the certificate was not trusted
  5  connection lost: closed without a close frame, or keepalive pings unanswered
  6  cannot connect: DNS, TCP connection refused, proxy, or --timeout expired
     (also when the server accepts TCP but never answers the upgrade)
  7  the server closed with another code (e.g. 1008 policy violation, 1011)
  130  Ctrl-C before the connection was established, or a second Ctrl-C during
       the close handshake
`

const demoHelp = `Usage: wsclient demo [flags]

Starts an echo server on 127.0.0.1 (no network needed) and runs the sample
handler against it with the callback Client (the Go version of the Erlang
websocket_client sample): on connect it sends "message 1", answers each echo
with "hello, this is message #N" (N from 2), and closes after the echo of
message #4. It prints the four messages it receives, then the state and the
reason the client terminated with. Exit code 0 on success, and after Ctrl-C
(which closes the connection and stops the client); 2 for a bad --url.

Flags:
  --delay DURATION   pause before each reply, such as 1 (seconds) or 100ms (default
                     250ms; the Erlang sample waits 1s)
  --url URL          run against this server instead (it must echo text messages)
  -h, --help         show this help
`

const serveHelp = `Usage: wsclient serve [flags]

Runs an echo server (the wstest package's) until Ctrl-C: it echoes text and
binary messages, answers pings and the close handshake. The first line on
stdout is its URL. Ctrl-C (or SIGTERM) closes every connection with a close
frame 1001 (going away) and waits up to 5s for the answers (Ctrl-C again:
at once).

Flags:
  --addr HOST:PORT     listen address (default 127.0.0.1:0: a free port on loopback)
  --tls                serve wss:// with a fresh self-signed certificate; its PEM is
                       written to a file (see --cacert-out) for wsclient --cacert
  --cacert-out FILE    where to write the certificate (default: a temporary file,
                       removed when the server stops)
  --compress           accept permessage-deflate compression
  -h, --help           show this help

Examples:
  wsclient serve
  wsclient serve --addr 127.0.0.1:8080 --compress
  wsclient serve --tls --cacert-out /tmp/ca.pem
`
