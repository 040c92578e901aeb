package handshake

import (
	"fmt"
	"net/http"
	"strings"
)

// CheckExtendedConnect validates the server's response to an RFC 8441
// extended CONNECT (WebSocket over HTTP/2): any 2xx status accepts it
// (RFC 8441 section 5; there is no Sec-WebSocket-Accept), and the
// subprotocol and extensions follow the rules of RFC 6455, as in Check.
func CheckExtendedConnect(resp *http.Response, subprotocols []string, allowExtensions bool) (Result, error) {
	var res Result
	fail := func(format string, a ...any) (Result, error) {
		return res, &Failure{StatusCode: resp.StatusCode, Reason: fmt.Sprintf(format, a...)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail("server refused the extended CONNECT: %s", resp.Status)
	}
	protos := resp.Header.Values("Sec-Websocket-Protocol")
	switch {
	case len(protos) > 1:
		return fail("more than one Sec-WebSocket-Protocol in the response")
	case len(protos) == 1:
		p := strings.TrimSpace(protos[0])
		ok := false
		for _, o := range subprotocols {
			if o == p {
				ok = true
			}
		}
		if !ok {
			return fail("server chose subprotocol %q, which was not offered", p)
		}
		res.Subprotocol = p
	}
	if exts := resp.Header.Values("Sec-Websocket-Extensions"); len(exts) > 0 {
		if !allowExtensions {
			return fail("server answered extensions %q, none were offered", strings.Join(exts, ", "))
		}
		res.Extensions = exts
	}
	return res, nil
}
