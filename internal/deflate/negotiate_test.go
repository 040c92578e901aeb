package deflate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestOffer(t *testing.T) {
	tests := []struct {
		o    Options
		want string
		err  bool
	}{
		{Options{}, "permessage-deflate; client_max_window_bits", false},
		{Options{ClientMaxWindowBits: NotOffered}, "permessage-deflate", false},
		{Options{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10", false},
		{Options{ClientNoContextTakeover: true, ServerNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
			"permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=15", false},
		{Options{ClientMaxWindowBits: 7}, "", true},
		{Options{ClientMaxWindowBits: 16}, "", true},
		{Options{ServerMaxWindowBits: 7}, "", true},
		{Options{ServerMaxWindowBits: -1}, "", true},
		{Options{Level: 10}, "", true},
		{Options{Level: -3}, "", true},
	}
	for _, tt := range tests {
		got, err := tt.o.Offer()
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%+v.Offer() = %q, %v; want %q, err=%v", tt.o, got, err, tt.want, tt.err)
		}
		if err == nil {
			// The offer must parse back as one permessage-deflate.
			exts, perr := ParseExtensions([]string{got})
			if perr != nil || len(exts) != 1 || exts[0].Name != ExtensionName {
				t.Errorf("offer %q does not parse back: %v %+v", got, perr, exts)
			}
		}
	}
}

func TestAccept(t *testing.T) {
	def := Params{ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}
	tests := []struct {
		name    string
		o       Options
		answer  []string
		want    Params
		ok      bool
		errLike string // substring of the error; "" for no error
	}{
		{"declined: no header", Options{}, nil, Params{}, false, ""},
		{"declined: empty header", Options{}, []string{""}, Params{}, false, ""},
		{"declined: empty list elements", Options{}, []string{" , ,"}, Params{}, false, ""},
		{"plain", Options{}, []string{"permessage-deflate"}, def, true, ""},
		{"name case-insensitive", Options{}, []string{"PerMessage-Deflate"}, def, true, ""},
		{"param case-insensitive", Options{}, []string{"permessage-deflate; Server_No_Context_Takeover"},
			Params{ServerNoContextTakeover: true, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}, true, ""},
		{"whitespace", Options{}, []string{"  permessage-deflate ;\tclient_max_window_bits = 10 ; server_no_context_takeover  "},
			Params{ServerNoContextTakeover: true, ClientMaxWindowBits: 10, ServerMaxWindowBits: 15}, true, ""},
		{"quoted value", Options{}, []string{`permessage-deflate; client_max_window_bits="9"`},
			Params{ClientMaxWindowBits: 9, ServerMaxWindowBits: 15}, true, ""},
		{"quoted value with escape", Options{}, []string{`permessage-deflate; client_max_window_bits="1\2"`},
			Params{ClientMaxWindowBits: 12, ServerMaxWindowBits: 15}, true, ""},
		{"quoted non-token", Options{}, []string{`permessage-deflate; client_max_window_bits="1 2"`}, Params{}, false, "not a token"},
		{"unterminated quote", Options{}, []string{`permessage-deflate; client_max_window_bits="12`}, Params{}, false, "unterminated"},
		{"client adds client_no_context_takeover unoffered", Options{}, []string{"permessage-deflate; client_no_context_takeover"},
			Params{ClientNoContextTakeover: true, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}, true, ""},
		{"client_no_context_takeover offered, omitted in answer: still honoured", Options{ClientNoContextTakeover: true},
			[]string{"permessage-deflate"}, Params{ClientNoContextTakeover: true, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}, true, ""},
		{"server_no_context_takeover offered and echoed", Options{ServerNoContextTakeover: true},
			[]string{"permessage-deflate; server_no_context_takeover"}, Params{ServerNoContextTakeover: true, ClientMaxWindowBits: 15, ServerMaxWindowBits: 15}, true, ""},
		{"server_no_context_takeover offered, not echoed", Options{ServerNoContextTakeover: true},
			[]string{"permessage-deflate"}, Params{}, false, "server_no_context_takeover was offered but not accepted"},
		{"server_max_window_bits unoffered in answer", Options{}, []string{"permessage-deflate; server_max_window_bits=10"},
			Params{ClientMaxWindowBits: 15, ServerMaxWindowBits: 10}, true, ""},
		{"server_max_window_bits smaller than offered", Options{ServerMaxWindowBits: 12}, []string{"permessage-deflate; server_max_window_bits=10"},
			Params{ClientMaxWindowBits: 15, ServerMaxWindowBits: 10}, true, ""},
		{"server_max_window_bits equal to offered", Options{ServerMaxWindowBits: 12}, []string{"permessage-deflate; server_max_window_bits=12"},
			Params{ClientMaxWindowBits: 15, ServerMaxWindowBits: 12}, true, ""},
		{"server_max_window_bits larger than offered", Options{ServerMaxWindowBits: 12}, []string{"permessage-deflate; server_max_window_bits=13"},
			Params{}, false, "larger than the offered 12"},
		{"server_max_window_bits offered, not echoed", Options{ServerMaxWindowBits: 12}, []string{"permessage-deflate"},
			Params{}, false, "server_max_window_bits was offered but not accepted"},
		{"server_max_window_bits without value", Options{}, []string{"permessage-deflate; server_max_window_bits"}, Params{}, false, "needs a value"},
		{"client_max_window_bits not offered", Options{ClientMaxWindowBits: NotOffered}, []string{"permessage-deflate; client_max_window_bits=15"},
			Params{}, false, "not offered"},
		{"client_max_window_bits without value", Options{}, []string{"permessage-deflate; client_max_window_bits"}, Params{}, false, "needs a value"},
		{"client_max_window_bits larger than offered value: keep the offered", Options{ClientMaxWindowBits: 10},
			[]string{"permessage-deflate; client_max_window_bits=12"}, Params{ClientMaxWindowBits: 10, ServerMaxWindowBits: 15}, true, ""},
		{"client_max_window_bits offered value, omitted in answer", Options{ClientMaxWindowBits: 11},
			[]string{"permessage-deflate"}, Params{ClientMaxWindowBits: 11, ServerMaxWindowBits: 15}, true, ""},
		{"window bits 7", Options{}, []string{"permessage-deflate; client_max_window_bits=7"}, Params{}, false, "8..15"},
		{"window bits 16", Options{}, []string{"permessage-deflate; server_max_window_bits=16"}, Params{}, false, "8..15"},
		{"window bits leading zero", Options{}, []string{"permessage-deflate; server_max_window_bits=010"}, Params{}, false, "8..15"},
		{"window bits not a number", Options{}, []string{"permessage-deflate; server_max_window_bits=x"}, Params{}, false, "8..15"},
		{"window bits empty quoted", Options{}, []string{`permessage-deflate; server_max_window_bits=""`}, Params{}, false, "not a token"},
		{"duplicate param", Options{}, []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, Params{}, false, "duplicate"},
		{"duplicate param case-insensitive", Options{}, []string{"permessage-deflate; client_max_window_bits=9; CLIENT_MAX_WINDOW_BITS=9"}, Params{}, false, "duplicate"},
		{"takeover param with value", Options{}, []string{"permessage-deflate; client_no_context_takeover=1"}, Params{}, false, "must not have a value"},
		{"unknown param", Options{}, []string{"permessage-deflate; foo"}, Params{}, false, `unknown parameter "foo"`},
		{"two permessage-deflate in one value", Options{}, []string{"permessage-deflate, permessage-deflate"}, Params{}, false, "more than once"},
		{"two permessage-deflate in two values", Options{}, []string{"permessage-deflate", "permessage-deflate; client_no_context_takeover"}, Params{}, false, "more than once"},
		{"unoffered extension", Options{}, []string{"x-webkit-deflate-frame"}, Params{}, false, "not offered"},
		{"garbage", Options{}, []string{"permessage-deflate;"}, Params{}, false, "expected a token"},
		{"garbage separator", Options{}, []string{"permessage-deflate client_max_window_bits"}, Params{}, false, "unexpected character"},
		{"empty param value", Options{}, []string{"permessage-deflate; server_max_window_bits="}, Params{}, false, "expected a token"},
		{"all at once", Options{ClientNoContextTakeover: true, ServerNoContextTakeover: true, ServerMaxWindowBits: 10},
			[]string{"permessage-deflate;client_no_context_takeover;server_no_context_takeover;server_max_window_bits=8;client_max_window_bits=8"},
			Params{ClientNoContextTakeover: true, ServerNoContextTakeover: true, ClientMaxWindowBits: 8, ServerMaxWindowBits: 8}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := tt.o.Accept(tt.answer)
			if tt.errLike != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errLike) || !errors.Is(err, ErrNegotiation) {
					t.Fatalf("Accept(%q) = %+v, %v, %v; want an ErrNegotiation error containing %q", tt.answer, p, ok, err, tt.errLike)
				}
				return
			}
			if err != nil || ok != tt.ok || p != tt.want {
				t.Fatalf("Accept(%q) = %+v, %v, %v; want %+v, %v", tt.answer, p, ok, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseExtensions(t *testing.T) {
	if _, err := ParseExtensions([]string{`foo; b="x\"y"`}); err == nil {
		t.Fatal(`quoted value x"y accepted though not a token`)
	}
	got, err := ParseExtensions([]string{`foo; a=1; b="x\yz"`, ` bar ,baz;c; d = "e" ,`})
	if err != nil {
		t.Fatal(err)
	}
	want := []Extension{
		{"foo", []Param{{"a", "1", true}, {"b", "xyz", true}}},
		{"bar", nil},
		{"baz", []Param{{"c", "", false}, {"d", "e", true}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"=", "foo;", "foo;=1", "foo; a=1 2", "foo bar", "foo; a=\"1", "f(o)", "foo; a=\"\x01\"", "foo; a=\"b\\", "foo;a=\"1\"x"} {
		if exts, err := ParseExtensions([]string{bad}); err == nil {
			t.Errorf("ParseExtensions(%q) = %+v, want an error", bad, exts)
		}
	}
}
