package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/receipt"
)

// Drafts: a receipt posted in the bot's DM is read and drafted as an expense that its owner
// submits, edits or discards with one click. Nothing is submitted without that click; a draft
// nobody acts on expires after Config.DraftTTL, by a timer kept in the database.

// DraftStore keeps drafts (*store.DB has it).
type DraftStore interface {
	DraftSeen(ctx context.Context, key string) (d expensebot.Draft, seen, live bool, err error)
	CreateDraft(ctx context.Context, key string, d expensebot.Draft) (expensebot.Draft, bool, error)
	SetDraftMessage(ctx context.Context, id int64, ts string) error
	Draft(ctx context.Context, id int64) (expensebot.Draft, error)
	Drafts(ctx context.Context, user string) ([]expensebot.Draft, error)
	DueDrafts(ctx context.Context, now time.Time, limit int) ([]expensebot.Draft, error)
	EndDraft(ctx context.Context, id int64, kind, actor string, detail map[string]any) (expensebot.Draft, bool, error)
	// FirstSeen records key and reports whether it is new: a file refused once is answered once.
	FirstSeen(ctx context.Context, key string) (bool, error)
}

// DraftNotices tells a draft's owner that it expired (*handlers.Messenger does, in Slack).
type DraftNotices interface {
	DraftExpired(ctx context.Context, d expensebot.Draft) error
}

// DefaultDraftTTL is how long a draft waits for its owner when Config.DraftTTL is not set.
const DefaultDraftTTL = 7 * 24 * time.Hour

// DraftRequest is one file posted in the bot's DM, to draft an expense from.
type DraftRequest struct {
	Key     string // what makes a redelivery the same request: the Slack event id and the file id
	User    string
	Team    string
	Channel string // the DM
	FileID  string
}

// DraftOutcome is what came of a DraftRequest.
type DraftOutcome struct {
	Draft  expensebot.Draft // ID 0: no draft; Problem says why
	Fresh  bool             // made by this request (false: a redelivery found it)
	Posted bool             // its message is already in the DM (a redelivery after it was posted)
	// Problem says, in words for the person who posted the file, why no draft was made: the file
	// is of the wrong type or too large, could not be read, or is not a receipt. They are then
	// offered the form to type the expense.
	Problem string
	// NotReceipt is true when what was posted is not a receipt at all (a photo of a cat).
	NotReceipt bool
}

// DraftsOn reports whether receipts posted in the DM are drafted: a draft store and the files
// are configured.
func (s *Service) DraftsOn() bool { return s.cfg.Drafts != nil && s.cfg.Files != nil }

// StartDraft reads the receipt of req and keeps a draft of the expense it shows. A request seen
// before (a redelivered event) reads nothing again: it returns the draft it made, or nothing when
// that draft has ended since. A file refused, unreadable or not a receipt gives a Problem and no
// draft; only a failure of the platform or the database is an error.
func (s *Service) StartDraft(ctx context.Context, req DraftRequest) (DraftOutcome, error) {
	out, err := s.startDraft(ctx, req)
	if err != nil || out.Problem == "" || s.cfg.Drafts == nil {
		return out, err
	}
	// Refused: remembered as a draft key is, so that a redelivery neither reads the file again nor
	// says it twice.
	first, err := s.cfg.Drafts.FirstSeen(ctx, "draft:"+req.Key)
	if err != nil {
		s.log.Warn("remember a refused receipt", "key", req.Key, "err", err)
	} else if !first {
		return DraftOutcome{}, nil
	}
	return out, nil
}

func (s *Service) startDraft(ctx context.Context, req DraftRequest) (DraftOutcome, error) {
	if !s.DraftsOn() {
		return DraftOutcome{Problem: "Receipts cannot be read here; please type the expense in the form."}, nil
	}
	d, seen, live, err := s.cfg.Drafts.DraftSeen(ctx, req.Key)
	if err != nil {
		return DraftOutcome{}, fmt.Errorf("approval: draft %s: %w", req.Key, err)
	}
	if seen {
		return DraftOutcome{Draft: d, Posted: live && d.MessageTS != ""}, nil
	}
	f, err := s.cfg.Files.FetchReceipt(ctx, req.FileID, receipt.MaxSize, receipt.CheckFile)
	if err == nil {
		f.Size = int64(len(f.Content))
		err = receipt.CheckFile(f.Receipt) // checked again on what arrived
	}
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return DraftOutcome{}, fmt.Errorf("approval: fetch receipt %s for a draft: %w", req.FileID, err)
		}
		return DraftOutcome{Problem: expensebot.ErrorMessage(err)}, nil
	}
	sum := sha256.Sum256(f.Content)
	f.SHA256, f.AddedBy, f.AddedAt = hex.EncodeToString(sum[:]), req.User, s.Now()
	rd := s.readFacts(ctx, f)
	if rd.Error != "" {
		return DraftOutcome{Problem: fmt.Sprintf("I could not read %s (%s).", name(f.Receipt), rd.Error)}, nil
	}
	switch fs := rd.Facts; {
	case fs.IsReceipt != nil && !*fs.IsReceipt:
		return DraftOutcome{NotReceipt: true, Problem: fmt.Sprintf("%s does not look like a receipt, so I did not draft an expense from it.", name(f.Receipt))}, nil
	case !fs.Readable || fs.Confidence < receipt.MinConfidence:
		return DraftOutcome{Problem: fmt.Sprintf("I could not read the total on %s clearly enough to draft it.", name(f.Receipt))}, nil
	}
	f.Reading = rd
	d, err = s.suggest(req, f.Receipt)
	if err != nil {
		return DraftOutcome{Problem: fmt.Sprintf("What I read on %s cannot be an expense as it is: %s", name(f.Receipt), expensebot.ErrorMessage(err))}, nil
	}
	saved, created, err := s.cfg.Drafts.CreateDraft(ctx, req.Key, d)
	if err != nil {
		return DraftOutcome{}, fmt.Errorf("approval: keep draft: %w", err)
	}
	if created {
		s.log.Info("receipt drafted", "draft_id", saved.ID, "user_id", req.User, "model", rd.Model, "latency_ms", rd.LatencyMS)
		s.homes.Mark(req.User)
	}
	return DraftOutcome{Draft: saved, Fresh: created, Posted: !created && saved.MessageTS != ""}, nil
}

func name(r expensebot.Receipt) string {
	if n := expensebot.Truncate(r.Name, 80); n != "" {
		return n
	}
	return "that file"
}

// readFacts has the receipt read, facts only: nothing the person typed goes with it.
func (s *Service) readFacts(ctx context.Context, f ReceiptFile) *expensebot.ReceiptReading {
	if s.cfg.Reader == nil {
		return &expensebot.ReceiptReading{Error: "no vision model is configured"}
	}
	if len(f.Image) == 0 {
		return &expensebot.ReceiptReading{Error: "there is no image of this file to read"}
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	rd, err := s.cfg.Reader.Read(ctx, f.Image, f.ImageType)
	if rd == nil {
		rd = &expensebot.ReceiptReading{Error: "the reader gave no answer"}
	}
	if err != nil && rd.Error == "" {
		rd.Error = "the reader failed"
	}
	if err != nil {
		s.log.Warn("receipt for a draft not read", "file", f.FileID, "err", err)
	}
	return rd
}

// suggest makes the draft of the expense the receipt r shows, checked as a typed expense is: the
// total parsed as an amount in a known currency, the date within the window, the text clean.
func (s *Service) suggest(req DraftRequest, r expensebot.Receipt) (expensebot.Draft, error) {
	now := s.Now()
	fs := r.Reading.Facts
	cur := strings.ToUpper(strings.TrimSpace(fs.Currency))
	if cur == "" {
		cur = s.Currency()
	}
	amount, err := expensebot.ParseMoney(strings.TrimSpace(fs.Total)+" "+cur, s.Currency())
	if err != nil {
		return expensebot.Draft{}, err
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if fs.Date != "" {
		if day, err = time.Parse(time.DateOnly, fs.Date); err != nil {
			return expensebot.Draft{}, expensebot.Errorf(expensebot.EINVALID, "the date %q is not a date.", expensebot.Truncate(fs.Date, 20))
		}
	}
	merchant := strings.TrimSpace(fs.Merchant)
	if expensebot.CheckText("merchant", merchant, false) != nil || !expensebot.Visible(merchant) {
		merchant = "" // printed text that is no clean line is not repeated
	}
	merchant = expensebot.Truncate(merchant, 80)
	desc := "Receipt"
	if merchant != "" {
		desc = "Receipt from " + merchant
	}
	d := expensebot.Draft{UserID: req.User, TeamID: req.Team, Channel: req.Channel, Receipt: r, Amount: amount, Merchant: merchant,
		Category: SuggestCategory(merchant), Description: desc, IncurredOn: day, ExpiresAt: now.Add(s.draftTTL())}
	e := d.Expense()
	if err := e.Validate(now); err != nil {
		return expensebot.Draft{}, err
	}
	if err := expensebot.CheckText("description", desc, false); err != nil {
		return expensebot.Draft{}, err
	}
	return d, nil
}

func (s *Service) draftTTL() time.Duration {
	if s.cfg.DraftTTL > 0 {
		return s.cfg.DraftTTL
	}
	return DefaultDraftTTL
}

// categoryWords suggest a category from words in a merchant's name; the owner can change it.
var categoryWords = []struct {
	category string
	words    []string
}{
	{"transport", []string{"taxi", "cab", "uber", "lyft", "rail", "train", "bahn", "metro", "bus", "parking", "fuel", "shell"}},
	{"travel", []string{"air", "airline", "flight", "lufthansa", "travel"}},
	{"lodging", []string{"hotel", "inn", "hostel", "motel", "lodge", "airbnb", "suites"}},
	{"meals", []string{"restaurant", "cafe", "café", "coffee", "bistro", "pizza", "bar", "grill", "kitchen", "diner", "bakery"}},
	{"software", []string{"software", "github", "adobe", "atlassian", "jetbrains", "cloud"}},
	{"office", []string{"office", "staples", "paper", "depot"}},
	{"equipment", []string{"electronics", "apple store", "computer", "hardware"}},
	{"training", []string{"academy", "course", "training", "conference", "udemy"}},
}

// SuggestCategory guesses the category of an expense from its merchant's name, by code: "other"
// when no word says.
func SuggestCategory(merchant string) string {
	m := " " + strings.ToLower(merchant) + " "
	for _, c := range categoryWords {
		for _, w := range c.words {
			if strings.Contains(m, " "+w+" ") || strings.Contains(m, " "+w) && len(w) > 4 {
				return c.category
			}
		}
	}
	return "other"
}

// DraftPosted records where the draft's message is, so that its buttons' outcome replaces it.
func (s *Service) DraftPosted(ctx context.Context, id int64, ts string) error {
	if s.cfg.Drafts == nil {
		return nil
	}
	return s.cfg.Drafts.SetDraftMessage(ctx, id, ts)
}

// Draft returns user's draft id: ENOTFOUND once it ended, EFORBIDDEN when it is someone else's.
func (s *Service) Draft(ctx context.Context, user string, id int64) (expensebot.Draft, error) {
	if s.cfg.Drafts == nil {
		return expensebot.Draft{}, expensebot.Errorf(expensebot.ENOTFOUND, "There are no drafts here.")
	}
	d, err := s.cfg.Drafts.Draft(ctx, id)
	if err != nil {
		return d, err
	}
	if d.UserID != user {
		return expensebot.Draft{}, expensebot.Errorf(expensebot.EFORBIDDEN, "Draft #%d is not yours.", id)
	}
	return d, nil
}

// Drafts lists user's drafts, for their App Home.
func (s *Service) Drafts(ctx context.Context, user string) ([]expensebot.Draft, error) {
	if s.cfg.Drafts == nil {
		return nil, nil
	}
	return s.cfg.Drafts.Drafts(ctx, user)
}

// SubmitDraft submits user's draft id as an expense: as drafted, or with the fields of edit
// (amount, category, description, date) when edit is not nil. The expense carries the draft's
// receipt, already checked and read: its reading is compared with the claim by code, and nothing
// is read again. It then goes through Submit like any other expense: the same policy, controls and
// duplicate checks. Submitting twice gives the same expense. Returns the expense, whether this
// call created it, and EINVALID, EFORBIDDEN or ENOTFOUND (the draft ended) as Submit and Draft do.
func (s *Service) SubmitDraft(ctx context.Context, user string, id int64, edit *expensebot.Expense) (expensebot.Expense, bool, error) {
	d, err := s.Draft(ctx, user, id)
	if err != nil {
		return expensebot.Expense{}, false, err
	}
	e := d.Expense()
	if edit != nil {
		e.Amount, e.Category, e.Description, e.IncurredOn = edit.Amount, edit.Category, edit.Description, edit.IncurredOn
	}
	e.IdempotencyKey = fmt.Sprintf("draft:%d", d.ID)
	r := d.Receipt
	if r.Reading != nil {
		rd := *r.Reading
		rd.Check = receipt.Compare(e, rd.Facts, s.toHome)
		r.Reading = &rd
	}
	r.ExpenseID = 0
	e.Receipts = []expensebot.Receipt{r}
	saved, created, err := s.Submit(ctx, e)
	if err != nil {
		return saved, false, err
	}
	if _, ended, err := s.cfg.Drafts.EndDraft(ctx, d.ID, expensebot.EventDraftSubmitted, user, map[string]any{"expense_id": saved.ID, "edited": edit != nil}); err != nil {
		// The expense is saved; the draft stays listed until it expires, and a second click
		// finds the same expense.
		s.log.Error("end submitted draft", "draft_id", d.ID, "expense_id", saved.ID, "err", err)
	} else if ended {
		s.homes.Mark(user)
	}
	return saved, created, nil
}

// DiscardDraft removes user's draft id: only its audit trail remains. ENOTFOUND when it ended
// already, EFORBIDDEN when it is someone else's.
func (s *Service) DiscardDraft(ctx context.Context, user string, id int64) (expensebot.Draft, error) {
	d, err := s.Draft(ctx, user, id)
	if err != nil {
		return d, err
	}
	d, ended, err := s.cfg.Drafts.EndDraft(ctx, id, expensebot.EventDraftDiscarded, user, nil)
	if err != nil {
		return d, fmt.Errorf("approval: discard draft %d: %w", id, err)
	}
	if !ended {
		return d, expensebot.Errorf(expensebot.ENOTFOUND, "Draft #%d is gone: it was submitted, discarded or expired.", id)
	}
	s.log.Info("draft discarded", "draft_id", id, "user_id", user)
	s.homes.Mark(user)
	return d, nil
}

// expireDrafts ends the drafts whose time ran out, each once whichever instance looks, and tells
// their owners. It returns how many it ended.
func (s *Service) expireDrafts(ctx context.Context) (int, error) {
	if s.cfg.Drafts == nil {
		return 0, nil
	}
	due, err := s.cfg.Drafts.DueDrafts(ctx, s.Now(), timerBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		ended, ok, err := s.cfg.Drafts.EndDraft(ctx, d.ID, expensebot.EventDraftExpired, expensebot.ActorSystem, map[string]any{"expires_at": d.ExpiresAt})
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		n++
		s.log.Info("draft expired", "draft_id", d.ID, "user_id", d.UserID)
		s.homes.Mark(d.UserID)
		if s.cfg.DraftNotices != nil {
			if err := s.cfg.DraftNotices.DraftExpired(ctx, ended); err != nil {
				s.log.Warn("tell of an expired draft", "draft_id", d.ID, "err", err)
			}
		}
	}
	return n, nil
}
