package store_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// schema is what the parity test compares of a migrated database, each fact normalised to text
// that reads the same on both engines.
type schema struct {
	columns map[string]string // "table.column" → "type [not null] [default …]"
	checks  []string          // "table: columns … literals …", one per CHECK
	uniques []string          // "table(columns) primary|unique [partial]"
	indexes []string          // "name on table(columns)", the indexes migrations create by name
	refs    []string          // "table.column → table.column"
}

// knownDifferences are the columns whose types differ on purpose, and why. The test fails when
// one of them stops differing, so the list stays true.
var knownDifferences = map[string]string{
	"audit_events.detail": "PostgreSQL keeps the detail as jsonb; SQLite as text",
	"expenses.currency":   "character(3) on PostgreSQL; text with CHECK (length(currency) = 3) on SQLite",
}

// knownChecks are CHECKs only one engine has, for a difference in knownDifferences.
var knownChecks = []string{"expenses: columns currency literals 3"}

// TestSchemaParity migrates a PostgreSQL and an SQLite database and compares their tables,
// columns, normalised types, NOT NULL, defaults, CHECK and UNIQUE constraints, indexes and
// references. It fails when a migration changes one engine only: add the other engine's
// migration, or, for a difference that is meant, a line to knownDifferences saying why.
func TestSchemaParity(t *testing.T) {
	pg, lite := storetest.Open(t, store.Postgres), storetest.Open(t, store.SQLite)
	p, l := postgresSchema(t, pg), sqliteSchema(t, lite)
	t.Logf("compared %d columns, %d CHECKs, %d unique keys, %d indexes, %d references", len(p.columns), len(p.checks), len(p.uniques), len(p.indexes), len(p.refs))
	if len(p.columns) < 100 || len(p.checks) < 8 || len(p.uniques) < 10 || len(p.indexes) < 10 || len(p.refs) < 8 {
		t.Fatalf("the catalog queries found too little to compare: %+v", p)
	}
	for _, d := range schemaDiff(p, l) {
		t.Error(d)
	}
	for col, why := range knownDifferences {
		if p.columns[col] == l.columns[col] {
			t.Errorf("%s no longer differs (%s): remove it from knownDifferences", col, why)
		}
	}

	// The comparison sees a column added to one engine only.
	if _, err := store.ExecForTest(lite, "ALTER TABLE expenses ADD COLUMN only_here TEXT NOT NULL DEFAULT ''"); err != nil {
		t.Fatal(err)
	}
	if d := schemaDiff(p, sqliteSchema(t, lite)); len(d) != 1 || !strings.Contains(d[0], "expenses.only_here") {
		t.Errorf("a column on SQLite only gave the differences %q", d)
	}
}

// schemaDiff lists, one line each, what p (PostgreSQL) and l (SQLite) do not share.
func schemaDiff(p, l schema) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p.columns)) {
		lv, ok := l.columns[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("column %s is on PostgreSQL only", k))
		case knownDifferences[k] != "":
		case lv != p.columns[k]:
			out = append(out, fmt.Sprintf("column %s is %q on PostgreSQL, %q on SQLite", k, p.columns[k], lv))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l.columns)) {
		if _, ok := p.columns[k]; !ok {
			out = append(out, fmt.Sprintf("column %s is on SQLite only", k))
		}
	}
	lChecks := slices.DeleteFunc(slices.Clone(l.checks), func(c string) bool { return slices.Contains(knownChecks, c) })
	out = append(out, listDiff("CHECK", p.checks, lChecks)...)
	out = append(out, listDiff("unique key", p.uniques, l.uniques)...)
	out = append(out, listDiff("index", p.indexes, l.indexes)...)
	out = append(out, listDiff("reference", p.refs, l.refs)...)
	return out
}

// listDiff names the entries of the multisets p and l that the other lacks.
func listDiff(what string, p, l []string) []string {
	var out []string
	rest := slices.Clone(l)
	for _, x := range p {
		if i := slices.Index(rest, x); i >= 0 {
			rest = slices.Delete(rest, i, i+1)
		} else {
			out = append(out, fmt.Sprintf("%s %q is on PostgreSQL only", what, x))
		}
	}
	for _, x := range rest {
		out = append(out, fmt.Sprintf("%s %q is on SQLite only", what, x))
	}
	return out
}

func rows(t *testing.T, db *store.DB, q string, args ...any) [][]string {
	t.Helper()
	r, err := store.QueryRowsForTest(db, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// normType names a column type by what it holds, alike on both engines.
func normType(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	if i := strings.IndexByte(typ, '('); i >= 0 {
		typ = strings.TrimSpace(typ[:i])
	}
	switch typ {
	case "integer", "bigint", "smallint", "int", "bigserial", "serial":
		return "integer"
	case "text", "character varying", "varchar":
		return "text"
	case "timestamp with time zone", "timestamp without time zone", "timestamp", "timestamptz":
		return "timestamp"
	case "double precision", "real":
		return "real"
	}
	return typ // date, boolean; character and jsonb stay what they are
}

var pgCast = regexp.MustCompile(`::[a-z ]+(\[\])?`)

// normDefault reads a default alike on both engines: no casts, lower case; a sequence (a serial
// key on PostgreSQL) is no default, as SQLite's INTEGER PRIMARY KEY has none.
func normDefault(d string) string {
	d = strings.ToLower(strings.TrimSpace(pgCast.ReplaceAllString(d, "")))
	if strings.HasPrefix(d, "nextval(") {
		return ""
	}
	return d
}

func columnFact(typ string, notNull bool, dflt string) string {
	s := normType(typ)
	if notNull {
		s += " not null"
	}
	if d := normDefault(dflt); d != "" {
		s += " default " + d
	}
	return s
}

var (
	sqlString  = regexp.MustCompile(`'(?:[^']|'')*'`)
	sqlIdent   = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	sqlNumber  = regexp.MustCompile(`\b[0-9]+(?:\.[0-9]+)?\b`)
	checkStart = regexp.MustCompile(`(?i)\bCHECK\s*\(`)
)

// checkFact reads a CHECK expression as the columns of table it names, its string literals and
// its numbers: enough to tell two engines' spellings of one constraint (IN (…) or = ANY (ARRAY[…]),
// with casts or without) apart from two different constraints.
func checkFact(table, expr string, columns map[string]string) string {
	lits := sqlString.FindAllString(expr, -1)
	rest := sqlString.ReplaceAllString(expr, " ")
	rest = pgCast.ReplaceAllString(rest, " ")
	var cols []string
	for _, id := range sqlIdent.FindAllString(rest, -1) {
		if _, ok := columns[table+"."+strings.ToLower(id)]; ok && !slices.Contains(cols, strings.ToLower(id)) {
			cols = append(cols, strings.ToLower(id))
		}
	}
	nums := sqlNumber.FindAllString(rest, -1)
	slices.Sort(cols)
	slices.Sort(lits)
	lits = slices.Compact(lits)
	slices.Sort(nums)
	nums = slices.Compact(nums)
	s := table + ": columns " + strings.Join(cols, ",")
	if len(lits) > 0 {
		s += " literals " + strings.Join(lits, ",")
	}
	if len(nums) > 0 {
		s += " literals " + strings.Join(nums, ",")
	}
	return s
}

func postgresSchema(t *testing.T, db *store.DB) schema {
	s := schema{columns: map[string]string{}}
	for _, r := range rows(t, db, `SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
		FROM information_schema.columns WHERE table_schema = current_schema()`) {
		s.columns[r[0]+"."+r[1]] = columnFact(r[2], r[3] == "NO", r[4])
	}
	for _, r := range rows(t, db, `SELECT c.relname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.contype = 'c' AND c.relnamespace = current_schema()::regnamespace`) {
		s.checks = append(s.checks, checkFact(r[0], strings.TrimPrefix(r[1], "CHECK "), s.columns))
	}
	for _, r := range rows(t, db, `SELECT c.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL,
			EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid),
			array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(n, o)
				JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n ORDER BY k.o), ',')
		FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
		WHERE c.relnamespace = current_schema()::regnamespace`) {
		table, name, unique, primary, partial, constraint, cols := r[0], r[1], r[2] == "true", r[3] == "true", r[4] == "true", r[5] == "true", r[6]
		s.addIndex(table, name, cols, unique, primary, partial, !constraint)
	}
	for _, r := range rows(t, db, `SELECT c.relname, a.attname, p.relname, pa.attname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
		JOIN pg_attribute pa ON pa.attrelid = p.oid AND pa.attnum = k.confkey[1]
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace`) {
		s.refs = append(s.refs, r[0]+"."+r[1]+" → "+r[2]+"."+r[3])
	}
	return s
}

func (s *schema) addIndex(table, name, cols string, unique, primary, partial, named bool) {
	key := table + "(" + cols + ")"
	switch {
	case primary:
		s.uniques = append(s.uniques, key+" primary")
	case unique && partial:
		s.uniques = append(s.uniques, key+" unique partial")
	case unique:
		s.uniques = append(s.uniques, key+" unique")
	}
	if named && !primary {
		s.indexes = append(s.indexes, name+" on "+key)
	}
}

func sqliteSchema(t *testing.T, db *store.DB) schema {
	s := schema{columns: map[string]string{}}
	for _, tr := range rows(t, db, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`) {
		table, def := tr[0], tr[1]
		var pk []string
		for _, r := range rows(t, db, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY pk`, table) {
			isPK := r[4] != "0"
			if isPK {
				pk = append(pk, r[0])
			}
			s.columns[table+"."+r[0]] = columnFact(r[1], r[2] == "1" || isPK, r[3])
		}
		for _, loc := range checkStart.FindAllStringIndex(sqlString.ReplaceAllStringFunc(def, func(lit string) string { return strings.Repeat(" ", len(lit)) }), -1) {
			depth, end := 0, loc[1]-1
			for i := loc[1] - 1; i < len(def); i++ {
				if def[i] == '(' {
					depth++
				} else if def[i] == ')' {
					if depth--; depth == 0 {
						end = i
						break
					}
				}
			}
			s.checks = append(s.checks, checkFact(table, def[loc[1]-1:end+1], s.columns))
		}
		hasPKIndex := false
		for _, r := range rows(t, db, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, table) {
			var cols []string
			for _, c := range rows(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, r[0]) {
				cols = append(cols, c[0])
			}
			primary := r[2] == "pk"
			hasPKIndex = hasPKIndex || primary
			s.addIndex(table, r[0], strings.Join(cols, ","), r[1] == "1", primary, r[3] == "1", r[2] == "c")
		}
		if !hasPKIndex && len(pk) > 0 { // INTEGER PRIMARY KEY is the rowid: no index of its own
			s.uniques = append(s.uniques, table+"("+strings.Join(pk, ",")+") primary")
		}
		for _, r := range rows(t, db, `SELECT "from", "table", coalesce("to", '') FROM pragma_foreign_key_list(?)`, table) {
			s.refs = append(s.refs, table+"."+r[0]+" → "+r[1]+"."+r[2])
		}
	}
	return s
}
