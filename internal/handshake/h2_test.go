package handshake

import (
	"errors"
	"net/http"
	"testing"
)

func TestCheckExtendedConnect(t *testing.T) {
	resp := func(code int, hdr ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Add(hdr[i], hdr[i+1])
		}
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: h}
	}
	for _, tc := range []struct {
		name  string
		resp  *http.Response
		exts  bool
		ok    bool
		proto string
	}{
		{"200", resp(200), false, true, ""},
		{"any 2xx", resp(204), false, true, ""},
		{"101 is HTTP/1.1 only", resp(101), false, false, ""},
		{"refused", resp(403), false, false, ""},
		{"subprotocol", resp(200, "Sec-WebSocket-Protocol", "chat"), false, true, "chat"},
		{"unoffered subprotocol", resp(200, "Sec-WebSocket-Protocol", "other"), false, false, ""},
		{"two subprotocols", resp(200, "Sec-WebSocket-Protocol", "chat", "Sec-WebSocket-Protocol", "chat"), false, false, ""},
		{"extensions offered", resp(200, "Sec-WebSocket-Extensions", "permessage-deflate"), true, true, ""},
		{"extensions not offered", resp(200, "Sec-WebSocket-Extensions", "permessage-deflate"), false, false, ""},
	} {
		res, err := CheckExtendedConnect(tc.resp, []string{"chat"}, tc.exts)
		var f *Failure
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &f)) || res.Subprotocol != tc.proto {
			t.Errorf("%s: %+v, %v", tc.name, res, err)
		}
	}
}
