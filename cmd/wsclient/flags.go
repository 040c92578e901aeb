package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || !httpguts.ValidHeaderFieldName(name) {
		return errors.New(`want "Name: value"`)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return errors.New("the value has control characters")
	}
	switch c := http.CanonicalHeaderKey(name); c {
	case "Sec-Websocket-Protocol":
		return errors.New("offer subprotocols with --subprotocol")
	case "Sec-Websocket-Extensions":
		return errors.New("offer compression with --compress")
	case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Accept":
		return fmt.Errorf("the opening handshake sets %s itself", name)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

// listFlag collects a repeatable flag whose values may also be comma lists.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*f = append(*f, v)
		}
	}
	return nil
}

// subprotocolFlag collects --subprotocol values: repeatable, each a comma
// list of RFC 7230 tokens (what Sec-WebSocket-Protocol may carry).
type subprotocolFlag []string

func (f *subprotocolFlag) String() string { return strings.Join(*f, ",") }

func (f *subprotocolFlag) Set(s string) error {
	var l listFlag
	l.Set(s)
	if len(l) == 0 {
		return errors.New("want a subprotocol name")
	}
	for _, v := range l {
		if !httpguts.ValidHeaderFieldName(v) { // a token (RFC 7230 section 3.2.6)
			which := "not"
			if len(l) > 1 {
				which = fmt.Sprintf("%q is not", v)
			}
			return fmt.Errorf("%s a valid subprotocol name: want a token (letters, digits and !#$%%&'*+-.^_`|~; no spaces)", which)
		}
	}
	*f = append(*f, l...)
	return nil
}

// sizeFlag is a byte count with an optional suffix: k/K/KiB, m/M/MiB,
// g/G/GiB (powers of 1024). Negative means no limit.
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f = sizeFlag(n)
	return nil
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a number of bytes such as 65536, 64KiB or 16MiB", s)
	}
	if n < 0 {
		return -1, nil
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// durationFlag is a time.Duration that also accepts a plain number of
// seconds ("2", "0.5", "-1"), like --wait, --keepalive and --timeout all do.
type durationFlag time.Duration

func (f *durationFlag) String() string { return time.Duration(*f).String() }

func (f *durationFlag) Set(s string) error {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		// Also false for NaN; ±Inf and anything past 292 years would
		// overflow time.Duration.
		if !(math.Abs(secs) < float64(math.MaxInt64)/float64(time.Second)) {
			return errors.New("out of range: want a duration such as 20 (seconds), 500ms, 20s or 1m")
		}
		*f = durationFlag(time.Duration(secs * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 20 (seconds), 500ms, 20s or 1m")
	}
	*f = durationFlag(d)
	return nil
}

// parseInterleaved parses flags that may come before and after positional
// arguments (wsclient URL --json works like wsclient --json URL). Everything
// after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	all := args
	args, err := expandShort(fs, args)
	if err != nil {
		return nil, err
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, asTyped(fs, err, all)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// errHelp is returned by parsers when -h or --help was given.
var errHelp = flag.ErrHelp

func isHelp(err error) bool { return errors.Is(err, errHelp) }

// flagInError finds the flag name in the flag package's error messages
// ("flag provided but not defined: -x", "invalid value "v" for flag -x: e",
// "invalid boolean value "v" for -x: e", "flag needs an argument: -x").
var flagInError = regexp.MustCompile(`^(?:flag provided but not defined|flag needs an argument): -(\S+)$|^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^:\s]+): (.*)$`)

// asTyped rewrites a flag package error so that it names the flag as the
// user typed it (--keepalive, not -keepalive) and reads "--flag "value":
// problem"; an unknown flag comes with the closest one of fs.
func asTyped(fs *flag.FlagSet, err error, args []string) error {
	if isHelp(err) {
		return err
	}
	m := flagInError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	name := m[1] + m[3]
	typed := "-" + name
	if len(name) > 1 {
		typed = "--" + name
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && n == name {
			typed, _, _ = strings.Cut(a, "=")
			break
		}
	}
	switch {
	case m[1] != "" && strings.HasPrefix(err.Error(), "flag provided"):
		if hint := suggestFlag(fs, name); hint != "" {
			return fmt.Errorf("unknown flag %s; %s", typed, hint)
		}
		return fmt.Errorf("unknown flag %s", typed)
	case m[1] != "":
		return fmt.Errorf("%s needs a value", typed)
	}
	return fmt.Errorf("%s %s: %s", typed, m[2], m[4])
}
