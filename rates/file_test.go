package rates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFileFixtures(t *testing.T) {
	for _, name := range []string{"rates.csv", "rates.yaml"} {
		t.Run(name, func(t *testing.T) {
			tab, err := ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"EUR": "1.0850", "JPY": "0.0067", "KWD": "3.2567", "GBP": "1.2840"}
			for c, v := range want {
				r, ok := tab.Rate(c, "USD")
				if !ok || r.Value != v {
					t.Errorf("%s→USD = %+v, want %s", c, r, v)
				}
			}
			if tab.Len() != len(want) || tab.AsOf() != time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) {
				t.Errorf("len %d, as of %s", tab.Len(), tab.AsOf())
			}
		})
	}
	csv, _ := ReadFile("testdata/rates.csv")
	yml, _ := ReadFile("testdata/rates.yaml")
	if csv.Source != "rates.csv" || yml.Source != "Treasury" {
		t.Errorf("sources %q, %q: want the file's name unless the YAML names one", csv.Source, yml.Source)
	}
}

// TestParseFileErrors: a rates file its author got wrong must not start the bot, and the message
// names the line. Add a case as the file's text and a part of the message.
func TestParseFileErrors(t *testing.T) {
	const header = "from,to,rate,date\n"
	tests := []struct {
		name, text, want string
	}{
		{"x.txt", "", "must end in .csv, .yaml or .yml"},
		{"r.csv", "", "the file is empty"},
		{"r.csv", "currency,rate,date,x\nEUR,1.08,2026-11-24,x\n", "line 1: the header must be from,to,rate,date"},
		{"r.csv", header, "no rates after the header"},
		{"r.csv", header + "EUR,USD,1.0850\n", "record on line 2: wrong number of fields"},
		{"r.csv", header + "EUR,USD,1.0850,2026-11-24\nXYZ,USD,2,2026-11-24\n", `line 3: "XYZ" is not a currency code I know`},
		{"r.csv", header + "eur,USD,1.0850,2026-11-24\n", `line 2: "eur" is not a currency code`},
		{"r.csv", header + "EUR,USD,1,0850,2026-11-24\n", "record on line 2: wrong number of fields"},
		{"r.csv", header + "EUR,USD,\"1,0850\",2026-11-24\n", `line 2: EUR: rate "1,0850" is not a decimal number`},
		{"r.csv", header + "EUR,USD,1e3,2026-11-24\n", `line 2: EUR: rate "1e3" is not a decimal number`},
		{"r.csv", header + "EUR,USD,-1.08,2026-11-24\n", `line 2: EUR: rate "-1.08"`},
		{"r.csv", header + "EUR,USD,0,2026-11-24\n", "line 2: EUR: rate \"0\" must be more than zero"},
		{"r.csv", header + "EUR,USD,1.08,24/11/2026\n", `line 2: date "24/11/2026" is not a day written YYYY-MM-DD`},
		{"r.csv", header + "EUR,USD,1.08,\n", "line 2: date is missing"},
		{"r.csv", header + "# comment\nEUR,USD,1.08,2026-11-24\nGBP,EUR,0.85,2026-11-24\n", "line 4: the rate is to EUR, but line 3's is to USD"},
		{"r.csv", header + "EUR,USD,1.08,2026-11-24\nEUR,USD,1.09,2026-11-24\n", "line 3: EUR has a rate already (line 2)"},
		{"r.csv", header + "USD,USD,1,2026-11-24\n", "line 2: USD is the currency the rates are to"},
		{"r.yaml", "", "the file is empty"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates:\n  EUR: 1.0850\n  JPY: lots\n", `line 5: JPY: rate "lots" is not a decimal number`},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates:\n  EUR: 1.08\n  EUR: 1.09\n", "line 5: EUR has a rate already (line 4)"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates:\n  EUR: [1]\n", "line 4: the rate of EUR must be a number"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrate:\n  EUR: 1.08\n", "line 3: field rate not found"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\n", "rates is missing"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates: 1.08\n", "line 3: rates must be a map"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates: {}\n", "rates lists no currency"},
		{"r.yaml", "date: 2026-11-24\nrates:\n  EUR: 1.08\n", "to is missing"},
		{"r.yaml", "to: Dollar\ndate: 2026-11-24\nrates:\n  EUR: 1.08\n", `to: "Dollar" is not a currency code`},
		{"r.yaml", "to: USD\ndate: yesterday\nrates:\n  EUR: 1.08\n", `date "yesterday"`},
		{"r.yaml", "to: USD\nrates:\n  EUR: 1.08\n", "date is missing"},
		{"r.yaml", "to: USD\ndate: 2026-11-24\nrates:\n  EUR: 1.08\n  Euro: 1.08\n", `line 5: "Euro" is not a currency code`},
		{"r.yml", "to: [USD\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.want, func(t *testing.T) {
			_, err := ParseFile(tt.name, []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile(%q) error = %v, want one containing %q", tt.text, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "rates file "+tt.name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.csv"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzParseFile: no rates file makes the parser panic, and whatever it accepts is a positive
// rate for a known currency.
func FuzzParseFile(f *testing.F) {
	for _, name := range []string{"rates.csv", "rates.yaml"} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		f.Add(name, b)
	}
	f.Add("r.csv", []byte("from,to,rate,date\nEUR,USD,\"1.0\",2026-11-24\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		tab, err := ParseFile(name, data)
		if err != nil {
			return
		}
		for c, q := range tab.quotes {
			if q.value.Sign() <= 0 || q.text == "" || c == tab.base {
				t.Errorf("%s: quote %+v", c, q)
			}
		}
	})
}
