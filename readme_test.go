//go:build !js

package wsclient

import (
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// readmeSnippet is one ```go block of README.md.
type readmeSnippet struct {
	line int    // README line of the block's first code line
	code string // the block's text
}

// readmeSnippets returns the ```go blocks of a Markdown document.
func readmeSnippets(md string) []readmeSnippet {
	var out []readmeSnippet
	var cur *readmeSnippet
	var body strings.Builder
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```go":
			cur = &readmeSnippet{line: i + 2}
			body.Reset()
		case cur != nil && strings.TrimSpace(l) == "```":
			cur.code = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(l + "\n")
		}
	}
	return out
}

// docSnippets returns the code blocks (tab-indented comment lines) of a Go
// file's comments, such as the package documentation.
func docSnippets(src string) []readmeSnippet {
	var out []readmeSnippet
	var cur *readmeSnippet
	var lines []string
	flush := func() {
		for len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if cur != nil && len(lines) > 0 {
			cur.code = strings.Join(lines, "\n") + "\n"
			out = append(out, *cur)
		}
		cur, lines = nil, nil
	}
	for i, l := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(l, "//\t"):
			if cur == nil {
				cur = &readmeSnippet{line: i + 1}
			}
			lines = append(lines, l[3:])
		case l == "//" && cur != nil:
			lines = append(lines, "")
		default:
			flush()
		}
	}
	flush()
	return out
}

// snippetImports maps the package names README snippets may use to their
// import paths; a snippet gets the imports of the names it uses.
var snippetImports = map[string]string{
	"bytes":     "bytes",
	"context":   "context",
	"cookiejar": "net/http/cookiejar",
	"errors":    "errors",
	"fmt":       "fmt",
	"http":      "net/http",
	"io":        "io",
	"log":       "log",
	"net":       "net",
	"os":        "os",
	"signal":    "os/signal",
	"slog":      "log/slog",
	"strings":   "strings",
	"time":      "time",
	"tls":       "crypto/tls",
	"url":       "net/url",
	"wsclient":  "github.com/wsclient/wsclient",
	"wstest":    "github.com/wsclient/wsclient/wstest",
	"wsvalue":   "github.com/wsclient/wsclient/wsvalue",
	"x509":      "crypto/x509",
}

var selectorBase = regexp.MustCompile(`\b([a-z][a-z0-9]*)\.[A-Za-z_]`)

// isProgram reports whether a snippet is a complete Go file: it starts (after
// comments) with a package clause.
func isProgram(s readmeSnippet) bool {
	_, err := parser.ParseFile(token.NewFileSet(), "", s.code, parser.PackageClauseOnly)
	return err == nil
}

// snippetFile turns a snippet into a Go file of package pkg: a complete file
// (one that starts with a package clause) as it is, imports included;
// declarations as they are, statements as the body of a function, both with
// the imports of the package names they use. Line directives make the
// compiler report Markdown lines. It fails for a snippet that is none of
// these.
func snippetFile(pkg, readme string, s readmeSnippet) (string, error) {
	directive := fmt.Sprintf("//line %s:%d\n", readme, s.line)
	fset := token.NewFileSet()
	if isProgram(s) {
		src := directive + s.code
		if _, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution); err != nil {
			return "", fmt.Errorf("starts with a package clause but is not a Go file: %v", err)
		}
		return src, nil
	}
	var imports []string
	seen := map[string]bool{}
	for _, m := range selectorBase.FindAllStringSubmatch(s.code, -1) {
		if p, ok := snippetImports[m[1]]; ok && !seen[p] {
			seen[p] = true
			imports = append(imports, p)
		}
	}
	sort.Strings(imports)
	var head strings.Builder
	fmt.Fprintf(&head, "package %s\n\n", pkg)
	for _, p := range imports {
		fmt.Fprintf(&head, "import %q\n", p)
	}
	// Declarations (types, functions) first; then statements in a function.
	decl := head.String() + directive + s.code
	if _, err := parser.ParseFile(fset, "", decl, parser.SkipObjectResolution); err == nil {
		return decl, nil
	}
	stmts := head.String() + "\nfunc _() {\n" + directive + s.code + "}\n"
	if _, err := parser.ParseFile(fset, "", stmts, parser.SkipObjectResolution); err != nil {
		return "", fmt.Errorf("neither a Go file, declarations nor statements: %v", err)
	}
	return stmts, nil
}

// Every ```go block of README.md and of the Markdown pages in docs/, and
// every code block of the package documentation (doc.go), compiles against
// this checkout, passes go vet and is gofmt-clean. A Markdown block is a
// complete Go file (it starts with a package clause and has its own
// imports), package-level declarations, or statements (wrapped in a
// function); the last two get the imports of the package names they use.
// Each Markdown block is its own package; doc.go's blocks share one. All
// build in one temporary module (one go build, one go vet).
func TestReadmeSnippets(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not in PATH: cannot compile the README snippets")
	}
	readme, err := filepath.Abs("README.md")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	snippets := readmeSnippets(string(md))
	programs := 0
	for _, s := range snippets {
		if isProgram(s) {
			programs++
		}
	}
	if programs < 2 {
		t.Fatalf("README.md has %d complete programs (go blocks starting with package); the Conn and Client programs are missing", programs)
	}
	pages, err := filepath.Glob(filepath.Join(filepath.Dir(readme), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	type mdFile struct {
		path     string
		snippets []readmeSnippet
	}
	mds := []mdFile{{readme, snippets}}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mds = append(mds, mdFile{p, readmeSnippets(string(b))})
	}
	docFile, err := filepath.Abs("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	docs := docSnippets(string(doc))
	if len(docs) < 2 {
		t.Fatalf("doc.go has %d code blocks; the Conn and Client examples are missing", len(docs))
	}
	checkout := filepath.Dir(readme)
	dir := t.TempDir()
	gomod := fmt.Sprintf("module readmecheck\n\ngo 1.26\n\nrequire github.com/wsclient/wsclient v0.0.0\n\nreplace github.com/wsclient/wsclient => %s\n", checkout)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(checkout, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	type job struct {
		file, pkg string
		s         readmeSnippet
	}
	var jobs []job
	for _, m := range mds {
		for _, s := range m.snippets {
			jobs = append(jobs, job{m.path, fmt.Sprintf("md%d", len(jobs)+1), s})
		}
	}
	for _, s := range docs {
		jobs = append(jobs, job{docFile, "docgo", s})
	}
	for i, j := range jobs {
		name, err := filepath.Rel(checkout, j.file)
		if err != nil {
			name = filepath.Base(j.file)
		}
		if got, err := format.Source([]byte(j.s.code)); err != nil {
			t.Errorf("%s:%d: gofmt: %v", name, j.s.line, err)
		} else if !bytes.Equal(got, []byte(j.s.code)) {
			t.Errorf("%s:%d: block is not gofmt-clean; gofmt makes it:\n%s", name, j.s.line, got)
		}
		src, err := snippetFile(j.pkg, j.file, j.s)
		if err != nil {
			t.Errorf("%s:%d: %v", name, j.s.line, err)
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, j.pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, j.pkg, fmt.Sprintf("snippet%d.go", i+1)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if t.Failed() {
		return
	}
	// Offline: the checkout's dependencies are in the module cache (this
	// test was built with them).
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = dir
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s of the Markdown and doc.go snippets: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
