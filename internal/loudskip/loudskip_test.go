package loudskip

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSkipReachesTheGoCommand guards the point of the package: a skip must show in a plain
// `go test ./...`, which hides everything a test binary writes when its package passes. This
// binary plays all three parts: TestHelperGoCommand stands in for the go command, running
// TestHelperSkipTwice with stdout and stderr captured into a buffer it never shows, as go test
// does; this test reads the stand-in's stderr and wants exactly one line there for two tests that
// skip the same half. A new case is another helper test and the lines it must leave.
func TestSkipReachesTheGoCommand(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd/2"); err != nil {
		t.Skip("the go command's stderr is reached through /proc, which this system lacks")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGoCommand$")
	cmd.Env = append(os.Environ(), "LOUDSKIP_HELPER=go")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("stand-in for the go command: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	want := "SKIP\tgithub.com/expensebot/expensebot/internal/loudskip\tthe test half: because\n"
	if got := stderr.String(); got != want {
		t.Errorf("the go command's stderr got %q, want %q", got, want)
	}
}

// TestHelperGoCommand runs the skipping tests as go test does in package-list mode.
func TestHelperGoCommand(t *testing.T) {
	if os.Getenv("LOUDSKIP_HELPER") != "go" {
		t.Skip("run by TestSkipReachesTheGoCommand")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSkipTwice$")
	cmd.Env = append(os.Environ(), "LOUDSKIP_HELPER=test")
	var captured bytes.Buffer
	cmd.Stdout, cmd.Stderr = &captured, &captured
	if err := cmd.Run(); err != nil {
		t.Fatalf("tests: %v\n%s", err, captured.Bytes())
	}
	if strings.Contains(captured.String(), "SKIP\t") {
		t.Errorf("the line went to the output go test hides:\n%s", captured.Bytes())
	}
}

func TestHelperSkipTwice(t *testing.T) {
	if os.Getenv("LOUDSKIP_HELPER") != "test" {
		t.Skip("run by TestSkipReachesTheGoCommand")
	}
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) { Skip(t, "the test half", "because") })
	}
}
