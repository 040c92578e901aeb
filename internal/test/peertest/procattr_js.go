package peertest

import (
	"os"
	"syscall"
)

// A js/wasm program starts no processes: the starters fail there (the
// browser tests start their peers from a native test; see wasm_test.go
// in the root package). These keep the package building for GOOS=js.

func procAttr() *syscall.SysProcAttr { return nil }

func terminateGroup(int) {}

func killGroup(int, *os.Process) {}
