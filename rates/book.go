package rates

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/expensebot/expensebot"
)

// Defaults of [Config].
const (
	DefaultMaxAge  = 7 * 24 * time.Hour
	DefaultEvery   = 24 * time.Hour
	DefaultRetry   = time.Hour
	DefaultTimeout = 20 * time.Second
)

// maxDocument bounds a fetched rates document; the ECB's daily file is about 2 KB, its 90-day
// file about 100 KB.
const maxDocument = 4 << 20

// Store keeps the last rates document fetched from each URL, so that a restart without network
// still converts (*store.DB is one). Rates returns nil and no error when none is kept.
type Store interface {
	SaveRates(ctx context.Context, url string, doc []byte) error
	Rates(ctx context.Context, url string) ([]byte, error)
}

// Config says where a [Book] finds its rates and how old they may be.
type Config struct {
	Home    string        // the home currency
	File    string        // a rates file ([ReadFile]); "" for none
	URL     string        // where to fetch the ECB's reference rates ([ParseECB]); "" for none
	MaxAge  time.Duration // a rate quoted longer ago than this is not used (default DefaultMaxAge)
	Every   time.Duration // how often Run refreshes (default DefaultEvery)
	Retry   time.Duration // how soon Run tries again after a failed refresh (default DefaultRetry)
	Timeout time.Duration // limit for one fetch when Client is nil (default DefaultTimeout)
	Client  *http.Client  // nil: a client with Timeout
	Now     func() time.Time
	// Band is how many times larger or smaller than the previous rate of the same pair a new one
	// may be ([Table.Check]; default DefaultBand).
	Band int64
}

// Book holds the current rates and converts money to the home currency with them. The rates
// file is read by Open and again at every refresh; the URL is fetched by Run at start and then
// daily, and each document that parses is kept in the Store. Its methods are safe for
// concurrent use.
type Book struct {
	cfg   Config
	store Store // nil: no cache
	log   *slog.Logger

	file    atomic.Pointer[Table] // from cfg.File
	fetched atomic.Pointer[Table] // from cfg.URL, or the Store's copy of it
}

// Open reads the rates file and the cached copy of the URL's rates, and returns a Book with them.
// It does not fetch: [Book.Run] does, so that start-up never waits for the network. A rates file
// that cannot be read or parsed is an error (a rate its author did not mean must not be used); a
// cache that cannot be read is logged and skipped. st may be nil.
func Open(ctx context.Context, cfg Config, st Store, log *slog.Logger) (*Book, error) {
	if !expensebot.ValidCurrency(cfg.Home) {
		return nil, fmt.Errorf("rates: home currency %q is not one I know", cfg.Home)
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Book{cfg: cfg, store: st, log: log}
	if cfg.File != "" {
		t, err := b.readFile(nil)
		if err != nil {
			return nil, err
		}
		b.file.Store(t)
		b.logTable(ctx, "exchange rates read from file", t)
	}
	if cfg.URL != "" && st != nil {
		doc, err := st.Rates(ctx, cfg.URL)
		var t *Table
		if err == nil && doc != nil {
			t, err = ParseECB(doc)
		}
		if err == nil && t != nil {
			err = t.Check(cfg.Now(), nil, cfg.Band)
		}
		switch {
		case err != nil:
			log.WarnContext(ctx, "cached exchange rates unusable; waiting for a fetch", "err", err)
		case t != nil:
			b.fetched.Store(t)
			b.logTable(ctx, "cached exchange rates loaded", t)
		}
	}
	if cfg.File == "" && cfg.URL == "" {
		// Info, not a warning: without rates the bot is strict, not wrong (the sandbox runs so).
		log.InfoContext(ctx, "no exchange rates configured (EXPENSEBOT_RATES_FILE, EXPENSEBOT_RATES_URL): expenses in other currencies always need two reviewers")
	}
	return b, nil
}

// readFile reads the rates file and checks it against prev, the rates it replaces (nil at start).
func (b *Book) readFile(prev *Table) (*Table, error) {
	t, err := ReadFile(b.cfg.File)
	if err != nil {
		return nil, err
	}
	if err := t.Check(b.cfg.Now(), prev, b.cfg.Band); err != nil {
		return nil, fmt.Errorf("rates file %s: %w", b.cfg.File, err)
	}
	return t, nil
}

func (b *Book) logTable(ctx context.Context, msg string, t *Table) {
	b.log.InfoContext(ctx, msg, slog.String("source", t.Source), slog.String("date", t.AsOf().Format(time.DateOnly)),
		slog.Int("currencies", t.Len()))
}

// Convert expresses m in the home currency, rounded up to its minor unit, with the rate used.
// The rates file is asked first, then the fetched rates; a rate quoted more than MaxAge ago is
// not used. When no usable rate is known it reports false, and the Rate returned is the newest
// one that was too old, or has only From and To set when there was none.
func (b *Book) Convert(m expensebot.Money) (expensebot.Money, expensebot.Rate, bool) {
	home := b.cfg.Home
	if m.Currency == home {
		return m, expensebot.Rate{}, true
	}
	stale := expensebot.Rate{From: m.Currency, To: home}
	now := b.cfg.Now()
	for _, t := range []*Table{b.file.Load(), b.fetched.Load()} {
		if t == nil {
			continue
		}
		h, r, ok := t.Convert(m, home)
		switch {
		case !ok:
		case now.Sub(r.Date) <= b.cfg.MaxAge:
			return h, r, true
		case stale.Value == "" || r.Date.After(stale.Date):
			stale = r
		}
	}
	return expensebot.Money{Currency: home}, stale, false
}

// Run refreshes the rates now and then every Config.Every (after a failure, every Config.Retry)
// until ctx ends. A refresh that fails keeps the rates there were. It returns at once when
// neither a file nor a URL is configured.
func (b *Book) Run(ctx context.Context) {
	if b.cfg.File == "" && b.cfg.URL == "" {
		return
	}
	for {
		wait := b.cfg.Every
		if err := b.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.WarnContext(ctx, "exchange rates not refreshed; the last ones stay in use", "err", err, "retry_in", b.cfg.Retry.String())
			wait = b.cfg.Retry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Refresh reads the rates file again and fetches the URL once, keeping what it had for whichever
// fails. A fetched document that parses replaces the fetched rates and is saved in the Store.
func (b *Book) Refresh(ctx context.Context) error {
	var errs []error
	if b.cfg.File != "" {
		if t, err := b.readFile(b.file.Load()); err != nil {
			errs = append(errs, err)
		} else {
			b.file.Store(t)
		}
	}
	if b.cfg.URL != "" {
		errs = append(errs, b.fetch(ctx))
	}
	return errors.Join(errs...)
}

func (b *Book) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.URL, nil)
	if err != nil {
		return fmt.Errorf("rates: fetch: %w", err)
	}
	req.Header.Set("User-Agent", "expensebot")
	resp, err := b.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("rates: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("rates: fetch %s: %s", b.cfg.URL, resp.Status)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return fmt.Errorf("rates: fetch %s: %w", b.cfg.URL, err)
	}
	if len(doc) > maxDocument {
		return fmt.Errorf("rates: fetch %s: the document is larger than %d bytes", b.cfg.URL, maxDocument)
	}
	t, err := ParseECB(doc)
	if err == nil {
		err = t.Check(b.cfg.Now(), b.fetched.Load(), b.cfg.Band)
	}
	if err != nil {
		return fmt.Errorf("rates: fetch %s: %w", b.cfg.URL, err)
	}
	b.fetched.Store(t)
	b.logTable(ctx, "exchange rates fetched", t)
	if b.store != nil {
		// The rates are in use either way; a cache that cannot be written only costs a restart
		// without network its rates.
		// It is written even if ctx has just ended: the document was worth fetching.
		save, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := b.store.SaveRates(save, b.cfg.URL, doc); err != nil {
			b.log.WarnContext(ctx, "exchange rates not cached", "err", err)
		}
	}
	return nil
}
