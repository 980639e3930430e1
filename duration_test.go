package expensebot_test

import (
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

func TestFormatDurationReadsBack(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{14 * 24 * time.Hour, "14d"},
		{36 * time.Hour, "1d12h"},
		{90 * time.Minute, "1h30m"},
		{8 * time.Hour, "8h"},
		{90 * time.Second, "1m30s"},
	} {
		got := expensebot.FormatDuration(tc.d)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if back, err := expensebot.ParseDuration(got); err != nil || back != tc.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tc.d)
		}
	}
}
