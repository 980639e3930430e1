package rates

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var dec7 = time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)

// TestCheck guards the rates a finance team would not have meant (issue 21): a rate dated after
// today switched the staleness check off for good, and 1e-22 was accepted. Each case is a rates
// file, the one it replaces ("" for none), and the problem wanted ("" for none).
func TestCheck(t *testing.T) {
	const prev = "from,to,rate,date\nEUR,USD,1.0850,2026-12-04\nJPY,USD,0.006677,2026-12-04\n"
	tests := []struct {
		name, file, prev, want string
	}{
		{"today", "from,to,rate,date\nEUR,USD,1.0850,2026-12-07\n", "", ""},
		{"dated 2099", "from,to,rate,date\nEUR,USD,1.0850,2026-12-07\nJPY,USD,0.0066,2099-12-07\n", "",
			"line 3: JPY: the rate is dated 2099-12-07, after today (2026-12-07)"},
		{"tomorrow", "from,to,rate,date\nEUR,USD,1.0850,2026-12-08\n", "", "line 2: EUR: the rate is dated 2026-12-08"},
		{"1e-22", "from,to,rate,date\nEUR,USD,0.0000000000000000000001,2026-12-07\n", "",
			"line 2: EUR: the rate 0.0000000000000000000001 is outside any plausible range"},
		{"a billion and one", "from,to,rate,date\nEUR,USD,1000000001,2026-12-07\n", "", "outside any plausible range"},
		{"within the band", "from,to,rate,date\nEUR,USD,10.85,2026-12-07\nJPY,USD,0.0006677,2026-12-07\n", prev, ""},
		{"above the band", "from,to,rate,date\nEUR,USD,10.86,2026-12-07\n", prev,
			"line 2: EUR: the rate 10.86 is more than 10 times away from the previous one, 1.0850 of 2026-12-04"},
		{"below the band", "from,to,rate,date\nJPY,USD,0.0006676,2026-12-07\n", prev, "line 2: JPY: the rate 0.0006676 is more than 10 times away"},
		{"a currency new to the file", "from,to,rate,date\nGBP,USD,1.27,2026-12-07\n", prev, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := ParseFile("r.csv", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var p *Table
			if tt.prev != "" {
				if p, err = ParseFile("r.csv", []byte(tt.prev)); err != nil {
					t.Fatal(err)
				}
			}
			err = tab.Check(dec7, p, 0)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestBookRefusesAFileOutsideTheBand: a rates file edited to a rate a hundred times the one in
// use is refused at the refresh, naming the line, and the rates in use stay.
func TestBookRefusesAFileOutsideTheBand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rates.csv")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("from,to,rate,date\nEUR,USD,1.0850,2026-12-07\n")
	b, err := Open(context.Background(), Config{Home: "USD", File: path, Now: func() time.Time { return dec7 }}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	write("from,to,rate,date\nEUR,USD,108.50,2026-12-07\n")
	if err := b.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "line 2: EUR: the rate 108.50 is more than 10 times away") {
		t.Fatalf("refresh: %v", err)
	}
	if r, ok := b.file.Load().Rate("EUR", "USD"); !ok || r.Value != "1.0850" {
		t.Errorf("rate in use = %+v", r)
	}
	write("from,to,rate,date\nEUR,USD,1.0850,2099-12-07\n")
	if _, err := Open(context.Background(), Config{Home: "USD", File: path, Now: func() time.Time { return dec7 }}, nil, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil ||
		!strings.Contains(err.Error(), "after today") {
		t.Errorf("open with a rate dated 2099: %v", err)
	}
}
