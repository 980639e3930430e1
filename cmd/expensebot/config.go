package main

import (
	"cmp"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/policy"
	"github.com/kelseyhightower/envconfig"
)

// Config is the configuration the program runs with, checked and typed. loadConfig builds it from
// the environment; tests write it as a literal.
type Config struct {
	SlackAppToken       string
	SlackBotToken       string
	SlackAPIURL         string
	DatabaseURL         string
	OpenAIAPIKey        string
	OpenAIBaseURL       string
	OpenAIModel         string
	OpenAIVisionModel   string // reads receipts; OpenAIModel unless set
	AITimeout           time.Duration
	AIMaxInFlight       int           // ceiling of calls to the model provider at once (package pace learns how many below it)
	AIRPM, AITPM        int           // requests and tokens a minute, for a provider that sends no rate-limit headers; 0: none
	AIDeadline          time.Duration // how long after submission an expense may wait for the provider's pace
	ApprovalsChannel    string
	Reviewers           []string
	Currency            string
	AutoApproveMax      expensebot.Money // in Currency, as are the two amounts below
	ReviewMax           expensebot.Money
	MinConfidence       float64
	ReceiptRequiredOver expensebot.Money
	PolicyFile          string
	RemindAfter         time.Duration // 0: no reminders
	EscalateAfter       time.Duration // 0: no escalation
	EscalateTo          []string
	ExpireAfter         time.Duration // 0: never
	DraftTTL            time.Duration // how long a draft of a receipt posted in the DM waits
	RatesFile           string
	RatesURL            string
	RatesMaxAge         time.Duration
	SplitWindow         time.Duration
	MaxAge              time.Duration
	SpotCheckRate       float64
	Finance             []string
	Admins              []string // who may change the rules in the App Home
	Workers             int
	DrainTimeout        time.Duration // how long a stop may take in all, whatever is in flight
	LogFormat           string
	HTTPAddr            string       // approval API and health; "" for none
	MetricsAddr         string       // health and metrics on a listener of their own; "" for none
	DataDir             string       // where the default SQLite database lives
	Migrate             bool         // run applies pending migrations; false: it refuses a database that is behind
	APIClients          []api.Client // who may call it
	WebhookSecret       string       // signs its callbacks; "" for none
	CallbackAllow       []string     // hosts its callbacks may reach over http:// or at private addresses
}

// environment is Config as an operator writes it. envconfig fills it and prints the help table
// from its tags. The variable names are the product's public interface; the README documents each
// one. The order of the fields is the order of the help table and of error messages.
//
// It is a type of its own rather than Config's tags because every field is a decoder that keeps
// its problem (see [field]), while the program wants plain durations, numbers and amounts.
type environment struct {
	SlackAppToken       secret   `envconfig:"SLACK_APP_TOKEN" desc:"app-level token (xapp-…, scope connections:write) for Socket Mode"`
	SlackBotToken       secret   `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-…) for the Web API"`
	SlackAPIURL         text     `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL, ending in /"`
	DatabaseURL         secret   `envconfig:"DATABASE_URL" desc:"postgres://… for PostgreSQL; unset for the SQLite file expensebot.db in EXPENSEBOT_DATA_DIR; sqlite://PATH or file:PATH"`
	DataDir             text     `envconfig:"EXPENSEBOT_DATA_DIR" desc:"directory of the default SQLite database; unset: $STATE_DIRECTORY under systemd, else $XDG_STATE_HOME/expensebot or ~/.local/state/expensebot"`
	Migrate             boolean  `envconfig:"EXPENSEBOT_MIGRATE" default:"true" desc:"true: run applies pending database migrations at start; false: run refuses a database that is behind (apply them with expensebot migrate)"`
	OpenAIAPIKey        secret   `envconfig:"OPENAI_API_KEY" desc:"API key for the AI check; unset turns the AI check off"`
	OpenAIBaseURL       text     `envconfig:"OPENAI_BASE_URL" desc:"OpenAI-compatible API base URL (Ollama, vLLM, Azure); unset for OpenAI"`
	OpenAIModel         text     `envconfig:"OPENAI_MODEL" default:"gpt-4o-mini" desc:"model for the AI check"`
	OpenAIVisionModel   text     `envconfig:"OPENAI_VISION_MODEL" desc:"model that reads receipts (images), where the provider's text model cannot; unset: OPENAI_MODEL"`
	AITimeout           duration `envconfig:"EXPENSEBOT_AI_TIMEOUT" default:"10s" desc:"time limit for one call to the AI provider (each try; a receipt read gets three times it); waiting for the provider's pace is bounded by EXPENSEBOT_AI_DEADLINE"`
	AIMaxInFlight       count    `envconfig:"EXPENSEBOT_AI_MAX_IN_FLIGHT" default:"256" desc:"most calls to the AI provider at once; below it, how many is learned from the provider's answers"`
	AIRPM               count    `envconfig:"EXPENSEBOT_AI_RPM" default:"0" desc:"requests a minute the AI provider allows, for one that sends no x-ratelimit headers (Ollama, vLLM, some gateways); 0: none"`
	AITPM               count    `envconfig:"EXPENSEBOT_AI_TPM" default:"0" desc:"tokens a minute the AI provider allows, for one that sends no x-ratelimit headers; 0: none"`
	AIDeadline          duration `envconfig:"EXPENSEBOT_AI_DEADLINE" default:"10m" desc:"how long after submission an expense may wait for a rate-limited AI provider before a person gets it"`
	ApprovalsChannel    text     `envconfig:"EXPENSEBOT_APPROVALS_CHANNEL" desc:"channel id where reviewers see expenses to decide (C…)"`
	Reviewers           idList   `envconfig:"EXPENSEBOT_REVIEWERS" desc:"comma-separated reviewer user ids (U…) and/or user-group ids (S…)"`
	Currency            text     `envconfig:"EXPENSEBOT_CURRENCY" default:"USD" desc:"home currency (ISO 4217); every limit is in it, other currencies are converted"`
	AutoApproveMax      amount   `envconfig:"EXPENSEBOT_AUTO_APPROVE_MAX" default:"1000" desc:"auto-approval only below this amount"`
	ReviewMax           amount   `envconfig:"EXPENSEBOT_REVIEW_MAX" default:"10000" desc:"above this amount two different reviewers must approve"`
	MinConfidence       number   `envconfig:"EXPENSEBOT_MIN_CONFIDENCE" default:"0.95" desc:"least AI confidence (0..1) for auto-approval"`
	ReceiptRequiredOver amount   `envconfig:"EXPENSEBOT_RECEIPT_REQUIRED_OVER" default:"75" desc:"above this amount an expense without receipt goes to a reviewer"`
	PolicyFile          text     `envconfig:"EXPENSEBOT_POLICY_FILE" desc:"optional YAML file with per-category rules"`
	RemindAfter         duration `envconfig:"EXPENSEBOT_REMIND_AFTER" default:"1d" desc:"remind the reviewers of an expense waiting this long, and again every this long; 0 turns reminders off"`
	EscalateAfter       duration `envconfig:"EXPENSEBOT_ESCALATE_AFTER" default:"0" desc:"an expense waiting this long may also be decided by EXPENSEBOT_ESCALATE_TO; 0 turns escalation off"`
	EscalateTo          idList   `envconfig:"EXPENSEBOT_ESCALATE_TO" desc:"comma-separated user ids (U…) and/or user-group ids (S…) who may decide an escalated expense"`
	ExpireAfter         duration `envconfig:"EXPENSEBOT_EXPIRE_AFTER" default:"14d" desc:"an expense waiting this long expires (an outcome of its own, not a rejection); 0: never"`
	DraftTTL            duration `envconfig:"EXPENSEBOT_DRAFT_TTL" default:"168h" desc:"a draft read off a receipt posted in the bot's DM is removed when nobody submitted it for this long (e.g. 7d)"`
	RatesFile           text     `envconfig:"EXPENSEBOT_RATES_FILE" desc:"optional CSV or YAML file of exchange rates to the home currency"`
	RatesURL            text     `envconfig:"EXPENSEBOT_RATES_URL" desc:"optional URL of the ECB's reference rates (eurofxref-daily.xml), fetched at start and daily"`
	RatesMaxAge         duration `envconfig:"EXPENSEBOT_RATES_MAX_AGE" default:"7d" desc:"an exchange rate quoted longer ago than this is not used"`
	SplitWindow         duration `envconfig:"EXPENSEBOT_SPLIT_WINDOW" default:"3d" desc:"one person's expenses, in any category, incurred this close together count as one purchase against the auto-approve and two-approver limits; 0 turns the check off"`
	MaxAge              duration `envconfig:"EXPENSEBOT_MAX_AGE" default:"90d" desc:"an expense submitted longer than this after it was incurred goes to a person; 0 turns the check off"`
	SpotCheckRate       number   `envconfig:"EXPENSEBOT_SPOT_CHECK_RATE" default:"0.05" desc:"share (0..1) of automatic approvals drawn at random for a reviewer to spot-check; 0 turns spot checks off"`
	Finance             idList   `envconfig:"EXPENSEBOT_FINANCE" desc:"user ids (U…) and/or user-group ids (S…) told in the thread when a spot check is flagged or settled; they may clear it or say it must not be paid"`
	Admins              idList   `envconfig:"EXPENSEBOT_ADMINS" desc:"user ids (U…) and/or user-group ids (S…) who may change reviewers, channel, limits, accounts and timers in their App Home; unset: nobody (the environment alone)"`
	Workers             count    `envconfig:"EXPENSEBOT_WORKERS" default:"8" desc:"how many Slack requests are worked on at once; with a model, assessments at once follow the provider (EXPENSEBOT_AI_MAX_IN_FLIGHT)"`
	DrainTimeout        duration `envconfig:"EXPENSEBOT_DRAIN_TIMEOUT" default:"25s" desc:"how long a stop (SIGTERM) may take: acks of saved submissions go out, work in flight finishes or is handed back; the process exits within it whatever is in flight"`
	LogFormat           text     `envconfig:"EXPENSEBOT_LOG_FORMAT" default:"text" desc:"text or json"`
	HTTPAddr            text     `envconfig:"EXPENSEBOT_HTTP_ADDR" desc:"address for /healthz, /readyz, /metrics and, with EXPENSEBOT_API_TOKENS, the approval API (then /metrics needs a token), e.g. 127.0.0.1:8080; unset: no listener"`
	MetricsAddr         text     `envconfig:"EXPENSEBOT_METRICS_ADDR" desc:"address of a listener of their own for /healthz, /readyz and /metrics (no token), e.g. 127.0.0.1:9090; unset: none"`
	APITokens           clients  `envconfig:"EXPENSEBOT_API_TOKENS" desc:"approval API clients as name=token, comma-separated; name*=token may read every expense; name:roles=token holds exactly the roles joined with + (submit, read, read-all, pay)"`
	WebhookSecret       secret   `envconfig:"EXPENSEBOT_WEBHOOK_SECRET" desc:"key that signs the approval API's callbacks (HMAC-SHA256); unset: no callbacks"`
	CallbackAllow       hosts    `envconfig:"EXPENSEBOT_CALLBACK_ALLOW" desc:"hosts callbacks may reach over http:// or at private addresses, comma-separated"`
}

// loadConfig reads the process environment and returns every problem in it at once, one line per
// variable in the order of the help table, so that an operator fixes them all in one go.
func loadConfig() (Config, error) {
	var env environment
	// The decoders never fail, so an error here is a broken environment type, not a bad value,
	// and cannot carry a secret.
	if err := envconfig.Process("", &env); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	// envconfig applies a default only to an unset variable; a set but empty one (a template left
	// unfilled, KEY= in a compose file) gets the default too, as a person expects.
	for v := range env.variables() {
		if raw, _, _ := v.state(); raw == "" && v.def != "" {
			v.reset()
			v.Decode(v.def)
		}
	}
	env.validate()
	var problems []string
	for v := range env.variables() {
		if p := v.problem(); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return env.config(), nil
}

// validate checks what no single decoder can: ranges, and the amounts, which are in the currency
// that another variable names. It marks each problem on the variable to blame.
func (e *environment) validate() {
	e.Currency.raw = strings.ToUpper(e.Currency.raw)
	home := e.Currency.raw
	if !expensebot.ValidCurrency(home) {
		e.Currency.fail("not an ISO 4217 currency code I know (e.g. USD, EUR)")
		home = ""
	}
	e.AutoApproveMax.resolve(home)
	e.ReviewMax.resolve(home)
	e.ReceiptRequiredOver.resolve(home)
	if e.AutoApproveMax.err == nil && e.ReviewMax.err == nil && e.ReviewMax.m.Less(e.AutoApproveMax.m) {
		e.ReviewMax.fail("must not be below EXPENSEBOT_AUTO_APPROVE_MAX (%s)", e.AutoApproveMax.m)
	}
	// Written so that NaN, which ParseFloat accepts, fails too.
	if c := e.MinConfidence.v; !(c >= 0 && c <= 1) {
		e.MinConfidence.fail("must be between 0 and 1")
	}
	if e.AITimeout.d <= 0 {
		e.AITimeout.fail("must be positive")
	}
	if e.DrainTimeout.d < 5*time.Second {
		e.DrainTimeout.fail("must be at least 5s: acks of saved submissions need up to 3s to go out")
	}
	e.validatePace()
	if u := e.RatesURL.raw; u != "" && !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		e.RatesURL.fail("must be an http(s) URL")
	}
	if e.MaxAge.d < 0 {
		e.MaxAge.fail("must not be negative; 0 turns the check off")
	}
	if e.SplitWindow.d < 0 {
		e.SplitWindow.fail("must not be negative; 0 turns the check off")
	}
	if r := e.SpotCheckRate.v; !(r >= 0 && r <= 1) {
		e.SpotCheckRate.fail("must be between 0 and 1, e.g. 0.05 for one in twenty")
	}
	for _, id := range e.Finance.ids {
		if err := policy.CheckReviewer(id); err != nil {
			e.Finance.fail("%v", err)
			break
		}
	}
	for _, id := range e.Admins.ids {
		if err := policy.CheckReviewer(id); err != nil {
			e.Admins.fail("%v", err)
			break
		}
	}
	e.validateTimers()
	if e.RatesMaxAge.d <= 0 {
		e.RatesMaxAge.fail("must be positive, e.g. 7d for a week")
	}
	if n := e.Workers.n; n < 1 || n > 256 {
		e.Workers.fail("must be between 1 and 256")
	}
	if ch := e.ApprovalsChannel.raw; ch != "" {
		if err := policy.CheckChannel(ch); err != nil {
			e.ApprovalsChannel.fail("%v", err)
		}
	}
	for _, id := range e.Reviewers.ids {
		if err := policy.CheckReviewer(id); err != nil {
			e.Reviewers.fail("%v", err)
			break
		}
	}
	if f := e.LogFormat.raw; f != "text" && f != "json" {
		e.LogFormat.fail("must be text or json")
	}
	e.validateAPI()
	if u := e.SlackAPIURL.raw; !strings.HasSuffix(u, "/") || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		e.SlackAPIURL.fail("must be an http(s) URL ending in /")
	}
}

// validatePace checks the pace of calls to the model provider.
func (e *environment) validatePace() {
	if n := e.AIMaxInFlight.n; n < 1 || n > 4096 {
		e.AIMaxInFlight.fail("must be between 1 and 4096")
	}
	for _, c := range []*count{&e.AIRPM, &e.AITPM} {
		if c.n < 0 {
			c.fail("must not be negative (0: none)")
		}
	}
	if e.AIDeadline.d <= 0 {
		e.AIDeadline.fail("must be positive, e.g. 10m")
	}
}

// validateTimers checks the reminder, escalation and expiry settings against each other.
func (e *environment) validateTimers() {
	for _, d := range []*duration{&e.RemindAfter, &e.EscalateAfter, &e.ExpireAfter} {
		if d.d < 0 {
			d.fail("must not be negative (0 turns it off)")
		}
	}
	if e.DraftTTL.d < time.Minute {
		e.DraftTTL.fail("must be at least 1m, e.g. 7d")
	}
	if r := e.RemindAfter.d; r > 0 && r < time.Minute {
		e.RemindAfter.fail("must be at least 1m, or 0 for no reminders")
	}
	for _, id := range e.EscalateTo.ids {
		if err := policy.CheckReviewer(id); err != nil {
			e.EscalateTo.fail("%v", err)
			break
		}
	}
	esc, exp := e.EscalateAfter.d, e.ExpireAfter.d
	if esc > 0 && len(e.EscalateTo.ids) == 0 {
		e.EscalateTo.fail("must name who may decide an escalated expense, since EXPENSEBOT_ESCALATE_AFTER is %s", e.EscalateAfter.raw)
	}
	if esc > 0 && exp > 0 && esc >= exp {
		e.EscalateAfter.fail("must be shorter than EXPENSEBOT_EXPIRE_AFTER (%s), or an expense expires before it is escalated", e.ExpireAfter.raw)
	}
}

func (e *environment) config() Config {
	return Config{
		SlackAppToken:       e.SlackAppToken.raw,
		SlackBotToken:       e.SlackBotToken.raw,
		SlackAPIURL:         e.SlackAPIURL.raw,
		DatabaseURL:         e.DatabaseURL.raw,
		OpenAIAPIKey:        e.OpenAIAPIKey.raw,
		OpenAIBaseURL:       e.OpenAIBaseURL.raw,
		OpenAIModel:         e.OpenAIModel.raw,
		OpenAIVisionModel:   cmp.Or(e.OpenAIVisionModel.raw, e.OpenAIModel.raw),
		AITimeout:           e.AITimeout.d,
		AIMaxInFlight:       e.AIMaxInFlight.n,
		AIRPM:               e.AIRPM.n,
		AITPM:               e.AITPM.n,
		AIDeadline:          e.AIDeadline.d,
		ApprovalsChannel:    e.ApprovalsChannel.raw,
		Reviewers:           e.Reviewers.ids,
		Currency:            e.Currency.raw,
		AutoApproveMax:      e.AutoApproveMax.m,
		ReviewMax:           e.ReviewMax.m,
		MinConfidence:       e.MinConfidence.v,
		ReceiptRequiredOver: e.ReceiptRequiredOver.m,
		PolicyFile:          e.PolicyFile.raw,
		RemindAfter:         e.RemindAfter.d,
		EscalateAfter:       e.EscalateAfter.d,
		EscalateTo:          e.EscalateTo.ids,
		ExpireAfter:         e.ExpireAfter.d,
		DraftTTL:            e.DraftTTL.d,
		RatesFile:           e.RatesFile.raw,
		RatesURL:            e.RatesURL.raw,
		RatesMaxAge:         e.RatesMaxAge.d,
		SplitWindow:         e.SplitWindow.d,
		MaxAge:              e.MaxAge.d,
		SpotCheckRate:       e.SpotCheckRate.v,
		Finance:             e.Finance.ids,
		Admins:              e.Admins.ids,
		Workers:             e.Workers.n,
		DrainTimeout:        e.DrainTimeout.d,
		LogFormat:           e.LogFormat.raw,
		HTTPAddr:            e.HTTPAddr.raw,
		MetricsAddr:         e.MetricsAddr.raw,
		DataDir:             e.DataDir.raw,
		Migrate:             e.Migrate.v,
		APIClients:          e.APITokens.list,
		WebhookSecret:       e.WebhookSecret.raw,
		CallbackAllow:       e.CallbackAllow.list,
	}
}

// variable is one environment variable: its name and default from the tags, and its decoder.
type variable struct {
	key, def string
	setting
}

// variables yields e's variables in declaration order.
func (e *environment) variables() iter.Seq[variable] {
	return func(yield func(variable) bool) {
		v := reflect.ValueOf(e).Elem()
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag
			// Every field is a setting: TestConfigHelpListsEveryVariable fails otherwise.
			s, _ := v.Field(i).Addr().Interface().(setting)
			if !yield(variable{key: tag.Get("envconfig"), def: tag.Get("default"), setting: s}) {
				return
			}
		}
	}
}

// problem is the line that says what is wrong with v, or "".
func (v variable) problem() string {
	raw, secret, err := v.state()
	switch {
	case err == nil:
		return ""
	case secret:
		return fmt.Sprintf("%s: %v", v.key, err)
	}
	return fmt.Sprintf("%s=%q: %v", v.key, raw, err)
}

// setting is the decoder behind one variable. Decode never returns an error, because
// envconfig.Process stops at the first one; it keeps the problem for loadConfig to report with
// all the others.
type setting interface {
	envconfig.Decoder
	// state returns the value as given (trimmed), whether it must never be shown, and what is
	// wrong with it.
	state() (raw string, secret bool, err error)
	// reset forgets a problem, before the default is decoded in place of an empty value.
	reset()
}

// field is what every setting keeps.
type field struct {
	raw string
	err error
}

func (f *field) reset() { f.err = nil }

func (f *field) state() (string, bool, error) { return f.raw, false, f.err }

// fail records the first problem with the value; later checks only add noise.
func (f *field) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

// text is a string; surrounding spaces, as left by a copy and paste, are dropped.
type text struct{ field }

func (t *text) Decode(s string) error {
	t.raw = strings.TrimSpace(s)
	return nil
}

// secret is a token, key or URL with a password. Its value never appears in an error message or
// a log line.
type secret struct{ text }

func (s *secret) state() (string, bool, error) { return s.raw, true, s.err }

func (s secret) String() string { return "REDACTED" }

func (s secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// duration is a duration such as 10s, 90m or 14d: Go's units and d for days (see [Duration]).
type duration struct {
	field
	d time.Duration
}

func (d *duration) Decode(s string) error {
	d.raw = strings.TrimSpace(s)
	v, err := parseDuration(d.raw)
	if err != nil {
		d.fail("not a duration such as 10s, 90m, 1d12h or 14d")
	}
	d.d = v
	return nil
}

// number is a decimal number such as 0.95.
type number struct {
	field
	v float64
}

func (n *number) Decode(s string) error {
	n.raw = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(n.raw, 64)
	if err != nil || math.IsInf(v, 0) {
		n.fail("not a number")
	}
	n.v = v
	return nil
}

// boolean is true or false (also 1/0, yes/no, on/off).
type boolean struct {
	field
	v bool
}

func (b *boolean) Decode(s string) error {
	b.raw = strings.TrimSpace(s)
	switch strings.ToLower(b.raw) {
	case "true", "1", "yes", "on":
		b.v = true
	case "false", "0", "no", "off":
		b.v = false
	default:
		b.fail("must be true or false")
	}
	return nil
}

// count is a whole number.
type count struct {
	field
	n int
}

func (c *count) Decode(s string) error {
	c.raw = strings.TrimSpace(s)
	v, err := strconv.Atoi(c.raw)
	if err != nil {
		c.fail("not a whole number")
	}
	c.n = v
	return nil
}

// idList is a comma-separated list of Slack ids. Spaces around ids and empty items, as in
// "U1, U2,", are dropped, which envconfig's own []string does not do.
type idList struct {
	field
	ids []string
}

func (l *idList) Decode(s string) error {
	l.raw = strings.TrimSpace(s)
	l.ids = splitList(l.raw)
	return nil
}

// splitList splits a comma-separated list, dropping the spaces around items and empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// amount is money in the home currency, never a float. Decode only keeps the text: the currency,
// and so the number of decimals allowed, is another variable, which validate passes to resolve.
type amount struct {
	field
	m expensebot.Money
}

func (a *amount) Decode(s string) error {
	a.raw = strings.TrimSpace(s)
	return nil
}

// resolve parses the amount in the home currency, or "" when that currency is itself wrong: the
// amount is then still checked for form, in a currency with three decimals so that no decimal
// is blamed wrongly, so that its own mistakes do not wait for the next start.
func (a *amount) resolve(home string) {
	def := home
	if def == "" {
		def = "BHD"
	}
	m, err := expensebot.ParseMoney(a.raw, def)
	switch {
	case err != nil:
		a.fail("%v", err)
	case home != "" && m.Currency != home:
		a.fail("must be in %s", home)
	}
	a.m = m
}

// slackProblems lists what `expensebot run` needs to connect to Slack and does not have. Token
// values are never repeated back.
func (c Config) slackProblems() []string {
	var p []string
	switch {
	case c.SlackAppToken == "":
		p = append(p, "SLACK_APP_TOKEN is not set: create an app-level token with connections:write on the app's Basic Information page")
	case !strings.HasPrefix(c.SlackAppToken, "xapp-"):
		p = append(p, "SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-)")
	}
	switch {
	case c.SlackBotToken == "":
		p = append(p, "SLACK_BOT_TOKEN is not set: install the app and copy the Bot User OAuth Token")
	case !strings.HasPrefix(c.SlackBotToken, "xoxb-"):
		p = append(p, "SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-)")
	}
	if c.ApprovalsChannel == "" {
		p = append(p, "EXPENSEBOT_APPROVALS_CHANNEL is not set: the channel id (C…) where reviewers decide")
	}
	if len(c.Reviewers) == 0 {
		p = append(p, "EXPENSEBOT_REVIEWERS is not set: comma-separated reviewer user ids (U…) or user-group ids (S…)")
	}
	return p
}

// printConfigHelp writes the table of variables, built by envconfig from the same tags.
func printConfigHelp(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 1, 0, 2, ' ', 0)
	const format = `{{range .}}  {{usage_key .}}	{{usage_default .}}	{{usage_description .}}
{{end}}`
	if err := envconfig.Usagef("", &environment{}, tw, format); err != nil {
		return fmt.Errorf("help: %w", err)
	}
	return tw.Flush()
}
