package rates

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"go.yaml.in/yaml/v3"
)

// ReadFile reads a rates file (EXPENSEBOT_RATES_FILE); see [ParseFile].
func ReadFile(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rates file: %w", err)
	}
	return ParseFile(filepath.Base(path), b)
}

// ParseFile reads a rates file named name: CSV when the name ends in .csv, YAML when it ends in
// .yaml or .yml. Every rate says how many units of one currency (to) one unit of another (from)
// is worth, as of a date. CSV, with this header:
//
//	from,to,rate,date
//	EUR,USD,1.0850,2026-11-24
//	JPY,USD,0.006677,2026-11-24
//
// YAML, one date for all:
//
//	to: USD
//	date: 2026-11-24
//	source: Treasury   # optional: how the rates are named on the approval card (default: the file's name)
//	rates:
//	  EUR: 1.0850
//	  JPY: 0.006677
//
// Every rate must be to the same currency, usually the home currency; a file to another one
// still serves when it also lists the home currency (the rate is then derived through it). Lines
// starting with # are comments. Unknown currencies, rates that are not plain decimals above zero
// (no exponents, signs or decimal commas), bad dates, duplicates and unknown keys are errors
// that name the line.
func ParseFile(name string, data []byte) (*Table, error) {
	var t *Table
	var err error
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		t, err = parseCSV(data)
	case ".yaml", ".yml":
		t, err = parseYAML(data)
	default:
		return nil, fmt.Errorf("rates file %s: the name must end in .csv, .yaml or .yml to say its format", name)
	}
	if err != nil {
		return nil, fmt.Errorf("rates file %s: %w", name, err)
	}
	if t.Source == "" {
		t.Source = name
	}
	return t, nil
}

func parseCSV(data []byte) (*Table, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = 4
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty; the first line must be the header from,to,rate,date")
	}
	if err != nil {
		return nil, err
	}
	for i, want := range []string{"from", "to", "rate", "date"} {
		if strings.ToLower(strings.TrimSpace(header[i])) != want {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("line %d: the header must be from,to,rate,date, not %s", line, strings.Join(header, ","))
		}
	}
	t := &Table{quotes: map[string]quote{}}
	baseLine := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		from, to := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if err := checkCode(to); err != nil {
			return nil, fmt.Errorf("line %d: to: %w", line, err)
		}
		if t.base == "" {
			t.base, baseLine = to, line
		} else if to != t.base {
			return nil, fmt.Errorf("line %d: the rate is to %s, but line %d's is to %s: every rate in a file must be to the same currency", line, to, baseLine, t.base)
		}
		date, err := parseDate(strings.TrimSpace(rec[3]))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := t.add(from, strings.TrimSpace(rec[2]), date, line); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if len(t.quotes) == 0 {
		return nil, fmt.Errorf("no rates after the header")
	}
	return t, nil
}

func parseYAML(data []byte) (*Table, error) {
	var f struct {
		To     string    `yaml:"to"`
		Date   string    `yaml:"date"`
		Source string    `yaml:"source"`
		Rates  yaml.Node `yaml:"rates"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the file is empty; it needs to, date and rates")
		}
		return nil, err // yaml's errors name the line
	}
	if f.To == "" {
		return nil, fmt.Errorf("to is missing: the currency every rate is to, e.g. to: USD")
	}
	if err := checkCode(f.To); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	date, err := parseDate(f.Date)
	if err != nil {
		return nil, err
	}
	if f.Rates.Kind != yaml.MappingNode {
		line := f.Rates.Line
		if line == 0 {
			return nil, fmt.Errorf("rates is missing: a map of currency to rate, e.g. EUR: 1.0850")
		}
		return nil, fmt.Errorf("line %d: rates must be a map of currency to rate, e.g. EUR: 1.0850", line)
	}
	t := &Table{Source: strings.TrimSpace(f.Source), base: f.To, quotes: map[string]quote{}}
	for i := 0; i+1 < len(f.Rates.Content); i += 2 {
		k, v := f.Rates.Content[i], f.Rates.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: the rate of %s must be a number such as 1.0850", v.Line, k.Value)
		}
		if err := t.add(k.Value, v.Value, date, k.Line); err != nil {
			return nil, fmt.Errorf("line %d: %w", k.Line, err)
		}
	}
	if len(t.quotes) == 0 {
		return nil, fmt.Errorf("line %d: rates lists no currency", f.Rates.Line)
	}
	return t, nil
}

// add records that one unit of currency is worth text units of t.base, as of date.
func (t *Table) add(currency, text string, date time.Time, line int) error {
	if err := checkCode(currency); err != nil {
		return err
	}
	if currency == t.base {
		return fmt.Errorf("%s is the currency the rates are to; it needs no rate", currency)
	}
	if q, dup := t.quotes[currency]; dup {
		return fmt.Errorf("%s has a rate already (line %d)", currency, q.line)
	}
	v, err := parseDecimal(text)
	if err != nil {
		return fmt.Errorf("%s: %w", currency, err)
	}
	t.quotes[currency] = quote{text: text, value: v, date: date, line: line}
	return nil
}

func checkCode(c string) error {
	if !expensebot.ValidCurrency(c) {
		return fmt.Errorf("%q is not a currency code I know (ISO 4217, upper case, e.g. EUR)", c)
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("date is missing: the day the rates are for, as YYYY-MM-DD")
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not a day written YYYY-MM-DD", s)
	}
	return d, nil
}
