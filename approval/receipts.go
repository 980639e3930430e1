package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/receipt"
)

// ReceiptFile is a receipt as fetched from where it was uploaded.
type ReceiptFile struct {
	expensebot.Receipt        // FileID, Name, Filetype, Mimetype and Size as the platform describes the file
	Content            []byte // the file's bytes
	Image              []byte // what a vision model is shown: the file when it is a picture, else the platform's image of its first page; nil when there is none
	ImageType          string // the image's content type
}

// ReceiptFiles fetches receipt files from the platform people upload them to, and shows them to
// reviewers (*handlers.Messenger does both, in Slack).
type ReceiptFiles interface {
	// FetchReceipt describes file id and calls check with that description before it downloads
	// anything: check's error is returned as it is. The download stops past max bytes.
	FetchReceipt(ctx context.Context, id string, max int64, check func(expensebot.Receipt) error) (ReceiptFile, error)
	// ShareReceipt puts receipt r of e where e's reviewers can open it: the card's thread.
	ShareReceipt(ctx context.Context, e expensebot.Expense, r expensebot.Receipt) error
}

// ReceiptReader reads the facts on a receipt image: a vision model, or the sandbox's offline
// extractor. Like an Assessor it always returns a reading; on failure it carries Error.
type ReceiptReader interface {
	Read(ctx context.Context, image []byte, mime string) (*expensebot.ReceiptReading, error)
}

// readTimeout bounds the reading of one receipt when the reader sets no limit of its own.
const readTimeout = 30 * time.Second

// AttachReceipts checks, keeps and reads the files user attached to their expense id, then routes
// it again: an expense that waited only for its receipt may now be approved automatically, one with
// a reviewer has its card redrawn and the receipt put in its thread. Every file is checked before
// any is kept: one of the wrong type or too large refuses them all (EINVALID, saying which and
// why), and nothing is stored. Returns EFORBIDDEN when user is not the submitter, ENOTFOUND, or an
// internal error (the platform or the database failed).
func (s *Service) AttachReceipts(ctx context.Context, user string, id int64, files []string) (expensebot.Expense, error) {
	if s.cfg.Files == nil {
		return expensebot.Expense{}, expensebot.Errorf(expensebot.EINTERNAL, "Receipts cannot be attached here.")
	}
	e, err := s.store.Expense(ctx, id)
	if err != nil {
		return e, err
	}
	if e.SubmitterID != user {
		return e, expensebot.Errorf(expensebot.EFORBIDDEN, "Only the person who submitted expense #%d can attach its receipt.", id)
	}
	var fresh []string
	for _, f := range files {
		if f != "" && !slices.ContainsFunc(e.Receipts, func(r expensebot.Receipt) bool { return r.FileID == f }) && !slices.Contains(fresh, f) {
			fresh = append(fresh, f)
		}
	}
	if len(e.Receipts)+len(fresh) > receipt.MaxFiles {
		return e, expensebot.Errorf(expensebot.EINVALID, "An expense can carry at most %d receipts; #%d has %d.", receipt.MaxFiles, id, len(e.Receipts))
	}
	got, err := s.fetchAll(ctx, e, fresh)
	if err != nil {
		return e, err
	}
	e, err = s.store.AddReceipts(ctx, id, got, user)
	if err != nil {
		return e, err
	}
	s.log.Info("receipts attached", "expense_id", id, "user_id", user, "files", len(got))
	s.homes.Mark(e.SubmitterID)
	s.kick()
	return s.reroute(ctx, e)
}

// fetchAll fetches, checks, hashes and reads files for e, all or none.
func (s *Service) fetchAll(ctx context.Context, e expensebot.Expense, files []string) ([]expensebot.Receipt, error) {
	fetched := make([]ReceiptFile, 0, len(files))
	for _, id := range files {
		f, err := s.cfg.Files.FetchReceipt(ctx, id, receipt.MaxSize, receipt.CheckFile)
		if err != nil {
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
				return nil, fmt.Errorf("approval: fetch receipt %s of expense %d: %w", id, e.ID, err)
			}
			return nil, err
		}
		// Checked again on what arrived: a description can be wrong, the bytes cannot.
		f.Size = int64(len(f.Content))
		if err := receipt.CheckFile(f.Receipt); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(f.Content)
		f.SHA256 = hex.EncodeToString(sum[:])
		fetched = append(fetched, f)
	}
	out := make([]expensebot.Receipt, len(fetched))
	for i, f := range fetched {
		r := f.Receipt
		r.Reading = s.read(ctx, e, f)
		out[i] = r
	}
	return out, nil
}

// read has the receipt read and compares what was read with the claim.
func (s *Service) read(ctx context.Context, e expensebot.Expense, f ReceiptFile) *expensebot.ReceiptReading {
	if s.cfg.Reader == nil {
		return &expensebot.ReceiptReading{Error: "no vision model is configured", Check: expensebot.ReceiptCheck{Outcome: expensebot.ReceiptUnchecked}}
	}
	if len(f.Image) == 0 {
		return &expensebot.ReceiptReading{Error: "there is no image of this file to read",
			Check: expensebot.ReceiptCheck{Outcome: expensebot.ReceiptUnreadable, Problems: []string{"there is no image of the file to read"}}}
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	start := time.Now()
	rd, err := s.cfg.Reader.Read(ctx, f.Image, f.ImageType)
	if rd == nil {
		rd = &expensebot.ReceiptReading{Error: "the reader gave no answer"}
	}
	if err != nil || rd.Error != "" {
		s.log.Warn("receipt not read; a person will compare it", "expense_id", e.ID, "err", err, "latency_ms", time.Since(start).Milliseconds())
		rd.Check = expensebot.ReceiptCheck{Outcome: expensebot.ReceiptFailed}
		return rd
	}
	rd.Check = receipt.Compare(e, rd.Facts, s.toHome)
	s.log.Info("receipt read", "expense_id", e.ID, "model", rd.Model, "latency_ms", rd.LatencyMS, "outcome", rd.Check.Outcome)
	return rd
}

// toHome converts for the receipt comparison, when both sides can be.
func (s *Service) toHome(m expensebot.Money) (expensebot.Money, bool) {
	h, _ := s.convert(m)
	return h, h.Minor > 0
}

// reroute applies the policy again to e after its receipts changed: a pending expense with no
// approval yet is approved automatically if every rule now agrees, else its approvals required,
// findings, reasons and card are brought up to date (one that a reviewer has approved keeps
// needing a second: the store sees to it). An expense not yet routed is left to its assessment,
// which reads the receipts; a decided one keeps its decision.
func (s *Service) reroute(ctx context.Context, e expensebot.Expense) (expensebot.Expense, error) {
	if !e.Status.Info().Reviewers.Has(expensebot.ActDecide) {
		return e, nil
	}
	// The amount as converted when it was routed; the finance controls look again at the
	// submitter's other expenses, and fail closed when they cannot.
	h, err := s.history(ctx, e)
	r := policy.Decide(e, e.Assessment, h, s.rules().settings.Rules)
	if err != nil {
		s.log.Error("finance controls: read history; a person will decide", "expense_id", e.ID, "err", err)
		r.AutoApprove = false
		r.Reasons = append(r.Reasons, "the finance checks could not read the submitter's other expenses, so a person decides")
	}
	if r.AutoApprove {
		// A reviewer who asked a question or commented is waiting for a person's decision, not
		// the policy's: the receipt goes back to them. Unreadable events fail closed too.
		events, err := s.store.Events(ctx, e.ID)
		switch {
		case err != nil:
			s.log.Error("read audit trail before re-routing; a person will decide", "expense_id", e.ID, "err", err)
			r.AutoApprove = false
			r.Reasons = []string{"the expense's history could not be read, so a person decides"}
		case expensebot.ReviewerEngaged(e, events):
			r.AutoApprove = false
			r.Reasons = []string{"a reviewer asked about or commented on it, so a person decides now that the receipt is here"}
		}
	}
	if r.AutoApprove {
		r.SpotCheck = s.drawSpotCheck()
	}
	r.Version = s.rules().version
	routed, changed, err := s.store.Reroute(ctx, e.ID, e.ReviewReasons, r)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.ECONFLICT {
			return routed, nil // decided meanwhile: the decision stands, the receipt is kept
		}
		return routed, err
	}
	if changed {
		s.log.Info("expense re-routed after a receipt", "expense_id", e.ID, "status", routed.Status)
		s.cfg.Observer.Outcome(string(routed.Status))
		s.kick()
		s.homes.Mark(routed.SubmitterID)
		s.homes.MarkReviewers()
	}
	return routed, nil
}

// intake checks, keeps and reads the receipts a submission carried (the form's file input) before
// the expense is routed, and returns e with what was kept. A file refused here (wrong type, too
// large, gone) is dropped with a warning: the expense then goes on without it, and the policy asks
// for a receipt where one is required.
func (s *Service) intake(ctx context.Context, e expensebot.Expense) expensebot.Expense {
	if s.cfg.Files == nil {
		return e
	}
	if len(e.ReceiptFileIDs) == 0 {
		// Nothing to load: a receipt attached since e was read makes the route refuse to be
		// recorded (ErrNewReceipts), and the expense is assessed again with it.
		return e
	}
	// Loaded, not taken from e: a receipt attached while the expense waited for its assessment is
	// in the table before it is in a copy of e made earlier.
	kept, err := s.store.Receipts(ctx, e.ID)
	if err != nil {
		s.log.Error("load receipts", "expense_id", e.ID, "err", err)
		return e
	}
	missing := slices.ContainsFunc(e.ReceiptFileIDs, func(id string) bool {
		return !slices.ContainsFunc(kept, func(r expensebot.Receipt) bool { return r.FileID == id })
	})
	if !missing {
		// The list stays as read: the route is recorded only while the expense's list is still
		// this one.
		e.Receipts = kept
		return e
	}
	var got []expensebot.Receipt
	for _, id := range e.ReceiptFileIDs {
		if slices.ContainsFunc(kept, func(r expensebot.Receipt) bool { return r.FileID == id }) {
			continue
		}
		rs, err := s.fetchAll(ctx, e, []string{id})
		if err != nil {
			var lvl = s.log.Warn
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL && !errors.Is(err, context.Canceled) {
				lvl = s.log.Error
			}
			lvl("receipt refused at submission", "expense_id", e.ID, "file", id, "err", err)
			continue
		}
		got = append(got, rs...)
	}
	saved, err := s.store.AddReceipts(ctx, e.ID, got, e.SubmitterID)
	if err != nil {
		s.log.Error("keep receipts", "expense_id", e.ID, "err", err)
		return e
	}
	e.ReceiptFileIDs, e.Receipts = saved.ReceiptFileIDs, saved.Receipts
	return e
}
