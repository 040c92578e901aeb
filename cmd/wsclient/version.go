package main

import (
	"os"
	"runtime"
	"runtime/debug"

	"golang.org/x/term"
)

// versionString is what --version prints: the module version the binary
// was built from ("devel" for a build from a checkout, with the VCS
// revision when known) and the Go version.
func versionString() string {
	v := "devel"
	var rev, modified string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if mv := bi.Main.Version; mv != "" && mv != "(devel)" {
			v = mv
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
	}
	if v == "devel" && rev != "" {
		v += " (" + rev[:min(12, len(rev))] + modified + ")"
	}
	return "wsclient " + v + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// isTerminal reports whether r (stdin, stdout) is a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}
