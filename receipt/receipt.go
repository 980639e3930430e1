// Package receipt holds the rules for receipts, decided by code: which files are accepted, and
// whether what a model read on a receipt agrees with the claim. It is pure: no Slack, no model,
// no clock; a model only ever supplies facts (merchant, date, total, currency, how sure it is),
// and nothing printed on a receipt can change what these functions decide.
package receipt

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

// MaxSize is the largest receipt file accepted, in bytes (Slack's own file_input limit is 10 MB,
// but its filetypes and size hints are a convenience for the uploader, not a check).
const MaxSize = 10 << 20

// Types are the file types accepted, as Slack names them (files.info filetype) and as the form's
// file_input offers them.
var Types = []string{"pdf", "png", "jpg", "jpeg", "heic", "webp"}

// mimetypes are the content types each type may carry: a file named .png that Slack sees as a
// zip is refused.
var mimetypes = map[string][]string{
	"pdf": {"application/pdf"}, "png": {"image/png"}, "jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"},
	"heic": {"image/heic", "image/heif"}, "webp": {"image/webp"},
}

// MaxFiles is how many receipts one expense may carry.
const MaxFiles = 5

// CheckFile says, in words for the person who attached it, why a file cannot be a receipt, or
// returns nil. It trusts nothing the form claimed: type and size come from the platform's own
// description of the file (files.info). Returns EINVALID.
func CheckFile(r expensebot.Receipt) error {
	typ := strings.ToLower(r.Filetype)
	if typ == "" {
		if i := strings.LastIndexByte(r.Name, '.'); i >= 0 {
			typ = strings.ToLower(r.Name[i+1:])
		}
	}
	name := expensebot.Truncate(r.Name, 80)
	if name == "" {
		name = r.FileID
	}
	mt := strings.ToLower(strings.TrimSpace(strings.Split(r.Mimetype, ";")[0]))
	switch {
	case !slices.Contains(Types, typ):
		return expensebot.Errorf(expensebot.EINVALID, "%s is not a receipt I can take: send a PDF or a picture (%s).", name, strings.Join(Types, ", "))
	case mt != "" && !slices.Contains(mimetypes[typ], mt):
		return expensebot.Errorf(expensebot.EINVALID, "%s says it is %s but its content is %s: send a PDF or a picture (%s).", name, typ, mt, strings.Join(Types, ", "))
	case r.Size <= 0:
		return expensebot.Errorf(expensebot.EINVALID, "%s is empty.", name)
	case r.Size > MaxSize:
		return expensebot.Errorf(expensebot.EINVALID, "%s is %s; a receipt may be at most %s.", name, sizeText(r.Size), sizeText(MaxSize))
	}
	return nil
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}

// Tolerances of the comparison; README "Receipts" explains them.
const (
	// TotalPercent and TotalMinimum bound how far the claim may be above the receipt's total: up
	// to 2% of the total or 2.00 in the receipt's currency, whichever is more (rounding up and a
	// small tip: a 118.40 taxi claimed as 120.00 matches). A claim below the total always
	// matches: claiming less than was paid never costs the company more.
	TotalPercent = 2
	TotalMinimum = 200 // in minor units of a two-decimal currency; scaled for others
	// DaysBefore and DaysAfter bound the receipt's date around the date claimed: a quick
	// submission is dated the day it is typed, often days after the taxi.
	DaysBefore = 7
	DaysAfter  = 1
	// MinConfidence is the least confidence of the reader for its facts to be used at all.
	MinConfidence = 0.6
	// ConvertedPercent is the tolerance when receipt and claim are in different currencies and
	// both are compared in the home currency: rates differ between the day of payment and today.
	ConvertedPercent = 5
)

// Convert expresses an amount in the home currency; ok false when no usable rate is known.
type Convert func(expensebot.Money) (home expensebot.Money, ok bool)

// Compare checks what was read on a receipt against the claim e: total (within the tolerances
// above), date (within DaysBefore/DaysAfter of e.IncurredOn) and currency (the same, or both
// converted with convert, which may be nil). A receipt that was not readable, or read with a
// confidence under MinConfidence, is ReceiptUnreadable; the caller sets ReceiptFailed and
// ReceiptUnchecked itself.
func Compare(e expensebot.Expense, f expensebot.ReceiptFacts, convert Convert) expensebot.ReceiptCheck {
	if !f.Readable || f.Confidence < MinConfidence {
		return expensebot.ReceiptCheck{Outcome: expensebot.ReceiptUnreadable, Problems: []string{unreadableWhy(f)}}
	}
	c := expensebot.ReceiptCheck{Outcome: expensebot.ReceiptMatch}
	cur := strings.ToUpper(strings.TrimSpace(f.Currency))
	if cur == "" {
		cur = e.Amount.Currency // the receipt does not say: read it in the claim's currency
	}
	total, err := expensebot.ParseMoney(strings.TrimSpace(f.Total)+" "+cur, e.Amount.Currency)
	if err != nil || total.Minor <= 0 {
		return expensebot.ReceiptCheck{Outcome: expensebot.ReceiptUnreadable, Problems: []string{"no total could be read on the receipt"}}
	}
	c.Total = total
	switch {
	case total.Currency == e.Amount.Currency:
		if p := totalProblem(e.Amount, total, TotalPercent, true); p != "" {
			c.Problems = append(c.Problems, p)
		}
	default:
		var ch, th expensebot.Money
		ok := convert != nil
		if ok {
			var ok1, ok2 bool
			ch, ok1 = convert(e.Amount)
			th, ok2 = convert(total)
			ok = ok1 && ok2
		}
		if !ok {
			c.Problems = append(c.Problems, fmt.Sprintf("the receipt is in %s, the claim in %s, and no exchange rate compares them", total.Currency, e.Amount.Currency))
		} else if p := totalProblem(ch, th, ConvertedPercent, false); p != "" {
			c.Problems = append(c.Problems, fmt.Sprintf("the receipt's %s is %s, the claim's %s is %s: %s", total, th, e.Amount, ch, p))
		}
	}
	if p := dateProblem(e.IncurredOn, f.Date); p != "" {
		c.Problems = append(c.Problems, p)
	}
	if len(c.Problems) > 0 {
		c.Outcome = expensebot.ReceiptMismatch
	}
	return c
}

func unreadableWhy(f expensebot.ReceiptFacts) string {
	if !f.Readable {
		return "the receipt could not be read"
	}
	return fmt.Sprintf("the receipt was read with confidence %.2f, below %.2f", f.Confidence, MinConfidence)
}

// totalProblem says how claim exceeds total beyond the tolerance, or "". Both are in one currency.
func totalProblem(claim, total expensebot.Money, percent int64, wordy bool) string {
	over := claim.Minor - total.Minor
	if over <= 0 {
		return ""
	}
	allowed := total.Minor * percent / 100
	digits, _ := expensebot.CurrencyDigits(total.Currency)
	minimum := int64(TotalMinimum)
	for d := 2; d < digits; d++ {
		minimum *= 10
	}
	for d := digits; d < 2; d++ {
		minimum /= 10
	}
	if over <= max(allowed, minimum) {
		return ""
	}
	diff := expensebot.Money{Minor: over, Currency: total.Currency}
	if wordy {
		return fmt.Sprintf("the claim %s is %s more than the receipt's total %s", claim, diff, total)
	}
	return fmt.Sprintf("%s more than the receipt", diff)
}

// dateProblem says how the receipt's date falls outside the window around the claimed date, or "".
// A receipt without a date is not a mismatch: many tills print none a model can read.
func dateProblem(claimed time.Time, date string) string {
	if strings.TrimSpace(date) == "" || claimed.IsZero() {
		return ""
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(date))
	if err != nil {
		return "the receipt's date could not be read"
	}
	day := time.Date(claimed.Year(), claimed.Month(), claimed.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case d.Before(day.AddDate(0, 0, -DaysBefore)):
		return fmt.Sprintf("the receipt is dated %s, more than %d days before the claimed %s", d.Format(time.DateOnly), DaysBefore, day.Format(time.DateOnly))
	case d.After(day.AddDate(0, 0, DaysAfter)):
		return fmt.Sprintf("the receipt is dated %s, after the claimed %s", d.Format(time.DateOnly), day.Format(time.DateOnly))
	}
	return ""
}

// Reasons says why the receipts of e need a person, one sentence each, or nothing when every
// receipt matched and none is on another expense. The policy adds them to an expense's reasons.
func Reasons(e expensebot.Expense) []string {
	var out []string
	for _, r := range e.Receipts {
		name := expensebot.Truncate(r.Name, 60)
		if r.Duplicate != nil {
			out = append(out, fmt.Sprintf("%s: receipt %s is already on expense #%d", expensebot.FlagDuplicateReceipt, name, r.Duplicate.ExpenseID))
		}
		rd := r.Reading
		switch {
		case rd == nil || rd.Check.Outcome == expensebot.ReceiptUnchecked:
			out = append(out, fmt.Sprintf("receipt %s was not read by a model (no vision model available): compare it with the claim", name))
		case rd.Check.Outcome == expensebot.ReceiptMatch:
		case rd.Check.Outcome == expensebot.ReceiptMismatch:
			out = append(out, fmt.Sprintf("receipt %s does not match the claim: %s", name, strings.Join(rd.Check.Problems, "; ")))
		case rd.Check.Outcome == expensebot.ReceiptFailed:
			out = append(out, fmt.Sprintf("receipt %s could not be read (%s): compare it with the claim", name, rd.Error))
		default:
			why := "it could not be read"
			if len(rd.Check.Problems) > 0 {
				why = strings.Join(rd.Check.Problems, "; ")
			}
			out = append(out, fmt.Sprintf("receipt %s: %s; compare it with the claim", name, why))
		}
	}
	return out
}
