package policy

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/expensebot/expensebot"
	"go.yaml.in/yaml/v3"
)

// file is the policy file as written by a person; amounts are text in the home currency.
type file struct {
	Categories map[string]struct {
		AutoApproveMax      string `yaml:"auto_approve_max"`
		ReviewMax           string `yaml:"review_max"`
		ReceiptRequiredOver string `yaml:"receipt_required_over"`
		NeverAutoApprove    bool   `yaml:"never_auto_approve"`
		Routes              []struct {
			Over      string   `yaml:"over"`
			Channel   string   `yaml:"channel"`
			Reviewers []string `yaml:"reviewers"`
		} `yaml:"routes"`
	} `yaml:"categories"`
}

// LoadFile reads the optional policy file (EXPENSEBOT_POLICY_FILE) into r.Categories. Unknown
// keys, unknown categories and unreadable amounts are errors that name the place: a policy that
// does not say what its author meant must not start.
func (r *Rules) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("policy file: %w", err)
	}
	return r.parseFile(b, path)
}

func (r *Rules) parseFile(b []byte, name string) error {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
		return fmt.Errorf("policy file %s: %w", name, err)
	}
	r.Categories = map[string]CategoryRule{}
	for cat, c := range f.Categories {
		if !slices.Contains(expensebot.Categories, cat) {
			return fmt.Errorf("policy file %s: unknown category %q (known: %s)", name, cat, strings.Join(expensebot.Categories, ", "))
		}
		amount := func(field, text string) (*expensebot.Money, error) {
			if text == "" {
				return nil, nil
			}
			m, err := expensebot.ParseMoney(text, r.Currency)
			if err == nil && m.Currency != r.Currency {
				err = fmt.Errorf("amounts must be in the home currency %s", r.Currency)
			}
			if err != nil {
				return nil, fmt.Errorf("policy file %s: categories.%s.%s: %v", name, cat, field, err)
			}
			return &m, nil
		}
		var rule CategoryRule
		var err error
		if rule.AutoApproveMax, err = amount("auto_approve_max", c.AutoApproveMax); err != nil {
			return err
		}
		if rule.ReviewMax, err = amount("review_max", c.ReviewMax); err != nil {
			return err
		}
		if rule.ReceiptRequiredOver, err = amount("receipt_required_over", c.ReceiptRequiredOver); err != nil {
			return err
		}
		rule.NeverAutoApprove = c.NeverAutoApprove
		for i, rt := range c.Routes {
			over, err := amount(fmt.Sprintf("routes[%d].over", i), rt.Over)
			if err != nil {
				return err
			}
			if over == nil {
				over = &expensebot.Money{Currency: r.Currency}
			}
			if rt.Channel == "" && len(rt.Reviewers) == 0 {
				return fmt.Errorf("policy file %s: categories.%s.routes[%d]: give a channel, reviewers or both", name, cat, i)
			}
			rule.Routes = append(rule.Routes, RouteRule{Over: *over, Channel: rt.Channel, Reviewers: rt.Reviewers})
		}
		r.Categories[cat] = rule
	}
	return nil
}
