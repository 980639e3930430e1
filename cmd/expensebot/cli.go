package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

// This file is what every subcommand shares: its flags and --help, durations with days, and the
// version from the build.

// errHelp means help was asked for and printed: the command did nothing, successfully.
var errHelp = errors.New("help requested")

// parseFlags parses a subcommand's flags. -h, -help and --help print the usage line and the
// flags to stdout and return errHelp, before the command has touched anything.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, usageLine string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: expensebot %s\n", usageLine)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		fmt.Fprintln(stdout, "\nConfiguration comes from the environment: expensebot help lists it.")
		return errHelp
	}
	if err != nil {
		return usageError{fs.Name() + ": " + err.Error()}
	}
	return nil
}

// noArgs parses the flags of a command that takes no arguments.
func noArgs(name string, args []string, stdout io.Writer, usageLine string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if err := parseFlags(fs, args, stdout, usageLine); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments, got %q", name, strings.Join(fs.Args(), " "))}
	}
	return nil
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if slices.Contains([]string{"-h", "-help", "--help"}, a) {
			return true
		}
	}
	return false
}

// parseDuration reads a duration as Go does (90m, 1h30m, 10s), with d for a day of 24 hours as
// well: 14d, 1d12h. A bare 0 is zero. The App Home's settings read durations the same way.
func parseDuration(s string) (time.Duration, error) { return expensebot.ParseDuration(s) }

// Duration is a time.Duration that reads days too (14d, 1d12h) as well as Go's units, for the
// environment (envconfig's Decoder) and for flags (encoding.TextUnmarshaler, flag.TextVar).
type Duration time.Duration

func (d *Duration) Decode(s string) error { return d.UnmarshalText([]byte(s)) }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(formatDuration(time.Duration(d))), nil }

func (d Duration) String() string { return formatDuration(time.Duration(d)) }

// formatDuration writes whole days as d: 336h is 14d, 36h is 1d12h.
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d < day {
		return d.String()
	}
	days, rest := d/day, d%day
	if rest == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%s", days, strings.TrimSuffix(strings.TrimSuffix(rest.String(), "0s"), "0m"))
}

// buildInfo is what `expensebot version` prints: the module's version and the commit it was built
// from, read from the binary's build information.
type buildInfo struct {
	Version, Revision, Time string
	Modified                bool
	GoVersion               string
}

// Set at build time with -ldflags "-X main.version=v1.2.3 -X main.revision=… -X main.buildTime=…"
// where the build has no version control information (a container build without .git);
// otherwise they come from the module and the commit the binary was built from.
var version, revision, buildTime = "", "", ""

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: revision, Time: buildTime}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version, b.GoVersion = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if version != "" {
		b.Version = version
	}
	if b.Revision == "" {
		b.Revision = revision
	}
	if b.Time == "" {
		b.Time = buildTime
	}
	return b
}

// String is the version line: "expensebot v1.2.0 (commit 0123abcd…, 2026-12-07T22:00:00Z)".
func (b buildInfo) String() string {
	v := b.Version
	if v == "" || v == "(devel)" {
		v = "development build"
	}
	var parts []string
	if b.Revision != "" {
		c := "commit " + b.Revision
		if b.Modified {
			c += " with local changes"
		}
		parts = append(parts, c)
	} else {
		parts = append(parts, "commit unknown (built without version control information)")
	}
	if b.Time != "" {
		parts = append(parts, "committed "+b.Time)
	}
	if b.GoVersion != "" {
		parts = append(parts, b.GoVersion)
	}
	return fmt.Sprintf("expensebot %s (%s)", v, strings.Join(parts, ", "))
}
