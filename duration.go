package expensebot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationPart is one number and unit of a duration: Go's units and d for days.
var durationPart = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(d|h|m|s|ms|us|µs|ns)`)

// ParseDuration reads a duration as Go does (90m, 1h30m, 10s), with d for a day of 24 hours as
// well: 14d, 1d12h. A bare 0 is zero.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimPrefix(s, "-")
	if rest == "" {
		return 0, fmt.Errorf("not a duration such as 14d, 1d12h, 90m or 10s")
	}
	var total time.Duration
	for rest != "" {
		m := durationPart.FindStringSubmatch(rest)
		if m == nil {
			return 0, fmt.Errorf("%q is not a duration such as 14d, 1d12h, 90m or 10s", s)
		}
		rest = rest[len(m[0]):]
		if m[2] != "d" {
			d, err := time.ParseDuration(m[0])
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration such as 14d, 1d12h, 90m or 10s", s)
			}
			total += d
			continue
		}
		days, err := strconv.ParseFloat(m[1], 64)
		if err != nil || days > 100_000 {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		total += time.Duration(days * float64(24*time.Hour))
	}
	if neg {
		total = -total
	}
	return total, nil
}

// FormatDuration writes d as ParseDuration reads it, in whole days where it can: 14d, 1d12h, 90m,
// 0.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	out := ""
	if days > 0 {
		out = strconv.FormatInt(int64(days), 10) + "d"
	}
	if rest > 0 {
		s := rest.String() // 12h0m0s, 1h30m0s, 1m30s
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		out += s
	}
	return sign + out
}
