package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"io"

	"github.com/expensebot/expensebot"
	"github.com/kelseyhightower/envconfig"
)

// Config is everything expensebot reads from its environment. The variable names are the product's
// public interface; the README documents each one.
type Config struct {
	SlackAppToken       string        `envconfig:"SLACK_APP_TOKEN" secret:"true" desc:"app-level token (xapp-…, scope connections:write) for Socket Mode"`
	SlackBotToken       string        `envconfig:"SLACK_BOT_TOKEN" secret:"true" desc:"bot token (xoxb-…) for the Web API"`
	SlackAPIURL         string        `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL, ending in /"`
	DatabaseURL         string        `envconfig:"DATABASE_URL" secret:"true" desc:"postgres://… for PostgreSQL; unset for the SQLite file expensebot.db; sqlite://PATH or file:PATH"`
	OpenAIAPIKey        string        `envconfig:"OPENAI_API_KEY" secret:"true" desc:"API key for the AI check; unset turns the AI check off"`
	OpenAIBaseURL       string        `envconfig:"OPENAI_BASE_URL" desc:"OpenAI-compatible API base URL (Ollama, vLLM, Azure); unset for OpenAI"`
	OpenAIModel         string        `envconfig:"OPENAI_MODEL" default:"gpt-4o-mini" desc:"model for the AI check"`
	AITimeout           time.Duration `envconfig:"EXPENSEBOT_AI_TIMEOUT" default:"10s" desc:"time limit for one AI assessment, all tries included"`
	ApprovalsChannel    string        `envconfig:"EXPENSEBOT_APPROVALS_CHANNEL" desc:"channel id where reviewers see expenses to decide (C…)"`
	Reviewers           []string      `envconfig:"EXPENSEBOT_REVIEWERS" desc:"comma-separated reviewer user ids (U…) and/or user-group ids (S…)"`
	Currency            string        `envconfig:"EXPENSEBOT_CURRENCY" default:"USD" desc:"home currency (ISO 4217); others always go to a reviewer"`
	AutoApproveMax      string        `envconfig:"EXPENSEBOT_AUTO_APPROVE_MAX" default:"1000" desc:"auto-approval only below this amount"`
	ReviewMax           string        `envconfig:"EXPENSEBOT_REVIEW_MAX" default:"10000" desc:"above this amount two different reviewers must approve"`
	MinConfidence       float64       `envconfig:"EXPENSEBOT_MIN_CONFIDENCE" default:"0.95" desc:"least AI confidence (0..1) for auto-approval"`
	ReceiptRequiredOver string        `envconfig:"EXPENSEBOT_RECEIPT_REQUIRED_OVER" default:"75" desc:"above this amount an expense without receipt goes to a reviewer"`
	PolicyFile          string        `envconfig:"EXPENSEBOT_POLICY_FILE" desc:"optional YAML file with per-category rules"`
	Workers             int           `envconfig:"EXPENSEBOT_WORKERS" default:"8" desc:"how many Slack requests are worked on at once"`
	LogFormat           string        `envconfig:"EXPENSEBOT_LOG_FORMAT" default:"text" desc:"text or json"`

	// Parsed from the strings above, in minor units of Currency.
	autoApproveMax, reviewMax, receiptRequiredOver expensebot.Money
}

// loadConfig reads Config through getenv, so that tests start the program with an environment of
// their own. The struct tags are envconfig's, and envconfig prints the help table; envconfig itself
// reads only the process environment, hence this small loop over the same tags.
func loadConfig(getenv func(string) string) (Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	var problems []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key := f.Tag.Get("envconfig")
		if key == "" {
			continue
		}
		raw := strings.TrimSpace(getenv(key))
		if raw == "" {
			raw = f.Tag.Get("default")
		}
		if raw == "" {
			continue
		}
		if err := setField(v.Field(i), raw); err != nil {
			if f.Tag.Get("secret") == "true" {
				problems = append(problems, fmt.Sprintf("%s: %v", key, err))
			} else {
				problems = append(problems, fmt.Sprintf("%s=%q: %v", key, raw, err))
			}
		}
	}
	if len(problems) == 0 {
		problems = c.validate()
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

func setField(f reflect.Value, raw string) error {
	switch f.Interface().(type) {
	case string:
		f.SetString(raw)
	case []string:
		var list []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		f.Set(reflect.ValueOf(list))
	case int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		f.SetInt(int64(n))
	case float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		f.SetFloat(x)
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("not a duration such as 10s or 1m")
		}
		f.SetInt(int64(d))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

func (c *Config) validate() []string {
	var problems []string
	c.Currency = strings.ToUpper(c.Currency)
	if !expensebot.ValidCurrency(c.Currency) {
		return []string{fmt.Sprintf("EXPENSEBOT_CURRENCY=%q: not an ISO 4217 currency code I know (e.g. USD, EUR)", c.Currency)}
	}
	amount := func(key, raw string, dst *expensebot.Money) {
		m, err := expensebot.ParseMoney(raw, c.Currency)
		if err == nil && m.Currency != c.Currency {
			err = fmt.Errorf("must be in %s", c.Currency)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", key, raw, err))
		}
		*dst = m
	}
	amount("EXPENSEBOT_AUTO_APPROVE_MAX", c.AutoApproveMax, &c.autoApproveMax)
	amount("EXPENSEBOT_REVIEW_MAX", c.ReviewMax, &c.reviewMax)
	amount("EXPENSEBOT_RECEIPT_REQUIRED_OVER", c.ReceiptRequiredOver, &c.receiptRequiredOver)
	if len(problems) == 0 && c.reviewMax.Less(c.autoApproveMax) {
		problems = append(problems, "EXPENSEBOT_REVIEW_MAX must not be below EXPENSEBOT_AUTO_APPROVE_MAX")
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		problems = append(problems, fmt.Sprintf("EXPENSEBOT_MIN_CONFIDENCE=%v: must be between 0 and 1", c.MinConfidence))
	}
	if c.AITimeout <= 0 {
		problems = append(problems, "EXPENSEBOT_AI_TIMEOUT: must be positive")
	}
	if c.Workers < 1 || c.Workers > 256 {
		problems = append(problems, fmt.Sprintf("EXPENSEBOT_WORKERS=%d: must be between 1 and 256", c.Workers))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("EXPENSEBOT_LOG_FORMAT=%q: must be text or json", c.LogFormat))
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") || !(strings.HasPrefix(c.SlackAPIURL, "https://") || strings.HasPrefix(c.SlackAPIURL, "http://")) {
		problems = append(problems, fmt.Sprintf("SLACK_API_URL=%q: must be an http(s) URL ending in /", c.SlackAPIURL))
	}
	return problems
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
	if err := envconfig.Usagef("", &Config{}, tw, format); err != nil {
		return err
	}
	return tw.Flush()
}
