// Package loudskip makes a skipped half of the test suite visible in a plain `go test ./...`.
//
// In package-list mode, go test captures each test binary's stdout and stderr into one buffer and,
// when the package passes without -v, throws the buffer away and prints "ok  pkg 1.2s"; and the
// testing package prints a skip message only with -v anyway. So a package whose PostgreSQL or
// browser tests all skipped looks exactly like one that ran them. (See runTestActor.Act in
// cmd/go/internal/test/test.go: cmd.Stdout = cmd.Stderr = &buf, then buf.Reset() on success.)
//
// Skip therefore writes its one line around that buffer: to the go command's own stderr, which the
// test binary reaches as /proc/PPID/fd/2 on Linux, or else to the terminal (/dev/tty). When the
// binary's stdout is not captured (go test with no package arguments, or the test binary run by
// hand) the line goes to stdout like any other output. With -v the skip messages show already and
// nothing more is written.
//
// Limits: the go command's stderr is used only when it is a pipe, terminal or socket; a regular
// file opened without O_APPEND (go test ./... 2>log) would have its start overwritten by a second
// writer with its own file offset, so then only /dev/tty is tried, and without a terminal the
// line is not shown. A cached result ("ok pkg (cached)") replays nothing.
package loudskip

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

var announced sync.Map // what was skipped → true, once per test process

// Skip skips t, saying what is skipped (for example "the PostgreSQL half") and why. The first time
// a test of this process skips `what`, it also prints one line where go test shows it, in the
// layout of go test's own, so a skipped half costs one line per package rather than one per test:
//
//	SKIP	github.com/expensebot/expensebot/store	the PostgreSQL half: PostgreSQL at … is unreachable: …
func Skip(t testing.TB, what, msg string) {
	t.Helper()
	if _, done := announced.LoadOrStore(what, true); !done && !testing.Verbose() {
		announce(fmt.Sprintf("SKIP\t%s\t%s: %s\n", pkg(), what, msg))
	}
	t.Skip(what + ": " + msg)
}

// pkg returns the import path of the package under test.
func pkg() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return strings.TrimSuffix(bi.Path, ".test")
	}
	return os.Args[0]
}

func announce(line string) {
	if stdoutShown() {
		fmt.Print(line)
		return
	}
	if f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/2", os.Getppid()), os.O_WRONLY|os.O_APPEND, 0); err == nil {
		st, err := f.Stat()
		if err == nil && !st.Mode().IsRegular() {
			f.WriteString(line)
			f.Close()
			return
		}
		f.Close()
	}
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		f.WriteString(line)
		f.Close()
	}
}

// stdoutShown reports whether what this process writes to stdout reaches the person running the
// tests as it is written: it does when stdout is the go command's own (go test without package
// arguments passes it through) or a terminal, and not when it is the go command's capture pipe.
func stdoutShown() bool {
	own, err := os.Stdout.Stat()
	if err != nil {
		return false
	}
	if own.Mode()&os.ModeCharDevice != 0 {
		return true
	}
	parent, err := os.Stat(fmt.Sprintf("/proc/%d/fd/1", os.Getppid()))
	return err == nil && os.SameFile(own, parent)
}
