package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
)

// TestLoadConfigReportsEveryProblem guards the promise that one start shows every mistake in the
// environment, one line per variable, in the order of the help table, whatever order the
// variables were set in, and never a secret's value. To add a case, set the variables and list
// the exact lines expected after "configuration:".
func TestLoadConfigReportsEveryProblem(t *testing.T) {
	secrets := []string{"SLACK_APP_TOKEN", "xapp-hunter2", "SLACK_BOT_TOKEN", "xoxb-hunter2",
		"DATABASE_URL", "postgres://u:hunter2@db/x", "OPENAI_API_KEY", "sk-hunter2"}
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "a bad duration hides nothing",
			env: []string{"EXPENSEBOT_LOG_FORMAT", "xml", "EXPENSEBOT_WORKERS", "many",
				"EXPENSEBOT_AUTO_APPROVE_MAX", "12x", "EXPENSEBOT_AI_TIMEOUT", "ten"},
			want: []string{
				`EXPENSEBOT_AI_TIMEOUT="ten": not a duration such as 10s, 90m, 1d12h or 14d`,
				`EXPENSEBOT_AUTO_APPROVE_MAX="12x": "12x" is not an amount I can read (unexpected 'x'). Try 42.50 or 2500 USD.`,
				`EXPENSEBOT_WORKERS="many": not a whole number`,
				`EXPENSEBOT_LOG_FORMAT="xml": must be text or json`,
			},
		},
		{
			name: "a bad currency hides no amount",
			env: []string{"EXPENSEBOT_CURRENCY", "zzz", "EXPENSEBOT_REVIEW_MAX", "0",
				"EXPENSEBOT_RECEIPT_REQUIRED_OVER", "-5", "EXPENSEBOT_AUTO_APPROVE_MAX", "12.50 EUR"},
			want: []string{
				`EXPENSEBOT_CURRENCY="ZZZ": not an ISO 4217 currency code I know (e.g. USD, EUR)`,
				`EXPENSEBOT_REVIEW_MAX="0": The amount must be more than zero.`,
				`EXPENSEBOT_RECEIPT_REQUIRED_OVER="-5": The amount must be positive; "-5" is negative.`,
			},
		},
		{
			name: "ranges and the currency of amounts",
			env: []string{"EXPENSEBOT_CURRENCY", "JPY", "EXPENSEBOT_AUTO_APPROVE_MAX", "5000",
				"EXPENSEBOT_REVIEW_MAX", "100", "EXPENSEBOT_RECEIPT_REQUIRED_OVER", "75 USD",
				"EXPENSEBOT_MIN_CONFIDENCE", "NaN", "EXPENSEBOT_AI_TIMEOUT", "-1s", "EXPENSEBOT_WORKERS", "1000",
				"SLACK_API_URL", "slack.com/api", "EXPENSEBOT_SPLIT_WINDOW", "-1h", "EXPENSEBOT_SPOT_CHECK_RATE", "5%", "EXPENSEBOT_FINANCE", "finance"},
			want: []string{
				`SLACK_API_URL="slack.com/api": must be an http(s) URL ending in /`,
				`EXPENSEBOT_AI_TIMEOUT="-1s": must be positive`,
				`EXPENSEBOT_REVIEW_MAX="100": must not be below EXPENSEBOT_AUTO_APPROVE_MAX (5,000 JPY)`,
				`EXPENSEBOT_MIN_CONFIDENCE="NaN": must be between 0 and 1`,
				`EXPENSEBOT_RECEIPT_REQUIRED_OVER="75 USD": must be in JPY`,
				`EXPENSEBOT_SPLIT_WINDOW="-1h": must not be negative; 0 turns the check off`,
				`EXPENSEBOT_SPOT_CHECK_RATE="5%": not a number`,
				`EXPENSEBOT_FINANCE="finance": "finance" is a name, not an id: in Slack open the person's profile, choose ⋮ (More) → Copy member ID (U…); a user group's id (S…) is in its URL under People → User groups`,
				`EXPENSEBOT_WORKERS="1000": must be between 1 and 256`,
			},
		},
		{
			name: "timers that contradict each other",
			env:  []string{"EXPENSEBOT_REMIND_AFTER", "30s", "EXPENSEBOT_ESCALATE_AFTER", "400h", "EXPENSEBOT_EXPIRE_AFTER", "-1h", "EXPENSEBOT_DRAFT_TTL", "0"},
			want: []string{
				`EXPENSEBOT_REMIND_AFTER="30s": must be at least 1m, or 0 for no reminders`,
				`EXPENSEBOT_ESCALATE_TO="": must name who may decide an escalated expense, since EXPENSEBOT_ESCALATE_AFTER is 400h`,
				`EXPENSEBOT_EXPIRE_AFTER="-1h": must not be negative (0 turns it off)`,
				`EXPENSEBOT_DRAFT_TTL="0": must be at least 1m, e.g. 7d`,
			},
		},
		{
			name: "escalation after expiry, to a name",
			env:  []string{"EXPENSEBOT_ESCALATE_AFTER", "400h", "EXPENSEBOT_ESCALATE_TO", "@boss", "EXPENSEBOT_REMIND_AFTER", "1 day"},
			want: []string{
				`EXPENSEBOT_REMIND_AFTER="1 day": not a duration such as 10s, 90m, 1d12h or 14d`,
				`EXPENSEBOT_ESCALATE_AFTER="400h": must be shorter than EXPENSEBOT_EXPIRE_AFTER (14d), or an expense expires before it is escalated`,
				`EXPENSEBOT_ESCALATE_TO="@boss": "@boss" is a name, not an id: in Slack open the person's profile, choose ⋮ (More) → Copy member ID (U…); a user group's id (S…) is in its URL under People → User groups`,
			},
		},
		{
			name: "names where ids belong",
			env:  []string{"EXPENSEBOT_REVIEWERS", "@rita,finance-team", "EXPENSEBOT_APPROVALS_CHANNEL", "#expense-approvals"},
			want: []string{
				`EXPENSEBOT_APPROVALS_CHANNEL="#expense-approvals": "#expense-approvals" is a name, not an id: open the channel, click its name, and copy the Channel ID at the bottom of the About tab (C…)`,
				`EXPENSEBOT_REVIEWERS="@rita,finance-team": "@rita" is a name, not an id: in Slack open the person's profile, choose ⋮ (More) → Copy member ID (U…); a user group's id (S…) is in its URL under People → User groups`,
			},
		},
		{
			name: "secrets next to a problem are not echoed",
			env:  append([]string{"EXPENSEBOT_LOG_FORMAT", "JSON"}, secrets...),
			want: []string{`EXPENSEBOT_LOG_FORMAT="JSON": must be text or json`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, append(secrets, tt.env...)...)
			_, err := loadConfig()
			if err == nil {
				t.Fatalf("loadConfig() = nil error, want %d problems", len(tt.want))
			}
			got := strings.Split(err.Error(), "\n  ")
			if got[0] != "configuration:" || !reflect.DeepEqual(got[1:], tt.want) {
				t.Errorf("got:\n%s\nwant:\nconfiguration:\n  %s", err, strings.Join(tt.want, "\n  "))
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a secret was echoed: %v", err)
			}
		})
	}
}

// TestSecretsAreNeverEchoed guards the one place that decides whether a value may be shown: a
// problem with a secret variable names the variable and not the value. To make a new variable
// secret, give it the type secret and add it here.
func TestSecretsAreNeverEchoed(t *testing.T) {
	wantSecret := map[string]bool{"SLACK_APP_TOKEN": true, "SLACK_BOT_TOKEN": true, "DATABASE_URL": true, "OPENAI_API_KEY": true,
		"EXPENSEBOT_API_TOKENS": true, "EXPENSEBOT_WEBHOOK_SECRET": true}
	var env environment
	for v := range env.variables() {
		if err := v.Decode("hunter2"); err != nil {
			t.Fatalf("%s: Decode returned %v; decoders must keep problems, not return them", v.key, err)
		}
		v.setting.(interface{ fail(string, ...any) }).fail("some problem")
		// The problem itself may be the decoder's own ("not a number"); only the prefix matters.
		got := v.problem()
		if wantSecret[v.key] {
			if !strings.HasPrefix(got, v.key+": ") || strings.Contains(got, "hunter2") {
				t.Errorf("got %q, want %s: and no value", got, v.key)
			}
		} else if want := v.key + `="hunter2": `; !strings.HasPrefix(got, want) {
			t.Errorf("got %q, want it to start with %s (only secrets hide their value)", got, want)
		}
	}
	// Nor does a secret show when the whole environment is printed or logged while debugging.
	var e environment
	e.DatabaseURL.Decode("postgres://u:hunter2@db/x")
	var log bytes.Buffer
	slog.New(slog.NewTextHandler(&log, nil)).Info("env", "database_url", e.DatabaseURL)
	if out := fmt.Sprintf("%v %+v %s", e, e, log.String()); strings.Contains(out, "hunter2") {
		t.Errorf("a secret was printed: %s", out)
	}
}

// TestLoadConfigDefaults: with nothing set, the program starts with the documented defaults.
// TestLoadConfigDefaults: unset variables, and variables set but empty (KEY= in a compose file),
// take their defaults.
func TestLoadConfigDefaults(t *testing.T) {
	for _, env := range [][]string{nil, {"OPENAI_MODEL", "", "EXPENSEBOT_CURRENCY", " ", "EXPENSEBOT_WORKERS", "", "EXPENSEBOT_AUTO_APPROVE_MAX", ""}} {
		setenv(t, env...)
		got, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, defaults) {
			t.Errorf("with %q: got  %+v\nwant %+v", env, got, defaults)
		}
	}
}

var defaults = Config{
	SlackAPIURL:         "https://slack.com/api/",
	OpenAIModel:         "gpt-4o-mini",
	OpenAIVisionModel:   "gpt-4o-mini",
	AITimeout:           10 * time.Second,
	AIMaxInFlight:       256,
	AIDeadline:          10 * time.Minute,
	Currency:            "USD",
	AutoApproveMax:      expensebot.Money{Minor: 100000, Currency: "USD"},
	ReviewMax:           expensebot.Money{Minor: 1000000, Currency: "USD"},
	MinConfidence:       0.95,
	ReceiptRequiredOver: expensebot.Money{Minor: 7500, Currency: "USD"},
	RemindAfter:         24 * time.Hour,
	ExpireAfter:         336 * time.Hour,
	DraftTTL:            168 * time.Hour,
	RatesMaxAge:         168 * time.Hour,
	SplitWindow:         72 * time.Hour,
	MaxAge:              2160 * time.Hour,
	SpotCheckRate:       0.05,
	Workers:             8,
	DrainTimeout:        25 * time.Second,
	LogFormat:           "text",
	Migrate:             true,
}

// TestLoadConfigReadsEveryVariable sets every variable to something other than its default and
// checks that each arrives in Config, so that a variable added to environment but not copied
// into Config fails here. Values carry the spaces a copy and paste leaves.
func TestLoadConfigReadsEveryVariable(t *testing.T) {
	setenv(t,
		"SLACK_APP_TOKEN", "xapp-1 ",
		"SLACK_BOT_TOKEN", " xoxb-1",
		"SLACK_API_URL", "http://127.0.0.1:9/api/",
		"DATABASE_URL", "sqlite://x.db",
		"OPENAI_API_KEY", "sk-1",
		"OPENAI_BASE_URL", "http://127.0.0.1:11434/v1",
		"OPENAI_MODEL", "llama3",
		"OPENAI_VISION_MODEL", " llava",
		"EXPENSEBOT_AI_TIMEOUT", "1m30s",
		"EXPENSEBOT_AI_MAX_IN_FLIGHT", "64",
		"EXPENSEBOT_AI_RPM", " 600",
		"EXPENSEBOT_AI_TPM", "200000",
		"EXPENSEBOT_AI_DEADLINE", "30m",
		"EXPENSEBOT_APPROVALS_CHANNEL", "C1",
		"EXPENSEBOT_REVIEWERS", " U1, S2 ,,",
		"EXPENSEBOT_CURRENCY", "eur",
		"EXPENSEBOT_AUTO_APPROVE_MAX", "1.234,50",
		"EXPENSEBOT_REVIEW_MAX", "€20,000",
		"EXPENSEBOT_MIN_CONFIDENCE", "0.9",
		"EXPENSEBOT_RECEIPT_REQUIRED_OVER", "25 EUR",
		"EXPENSEBOT_POLICY_FILE", "policy.yaml",
		"EXPENSEBOT_REMIND_AFTER", "1d12h",
		"EXPENSEBOT_ESCALATE_AFTER", "48h",
		"EXPENSEBOT_ESCALATE_TO", "U9, S9",
		"EXPENSEBOT_EXPIRE_AFTER", "0",
		"EXPENSEBOT_DRAFT_TTL", "3d",
		"EXPENSEBOT_RATES_FILE", "rates.yaml",
		"EXPENSEBOT_RATES_URL", "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
		"EXPENSEBOT_RATES_MAX_AGE", "14d",
		"EXPENSEBOT_SPLIT_WINDOW", "90m", "EXPENSEBOT_MAX_AGE", "30d",
		"EXPENSEBOT_SPOT_CHECK_RATE", "0.1",
		"EXPENSEBOT_FINANCE", "U0FIN, S0FINANCE",
		"EXPENSEBOT_ADMINS", "U0ADM, S0ADMINS",
		"EXPENSEBOT_WORKERS", "16", "EXPENSEBOT_DRAIN_TIMEOUT", "40s",
		"EXPENSEBOT_LOG_FORMAT", "json",
		"EXPENSEBOT_HTTP_ADDR", " 127.0.0.1:8080",
		"EXPENSEBOT_METRICS_ADDR", "127.0.0.1:9090",
		"EXPENSEBOT_DATA_DIR", "/srv/expensebot",
		"EXPENSEBOT_MIGRATE", "false",
		"EXPENSEBOT_API_TOKENS", "billing=tok-billing-0123456789, audit* = tok-audit-0123456789",
		"EXPENSEBOT_WEBHOOK_SECRET", "whsec-0123456789abcdef ",
		"EXPENSEBOT_CALLBACK_ALLOW", " hooks.intranet, 10.0.0.5,",
	)
	got, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	eur := func(minor int64) expensebot.Money { return expensebot.Money{Minor: minor, Currency: "EUR"} }
	want := Config{
		SlackAppToken: "xapp-1", SlackBotToken: "xoxb-1", SlackAPIURL: "http://127.0.0.1:9/api/",
		DatabaseURL: "sqlite://x.db", OpenAIAPIKey: "sk-1", OpenAIBaseURL: "http://127.0.0.1:11434/v1",
		OpenAIModel: "llama3", OpenAIVisionModel: "llava", AITimeout: 90 * time.Second,
		AIMaxInFlight: 64, AIRPM: 600, AITPM: 200000, AIDeadline: 30 * time.Minute, ApprovalsChannel: "C1", Reviewers: []string{"U1", "S2"},
		Currency: "EUR", AutoApproveMax: eur(123450), ReviewMax: eur(2000000), MinConfidence: 0.9,
		ReceiptRequiredOver: eur(2500), PolicyFile: "policy.yaml", Workers: 16, DrainTimeout: 40 * time.Second, LogFormat: "json",
		RemindAfter: 36 * time.Hour, EscalateAfter: 48 * time.Hour, EscalateTo: []string{"U9", "S9"}, DraftTTL: 72 * time.Hour,
		RatesFile: "rates.yaml", RatesURL: "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml", RatesMaxAge: 14 * 24 * time.Hour,
		HTTPAddr: "127.0.0.1:8080", APIClients: []api.Client{{Name: "billing", Token: "tok-billing-0123456789"},
			{Name: "audit", Token: "tok-audit-0123456789", ReadAll: true}},
		WebhookSecret: "whsec-0123456789abcdef", CallbackAllow: []string{"hooks.intranet", "10.0.0.5"},
		MetricsAddr: "127.0.0.1:9090", DataDir: "/srv/expensebot", Migrate: false,
		SplitWindow: 90 * time.Minute, MaxAge: 720 * time.Hour, SpotCheckRate: 0.1, Finance: []string{"U0FIN", "S0FINANCE"},
		Admins: []string{"U0ADM", "S0ADMINS"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Every field set above must differ from its default, or this test proves nothing for it.
	setenv(t)
	defaults, _ := loadConfig()
	g, d := reflect.ValueOf(got), reflect.ValueOf(defaults)
	for i := range g.NumField() {
		if reflect.DeepEqual(g.Field(i).Interface(), d.Field(i).Interface()) {
			t.Errorf("Config.%s was not read from the environment", g.Type().Field(i).Name)
		}
	}
}

// TestConfigHelpListsEveryVariable: `expensebot help` shows every variable, in declaration
// order, with its default, and every variable has a name, a description and a decoder.
func TestConfigHelpListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	if err := printConfigHelp(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	typ := reflect.TypeFor[environment]()
	if len(lines) != typ.NumField() {
		t.Fatalf("help has %d lines for %d variables:\n%s", len(lines), typ.NumField(), b.String())
	}
	i := 0
	for v := range (&environment{}).variables() {
		f := typ.Field(i)
		if v.setting == nil {
			t.Errorf("environment.%s is not a setting: envconfig would stop at its first bad value", f.Name)
		}
		if v.key == "" || f.Tag.Get("desc") == "" {
			t.Errorf("environment.%s lacks an envconfig name or a desc", f.Name)
		}
		fields := strings.Fields(lines[i])
		if len(fields) < 2 || fields[0] != v.key || (v.def != "" && fields[1] != v.def) {
			t.Errorf("help line %d = %q, want %s with default %q", i, lines[i], v.key, v.def)
		}
		i++
	}
}

// TestRedactURL: credentials inside OPENAI_BASE_URL never reach the log.
func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"https://bob:sk-secret@llm.internal/v1", "https://REDACTED@llm.internal/v1"},
		{"https://llm.internal/v1?api-key=sk-secret&region=eu", "https://llm.internal/v1?api-key=REDACTED&region=eu"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want || strings.Contains(got, "sk-secret") {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
