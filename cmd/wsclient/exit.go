package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/wsclient/wsclient"
)

// normalClose reports whether a close code from the server means a normal
// end of the session.
func normalClose(code int) bool {
	return code == wsclient.CloseNormalClosure || code == wsclient.CloseGoingAway || code == wsclient.CloseNoStatusReceived
}

// classify maps the error that ended a session (or a dial) to an exit code
// and a message for stderr. A nil error is a normal close.
func classify(err error) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var he *wsclient.HandshakeError
	var de *wsclient.DialError
	var ce *wsclient.CloseError
	var alert tls.AlertError
	switch {
	case errors.As(err, &alert):
		// The server rejected TLS, possibly only after the handshake (TLS
		// 1.3 checks client certificates then), when the library may
		// report it as a handshake error wrapping the alert.
		return exitTLS, "TLS failure: " + err.Error()
	case errors.As(err, &he):
		if he.StatusCode != 0 && he.StatusCode != 101 {
			msg := "handshake refused: " + he.Status
			if body := firstLine(he.Body); body != "" {
				msg += ": " + body
			}
			return exitHandshake, msg
		}
		return exitHandshake, "handshake failed: " + he.Reason
	case errors.As(err, &de) && de.Op == "tls":
		msg := "TLS failure: " + de.Err.Error()
		var uae x509.UnknownAuthorityError
		var hne x509.HostnameError
		var cve *tls.CertificateVerificationError
		switch {
		case errors.As(err, &uae), errors.As(err, &cve) && errors.As(cve.Err, &uae):
			msg += "\n  (the server's certificate is not signed by a trusted CA: pass its CA with --cacert FILE, or --insecure for a throwaway test server)"
		case errors.As(err, &hne):
			msg += "\n  (the certificate is not valid for this host name)"
		}
		return exitTLS, msg
	case errors.As(err, &de):
		return exitConnect, "cannot connect: " + de.Err.Error()
	case errors.Is(err, wsclient.ErrKeepaliveTimeout):
		return exitLost, "connection lost: keepalive pings unanswered"
	case errors.Is(err, wsclient.ErrConnectionLost):
		return exitLost, "connection lost: " + err.Error()
	case errors.Is(err, wsclient.ErrMessageTooBig):
		return exitError, "message too big (closed with 1009; see --max-message-size): " + err.Error()
	case errors.As(err, &ce):
		if normalClose(ce.Code) {
			return exitOK, ""
		}
		return exitAbnormalClose, fmt.Sprintf("closed by server with code %d (%s)%s", ce.Code, wsclient.CloseCodeText(ce.Code), reasonSuffix(ce.Reason))
	}
	return exitError, err.Error()
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// firstLine returns the first line of a response body, trimmed and cut to a
// readable length, or "" if it does not look like text.
func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || (!unicode.IsPrint(r) && r != '\t') {
			return ""
		}
	}
	return s
}
