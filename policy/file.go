package policy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"go.yaml.in/yaml/v3"
)

// The keys the policy file knows, in the order the README documents them.
var (
	fileKeys       = []string{"categories", "accounting", "controls"}
	controlKeys    = []string{"duplicate_window", "duplicate_tolerance", "duplicate_tolerance_min", "rate_band"}
	categoryKeys   = []string{"auto_approve_max", "review_max", "receipt_required_over", "never_auto_approve", "routes", "monthly_max", "account"}
	routeKeys      = []string{"over", "channel", "reviewers"}
	accountingKeys = []string{"payable_account", "tax_type"}
)

// LoadFile reads the optional policy file (EXPENSEBOT_POLICY_FILE) into r.Categories and
// r.Accounting. Unknown
// keys, unknown categories and unreadable amounts are errors that name the place: a policy that
// does not say what its author meant must not start. The error lists every problem in the file,
// one line each, in file order, as "path:line: key.path: what is wrong". On error r is unchanged.
func (r *Rules) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy file: %w", err)
	}
	return r.parseFile(b, path)
}

// parseFile walks the YAML node tree instead of decoding into structs: the decoder stops at its
// first error and, for an unknown key, names a Go struct type instead of the key's place, while
// an operator fixing a policy wants every mistake at once, each with its line.
func (r *Rules) parseFile(b []byte, name string) error {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc)
	if errors.Is(err, io.EOF) { // no document at all: an empty policy
		r.Categories, r.Accounting, r.Controls = map[string]CategoryRule{}, Accounting{}, Controls{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("policy file:\n  %s", syntaxProblem(name, err))
	}
	p := fileParser{name: name, currency: r.Currency, merges: map[*yaml.Node][]entry{}}
	cats, acc, ctl := map[string]CategoryRule{}, Accounting{}, Controls{}
	if len(doc.Content) > 0 { // a document is never empty; this only keeps a surprise from panicking
		cats, acc, ctl = p.file(doc.Content[0])
	}
	if err := p.err(); err != nil {
		return err
	}
	r.Categories, r.Accounting, r.Controls = cats, acc, ctl
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem puts a YAML syntax error in the same "name:line: message" form as the others.
func syntaxProblem(name string, err error) string {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("%s:%s: not valid YAML: %s", name, m[1], m[2])
	}
	return fmt.Sprintf("%s: not valid YAML: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
}

// fileParser collects the problems of one policy file while building its rules.
type fileParser struct {
	name     string // the file, as the operator named it
	currency string // the home currency every amount must be in
	problems []problem
	merges   map[*yaml.Node][]entry // see merged
}

type problem struct {
	line, column int
	path, msg    string
}

// addf records a problem with the node n at the key path, e.g. categories.meals.review_max.
func (p *fileParser) addf(n *yaml.Node, path, format string, args ...any) {
	p.problems = append(p.problems, problem{n.Line, n.Column, path, fmt.Sprintf(format, args...)})
}

// err lists the problems in file order, each once: text reached twice through an alias or a
// merge key (<<) is one mistake, reported at the first key path that reached it.
func (p *fileParser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(p.problems, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.column, b.column))
	})
	type place struct {
		line, column int
		msg          string
	}
	reported := map[place]bool{}
	var lines []string
	for _, pr := range p.problems {
		if reported[place{pr.line, pr.column, pr.msg}] {
			continue
		}
		reported[place{pr.line, pr.column, pr.msg}] = true
		where := fmt.Sprintf("%s:%d: ", p.name, pr.line)
		if pr.path != "" {
			where += pr.path + ": "
		}
		lines = append(lines, where+pr.msg)
	}
	return fmt.Errorf("policy file:\n  %s", strings.Join(lines, "\n  "))
}

func (p *fileParser) file(root *yaml.Node) (map[string]CategoryRule, Accounting, Controls) {
	cats := map[string]CategoryRule{}
	var acc Accounting
	var ctl Controls
	for _, e := range p.mapping(root, "", fileKeys, "a mapping with the keys categories, accounting and controls") {
		switch e.key {
		case "accounting":
			acc = p.accounting(e.value, "accounting")
			continue
		case "controls":
			ctl = p.controls(e.value, "controls")
			continue
		}
		for _, c := range p.mapping(e.value, "categories", nil, "a mapping of categories to their rules") {
			rule := p.category(c.value, "categories."+c.key)
			if !slices.Contains(expensebot.Categories, c.key) {
				p.addf(c.keyNode, "categories", "unknown category %q (known: %s)", c.key, strings.Join(expensebot.Categories, ", "))
				continue
			}
			cats[c.key] = rule
		}
	}
	return cats, acc, ctl
}

// controls reads the finance controls' settings; a key left out keeps its default.
func (p *fileParser) controls(n *yaml.Node, path string) Controls {
	var c Controls
	var share *int64
	var floor *expensebot.Money
	for _, e := range p.mapping(n, path, controlKeys, "a mapping of settings such as duplicate_window") {
		at := path + "." + e.key
		switch e.key {
		case "duplicate_window":
			text := p.scalar(e.value, at, "a duration such as 7d or 168h")
			if text == "" {
				break
			}
			d, err := parseDays(text)
			if err != nil || d <= 0 {
				p.addf(e.value, at, "want a positive duration such as 7d or 168h, got %q", text)
				break
			}
			c.DuplicateWindow = d
		case "duplicate_tolerance":
			text := p.scalar(e.value, at, "a percentage such as 1%")
			if text == "" {
				break
			}
			bp, err := basisPoints(text)
			if err != nil {
				p.addf(e.value, at, "%v", err)
				break
			}
			share = &bp
		case "duplicate_tolerance_min":
			floor = p.amount(e.value, at)
		case "rate_band":
			text := p.scalar(e.value, at, "a whole number such as 10")
			if text == "" {
				break
			}
			v, err := strconv.ParseInt(text, 10, 64)
			if err != nil || v < 2 || v > 1000 {
				p.addf(e.value, at, "want a whole number from 2 to 1000 (a new rate may be that many times the previous one, or that share of it), got %q", text)
				break
			}
			c.RateBand = v
		}
	}
	if share != nil || floor != nil {
		t := c.Tolerance(p.currency)
		if share != nil {
			t.BasisPoints = *share
		}
		if floor != nil {
			t.Min = *floor
		}
		c.DuplicateTolerance = &t
	}
	return c
}

// parseDays reads a Go duration, or a whole number of days written as 7d.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v > 3650 {
			return 0, fmt.Errorf("not a number of days: %q", s)
		}
		return time.Duration(v) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// basisPoints reads a percentage with at most two decimals, such as 1%, 0.5 % or 2.25%, as
// hundredths of a percent.
func basisPoints(s string) (int64, error) {
	n, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	n = strings.TrimSpace(n)
	whole, frac, _ := strings.Cut(n, ".")
	bad := fmt.Errorf("want a percentage from 0%% to 100%% with at most two decimals, such as 1%%, got %q", s)
	if !ok || whole == "" || len(frac) > 2 {
		return 0, bad
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w*100+f > 10000 {
		return 0, bad
	}
	return w*100 + f, nil
}

func (p *fileParser) accounting(n *yaml.Node, path string) Accounting {
	var acc Accounting
	for _, e := range p.mapping(n, path, accountingKeys, "a mapping with payable_account and tax_type") {
		switch e.key {
		case "payable_account":
			acc.PayableAccount = p.scalar(e.value, path+"."+e.key, "an account name or code such as Employee reimbursements")
		case "tax_type":
			acc.TaxType = p.scalar(e.value, path+"."+e.key, "a tax rate name such as Tax Exempt")
		}
	}
	return acc
}

func (p *fileParser) category(n *yaml.Node, path string) CategoryRule {
	var rule CategoryRule
	for _, e := range p.mapping(n, path, categoryKeys, "a mapping of rules such as auto_approve_max") {
		at := path + "." + e.key
		switch e.key {
		case "auto_approve_max":
			rule.AutoApproveMax = p.amount(e.value, at)
		case "review_max":
			rule.ReviewMax = p.amount(e.value, at)
		case "receipt_required_over":
			rule.ReceiptRequiredOver = p.amount(e.value, at)
		case "never_auto_approve":
			v := deref(e.value)
			if isNull(v) {
				break
			}
			// Decode, not our own reading, so that yes/no/on/off mean what they always meant.
			if err := v.Decode(&rule.NeverAutoApprove); err != nil || v.Kind != yaml.ScalarNode {
				p.addf(v, at, "want true or false, got %s", describe(v))
			}
		case "routes":
			rule.Routes = p.routes(e.value, at)
		case "monthly_max":
			rule.MonthlyMax = p.amount(e.value, at)
		case "account":
			rule.Account = p.scalar(e.value, at, "a ledger account code or name such as 420")
		}
	}
	return rule
}

func (p *fileParser) routes(n *yaml.Node, path string) []RouteRule {
	var routes []RouteRule
	for i, item := range p.sequence(n, path, "a list of routes") {
		at := fmt.Sprintf("%s[%d]", path, i)
		rt := RouteRule{Over: expensebot.Money{Currency: p.currency}}
		named := false // a channel or reviewers given, readable or not: unreadable ones are reported already
		for _, e := range p.mapping(item, at, routeKeys, "a mapping with over and a channel or reviewers") {
			switch e.key {
			case "over":
				if m := p.amount(e.value, at+".over"); m != nil {
					rt.Over = *m
				}
			case "channel":
				before := len(p.problems)
				rt.Channel = p.scalar(e.value, at+".channel", "a channel id such as C0123")
				if rt.Channel != "" {
					if err := CheckChannel(rt.Channel); err != nil {
						p.addf(e.value, at+".channel", "%v", err)
					}
				}
				named = named || rt.Channel != "" || len(p.problems) > before
			case "reviewers":
				before := len(p.problems)
				for j, id := range p.sequence(e.value, at+".reviewers", "a list of user or group ids such as [U0123, S0456]") {
					if s := p.scalar(id, fmt.Sprintf("%s.reviewers[%d]", at, j), "a user or group id"); s != "" {
						if err := CheckReviewer(s); err != nil {
							p.addf(id, fmt.Sprintf("%s.reviewers[%d]", at, j), "%v", err)
						}
						rt.Reviewers = append(rt.Reviewers, s)
					}
				}
				named = named || len(rt.Reviewers) > 0 || len(p.problems) > before
			}
		}
		if !named {
			p.addf(item, at, "give a channel, reviewers or both")
		}
		routes = append(routes, rt)
	}
	return routes
}

// amount reads an amount in the home currency; nil when the key is empty, so that it inherits.
func (p *fileParser) amount(n *yaml.Node, path string) *expensebot.Money {
	text := p.scalar(n, path, "an amount such as 500")
	if text == "" {
		return nil
	}
	m, err := expensebot.ParseMoney(text, p.currency)
	if err == nil && m.Currency != p.currency {
		err = fmt.Errorf("amounts must be in the home currency %s", p.currency)
	}
	if err != nil {
		p.addf(n, path, "%v", err)
		return nil
	}
	return &m
}

// scalar returns the text of a scalar as written (500, 12.50 and "500" alike), "" for null.
func (p *fileParser) scalar(n *yaml.Node, path, want string) string {
	n = deref(n)
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.addf(n, path, "want %s, got %s", want, describe(n))
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// sequence returns the items of a list; nothing for null.
func (p *fileParser) sequence(n *yaml.Node, path, want string) []*yaml.Node {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.addf(n, path, "want %s, got %s", want, describe(n))
		return nil
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items
}

type entry struct {
	key            string
	keyNode, value *yaml.Node
}

// mapping returns the entries of a mapping in file order, with merge keys (<<: *base) expanded as
// YAML defines them: explicit keys win, then earlier merged mappings. It reports keys not in
// known (any key is accepted when known is nil) and keys given twice, and leaves both out. Null
// is an empty mapping.
func (p *fileParser) mapping(n *yaml.Node, path string, known []string, want string) []entry {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.addf(n, path, "want %s, got %s", want, describe(n))
		return nil
	}
	var entries []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
			continue // merged below, after the explicit keys
		case k.Kind != yaml.ScalarNode:
			p.addf(k, path, "want a plain key, got %s", describe(k))
		case seen[k.Value] != nil:
			p.addf(k, path, "key %q is already given on line %d", k.Value, seen[k.Value].Line)
		case known != nil && !slices.Contains(known, k.Value):
			seen[k.Value] = k
			p.addf(k, path, "unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
		default:
			seen[k.Value] = k
			entries = append(entries, entry{k.Value, k, v})
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind != yaml.ScalarNode || k.ShortTag() != "!!merge" {
			continue
		}
		for _, src := range p.mergeSources(n.Content[i+1], path) {
			for _, e := range p.merged(src, path) {
				switch {
				case seen[e.key] != nil: // explicit keys and earlier sources win
				case known != nil && !slices.Contains(known, e.key):
					seen[e.key] = e.keyNode
					p.addf(e.keyNode, path, "unknown key %q (known: %s)", e.key, strings.Join(known, ", "))
				default:
					seen[e.key] = e.keyNode
					entries = append(entries, e)
				}
			}
		}
	}
	return entries
}

// merged returns every entry of a mapping that a merge key names, computed once per mapping:
// merges may share and nest anchors, which would otherwise be walked again and again, and a
// mapping may even merge itself.
func (p *fileParser) merged(src *yaml.Node, path string) []entry {
	if e, ok := p.merges[src]; ok {
		return e // nil while src is being computed: merging itself adds nothing
	}
	p.merges[src] = nil
	e := p.mapping(src, path, nil, "")
	p.merges[src] = e
	return e
}

// mergeSources returns the mappings a merge key names: one, or a list of them, earlier first.
func (p *fileParser) mergeSources(n *yaml.Node, path string) []*yaml.Node {
	n = deref(n)
	var srcs []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			srcs = append(srcs, deref(c))
		}
	} else {
		srcs = []*yaml.Node{n}
	}
	for _, s := range srcs {
		if s.Kind != yaml.MappingNode {
			p.addf(s, path, "<< must merge a mapping or a list of mappings, got %s", describe(s))
			return nil
		}
	}
	return srcs
}

// deref follows an alias (*name) to its anchored node; an anchored node is never itself an alias.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names what was found where something else was wanted, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}
