package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wsclient/wsclient/internal/frame"

	"github.com/wsclient/wsclient"
)

// normalClose reports whether a close code from the server means a normal
// end of the session.
func normalClose(code int) bool {
	return code == wsclient.CloseNormalClosure || code == wsclient.CloseGoingAway || code == wsclient.CloseNoStatusReceived
}

// classify maps the error that ended a session (or a dial) to an exit code
// and a message for stderr. A nil error is a normal close. timeout is the
// --timeout in force (0: not known), named in timeout messages.
func classify(err error, timeout time.Duration) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var he *wsclient.HandshakeError
	var de *wsclient.DialError
	var ce *wsclient.CloseError
	var pe *wsclient.ProtocolError
	var alert tls.AlertError
	var rhe tls.RecordHeaderError
	within := ""
	if timeout > 0 {
		within = fmt.Sprintf(" within %v (--timeout)", timeout)
	}
	switch {
	case errors.As(err, &alert):
		// The server rejected TLS, possibly only after the handshake (TLS
		// 1.3 checks client certificates then), when the library may
		// report it as a handshake error wrapping the alert.
		return exitTLS, "TLS failure: " + errText(err)
	case errors.As(err, &he):
		switch {
		case errors.Is(err, wsclient.ErrTooManyRedirects):
			return exitHandshake, fmt.Sprintf("stopped after %d redirects (the last one, %s, to %s)", maxRedirects, he.Status, redact(he.Location))
		case errors.Is(err, wsclient.ErrInsecureRedirect):
			return exitHandshake, fmt.Sprintf("redirect (%s) from wss:// to %s refused: it would drop TLS", he.Status, redact(he.Location))
		case he.Location != "" && he.Err != nil:
			// -L was on, and the library would not follow it.
			return exitHandshake, fmt.Sprintf("redirect (%s) to %s not followed: %s", he.Status, redact(he.Location), errText(he.Err))
		}
		if he.StatusCode != 0 && he.StatusCode != 101 {
			msg := "handshake refused: " + he.Status
			if he.Location != "" {
				msg += " (Location: " + redact(he.Location) + "; -L follows redirects)"
			}
			if body := withoutStatus(bodySummary(he.Body), he); body != "" {
				msg += ": " + body
			}
			if he.StatusCode == 400 && bytes.Contains(bytes.ToLower(he.Body), []byte("https")) {
				msg += "\n  (is this a TLS port? try wss://)"
			}
			return exitHandshake, msg
		}
		if closedUnanswered(he) {
			return exitHandshake, "handshake failed: the server closed the connection without answering the upgrade request"
		}
		return exitHandshake, "handshake failed: " + he.Reason
	case errors.As(err, &de) && de.Op == "handshake" && errors.Is(err, context.DeadlineExceeded):
		return exitConnect, "no answer to the WebSocket upgrade request" + within +
			": the server accepted the TCP connection but never answered the handshake"
	case errors.As(err, &de) && de.Op == "tls" && errors.Is(err, context.DeadlineExceeded):
		return exitTLS, "TLS failure: no answer to the TLS handshake" + within
	case errors.As(err, &de) && de.Op == "tls":
		msg := "TLS failure: " + errText(de.Err)
		var uae x509.UnknownAuthorityError
		var hne x509.HostnameError
		var cve *tls.CertificateVerificationError
		switch {
		case errors.As(err, &uae), errors.As(err, &cve) && errors.As(cve.Err, &uae):
			msg += "\n  (the server's certificate is not signed by a trusted CA: pass its CA with --cacert FILE, or --insecure for a throwaway test server)"
		case errors.As(err, &hne):
			msg += "\n  (the certificate is not valid for this host name)"
		case errors.As(err, &rhe) && bytes.HasPrefix(rhe.RecordHeader[:], []byte("HTTP")):
			msg += "\n  (the server answered in plain HTTP: is this a ws:// port?)"
		}
		return exitTLS, msg
	case errors.As(err, &de) && errors.Is(err, context.DeadlineExceeded):
		return exitConnect, "cannot connect" + within + ": " + de.Op + " timed out"
	case errors.As(err, &de) && de.Op == "proxy" && errors.As(err, new(*tls.CertificateVerificationError)):
		return exitConnect, "cannot connect: proxy: " + errText(de.Err) +
			"\n  (the proxy's certificate is not trusted: pass its CA with --proxy-cacert FILE; --cacert is for the server)"
	case errors.As(err, &de):
		return exitConnect, "cannot connect: " + errText(de.Err)
	case errors.Is(err, wsclient.ErrKeepaliveTimeout):
		return exitLost, "connection lost: keepalive pings unanswered"
	case errors.Is(err, wsclient.ErrConnectionLost):
		msg := errText(err)
		if !strings.HasPrefix(msg, "connection lost") {
			msg = "connection lost: " + msg
		}
		return exitLost, msg
	case errors.Is(err, wsclient.ErrMessageTooBig) && errors.As(err, &pe):
		return exitError, fmt.Sprintf("message too big: %s (closed with %d; see --max-message-size)", pe.Msg, pe.Code)
	case errors.As(err, &ce):
		if normalClose(ce.Code) {
			return exitOK, ""
		}
		return exitAbnormalClose, fmt.Sprintf("closed by server with code %d (%s)%s", ce.Code, frame.CodeText(ce.Code), reasonSuffix(ce.Reason))
	}
	return exitError, errText(err)
}

// withoutStatus drops the leading parts of a body summary that only repeat
// the status ("403 Forbidden", or "Forbidden" as Go's http.Error writes).
func withoutStatus(summary string, he *wsclient.HandshakeError) string {
	text := strings.TrimSpace(strings.TrimPrefix(he.Status, strconv.Itoa(he.StatusCode)))
	for summary != "" {
		first, rest, _ := strings.Cut(summary, " / ")
		if !strings.EqualFold(first, he.Status) && !strings.EqualFold(first, text) {
			return summary
		}
		summary = rest
	}
	return ""
}

// closedUnanswered reports a handshake the server ended by closing (or
// resetting) the connection before any response, as a TLS port does when
// spoken to in plain text.
func closedUnanswered(he *wsclient.HandshakeError) bool {
	return he.StatusCode == 0 && (errors.Is(he.Err, io.EOF) || errors.Is(he.Err, io.ErrUnexpectedEOF) || errors.Is(he.Err, syscall.ECONNRESET))
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}
