package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/expensebot/expensebot/store"
)

// This file is where the default SQLite database lives: a data directory, never the working
// directory (which is / under systemd and a throwaway layer in a container).

// dataDir is EXPENSEBOT_DATA_DIR, or else the directory systemd made for the service
// ($STATE_DIRECTORY, from StateDirectory=), or else the user's state directory:
// $XDG_STATE_HOME/expensebot, or ~/.local/state/expensebot.
func (c Config) dataDir() (string, error) {
	if c.DataDir != "" {
		return filepath.Abs(c.DataDir)
	}
	if sd := os.Getenv("STATE_DIRECTORY"); sd != "" {
		first, _, _ := strings.Cut(sd, ":") // systemd lists one per StateDirectory= entry
		return first, nil
	}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "expensebot"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no home directory to keep the database in: set EXPENSEBOT_DATA_DIR, or DATABASE_URL")
	}
	return filepath.Join(home, ".local", "state", "expensebot"), nil
}

// databaseURL is DATABASE_URL, or the SQLite file expensebot.db in the data directory when it is
// unset.
func (c Config) databaseURL() (string, error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, nil
	}
	dir, err := c.dataDir()
	if err != nil {
		return "", err
	}
	return "sqlite://" + filepath.Join(dir, store.DefaultSQLiteFile), nil
}

// sqliteFile is the file of an SQLite URL, or "" for another database.
func sqliteFile(url string) string {
	for _, p := range []string{"sqlite://", "file:"} {
		if f, ok := strings.CutPrefix(url, p); ok {
			f, _, _ = strings.Cut(f, "?")
			return f
		}
	}
	return ""
}

// makeDataDir creates the directory of an SQLite database, readable by its owner only, for the
// commands that create the database (run, migrate).
func makeDataDir(url string) error {
	f := sqliteFile(url)
	if f == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return fmt.Errorf("cannot create the database's directory (set EXPENSEBOT_DATA_DIR or DATABASE_URL): %w", err)
	}
	return nil
}

// describeDatabase names the database for the log: the SQLite file, or the PostgreSQL URL without
// its credentials.
func describeDatabase(url string) string {
	if f := sqliteFile(url); f != "" {
		if abs, err := filepath.Abs(f); err == nil {
			return abs
		}
		return f
	}
	return redactURL(url)
}
