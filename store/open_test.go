package store_test

import (
	"errors"
	"io/fs"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// TestOpenExisting guards the read-only commands (export): they open with OpenExisting, which must
// refuse any database that Open would have had to create or migrate, say what to fix, and leave it
// as it found it. A new case is a database to set up and the words the error must contain.
func TestOpenExisting(t *testing.T) {
	wantErr := func(t *testing.T, err error, words ...string) {
		t.Helper()
		for _, w := range words {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("OpenExisting: err = %v, want it to say %q", err, w)
			}
		}
	}
	t.Run("missing SQLite file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "nope.db")
		_, err := store.OpenExisting(ctx, "sqlite://"+file)
		wantErr(t, err, "no SQLite database at "+file, "DATABASE_URL=sqlite://")
		if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenExisting created %s (stat: %v)", file, err)
		}
	})
	t.Run("DATABASE_URL unset", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		_, err := store.OpenExisting(ctx, "")
		wantErr(t, err, "no SQLite database at "+filepath.Join(dir, store.DefaultSQLiteFile), "DATABASE_URL is not set")
		if _, err := os.Stat(store.DefaultSQLiteFile); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenExisting created %s in the working directory (stat: %v)", store.DefaultSQLiteFile, err)
		}
	})
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			if engine == store.SQLite {
				// An empty file, as `touch` or an earlier mistake leaves it: SQLite reads it as a
				// database without tables.
				if err := os.WriteFile(strings.TrimPrefix(url, "sqlite://"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := store.OpenExisting(ctx, url)
			wantErr(t, err, "has no expensebot tables", "DATABASE_URL")

			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e, _, err := db.Submit(ctx, newExpense("k", "U1", 4250))
			if err != nil {
				t.Fatal(err)
			}
			existing, err := store.OpenExisting(ctx, url)
			if err != nil {
				t.Fatalf("OpenExisting on a migrated database: %v", err)
			}
			got, err := existing.Expense(ctx, e.ID)
			existing.Close()
			if err != nil || got.Amount.Minor != 4250 {
				t.Errorf("read through OpenExisting: %+v, %v", got, err)
			}

			if _, err := store.ExecForTest(db, "DELETE FROM schema_migrations WHERE version = 2"); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time shows the first applied nothing
				_, err = store.OpenExisting(ctx, url)
				wantErr(t, err, "lacks migration 0002_outbox.sql", "run 'expensebot migrate'")
			}
		})
	}
	t.Run("missing PostgreSQL database", func(t *testing.T) {
		storetest.URL(t, store.Postgres) // skips or fails as every PostgreSQL test does
		u, err := neturl.Parse(storetest.PostgresURL())
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/expensebot_no_such_database"
		_, err = store.OpenExisting(ctx, u.String())
		wantErr(t, err, `database "expensebot_no_such_database" does not exist`)
	})
}
