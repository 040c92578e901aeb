// Package skipsummary is run by peertest's TestSkipSummary with
// WSCLIENT_MISSING_PEERS=all: its TestMain must report the skipped tests.
package skipsummary

import (
	"testing"

	"github.com/wsclient/wsclient/internal/test/peertest"
)

func TestMain(m *testing.M) { peertest.VerifyTestMain(m) }

func TestTinyproxyA(t *testing.T) { peertest.Tinyproxy(t, peertest.ProxyOptions{}) }

func TestTinyproxyB(t *testing.T) { peertest.Tinyproxy(t, peertest.ProxyOptions{}) }

func TestMicrosocks(t *testing.T) { peertest.Microsocks(t, peertest.ProxyOptions{}) }

func TestNoPeer(t *testing.T) {}
