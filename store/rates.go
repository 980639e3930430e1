package store

import (
	"context"
	"fmt"
)

// SaveRates keeps doc as the last rates document fetched from url, replacing the one before.
func (s *DB) SaveRates(ctx context.Context, url string, doc []byte) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO rate_documents (url, body, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at`), url, string(doc), s.now())
	if err != nil {
		return fmt.Errorf("store: save rates from %s: %w", url, err)
	}
	return nil
}

// Rates returns the last rates document saved for url, or nil and no error when there is none.
func (s *DB) Rates(ctx context.Context, url string) ([]byte, error) {
	var body string
	err := s.db.GetContext(ctx, &body, s.q("SELECT body FROM rate_documents WHERE url = ?"), url)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: rates from %s: %w", url, err)
	}
	return []byte(body), nil
}
