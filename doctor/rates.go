package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/expensebot/expensebot/rates"
)

// Rates is where the exchange rates come from.
type Rates struct {
	File   string        // EXPENSEBOT_RATES_FILE
	URL    string        // EXPENSEBOT_RATES_URL
	MaxAge time.Duration // EXPENSEBOT_RATES_MAX_AGE
	Client *http.Client
	Now    func() time.Time
}

// checkRates reads the rates file and fetches the rates URL once, through the rates package's
// own parsers, and says how old their newest quote is.
func checkRates(ctx context.Context, s Setup) []Finding {
	r := s.Rates
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxAge <= 0 {
		r.MaxAge = rates.DefaultMaxAge
	}
	if r.File == "" && r.URL == "" {
		return []Finding{{Check: "exchange rates", Status: Info,
			Detail: "none configured: every expense in another currency needs two reviewers",
			Fix:    "set EXPENSEBOT_RATES_URL to https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml, or EXPENSEBOT_RATES_FILE to a file of your own rates"}}
	}
	var out []Finding
	if r.File != "" {
		f := Finding{Check: "exchange rates file " + r.File + " (EXPENSEBOT_RATES_FILE)", Status: Problem}
		t, err := rates.ReadFile(r.File)
		if err != nil {
			f.Detail = fmt.Sprintf("cannot be used: %v", err)
			f.Fix = "correct the file, or unset EXPENSEBOT_RATES_FILE; the bot does not start with a rates file it cannot read"
		} else {
			f = age(f, r, t, "update the file with current rates")
		}
		out = append(out, f)
	}
	if r.URL != "" && !s.Start {
		f := Finding{Check: "exchange rates from " + r.URL + " (EXPENSEBOT_RATES_URL)", Status: Warning}
		t, err := fetch(ctx, s, r)
		if err != nil {
			f.Detail = fmt.Sprintf("cannot be fetched: %v; the bot keeps using the last rates it fetched", err)
			f.Fix = "check the URL, this machine's network and its proxy settings (HTTPS_PROXY)"
		} else {
			f = age(f, r, t, "check that the URL serves the ECB's daily reference rates (eurofxref-daily.xml)")
		}
		out = append(out, f)
	}
	return out
}

// age judges a table by its newest quote: older than MaxAge, no rate of it is used.
func age(f Finding, r Rates, t *rates.Table, fix string) Finding {
	asOf := t.AsOf()
	days := int(r.Now().Sub(asOf).Hours() / 24)
	if r.Now().Sub(asOf) > r.MaxAge {
		f.Status = Warning
		f.Detail = fmt.Sprintf("%s: the newest rate is of %s, %d days old, older than EXPENSEBOT_RATES_MAX_AGE (%s): it is not used, and expenses in other currencies need two reviewers",
			t.Source, asOf.Format(time.DateOnly), days, r.MaxAge)
		f.Fix = fix
		return f
	}
	f.Status, f.Fix = OK, ""
	f.Detail = fmt.Sprintf("%s: %d currencies, as of %s", t.Source, t.Len(), asOf.Format(time.DateOnly))
	return f
}

func fetch(ctx context.Context, s Setup, r Rates) (*rates.Table, error) {
	hc := r.Client
	if hc == nil {
		hc = &http.Client{Timeout: s.Timeout}
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "expensebot")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return rates.ParseECB(doc)
}
