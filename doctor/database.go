package doctor

import (
	"context"
	"fmt"
	"strings"
)

// checkDatabase checks that the database answers and has every migration this version embeds,
// and none that it does not know.
func checkDatabase(ctx context.Context, s Setup) Finding {
	f := Finding{Check: "database (DATABASE_URL)", Status: Problem}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	st, err := s.Database(ctx)
	name := "the " + st.Dialect + " database"
	if st.Database != "" {
		name = st.Database
	}
	switch {
	case err != nil:
		f.Detail = fmt.Sprintf("cannot use it: %v", err)
		f.Fix = "check DATABASE_URL, and that the database server runs and accepts connections from this machine; a new database is set up by 'expensebot migrate'"
	case st.Empty:
		f.Detail = name + " has no expensebot tables"
		f.Fix = "check that DATABASE_URL names the bot's database; a new one is set up by 'expensebot migrate'"
	case len(st.Unknown) > 0:
		f.Detail = fmt.Sprintf("%s has migrations this version does not know (%s): a newer expensebot has upgraded it", name, versions(st.Unknown))
		f.Fix = "run the newer expensebot version, or restore the backup taken before the upgrade"
	case len(st.Pending) > 0:
		f.Detail = fmt.Sprintf("%s lacks %s: %s", name, plural(len(st.Pending), "migration"), strings.Join(st.Pending, ", "))
		f.Fix = "back up the database, then run 'expensebot migrate'"
	default:
		f.Status, f.Detail = OK, fmt.Sprintf("%s answers; all %d migrations are applied", name, st.Applied)
	}
	return f
}

func versions(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%04d", v)
	}
	return strings.Join(s, ", ")
}
