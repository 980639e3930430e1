package handlers

// Receipts: the Attach receipt button and its modal, and the Slack side of receipt files
// (files.info, the download with the bot token, the upload into the card's thread).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/slack-go/slack"
)

// openReceiptForm handles an Attach receipt click: the modal opens at once (the trigger lives
// three seconds); who may attach is checked when the files arrive.
func (a *App) openReceiptForm(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		if _, err := a.slack.OpenViewContext(ctx, trigger, receiptModal(id, w.channel)); err != nil {
			a.log.Warn("open receipt modal", "expense_id", id, "user_id", w.user, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click *Attach receipt* again."))
		}
	}
}

// submitReceipt takes the files of the receipt modal: the ack turns the modal into "Checking…",
// and the work fetches, checks, keeps and reads them, then says in the modal what came of it.
func (a *App) submitReceipt(cb slack.InteractionCallback) (any, Work) {
	var meta decisionMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	var files []string
	if cb.View.State != nil {
		for _, f := range cb.View.State.Values[inReceipt][inReceipt].Files {
			if f.ID != "" {
				files = append(files, f.ID)
			}
		}
	}
	if len(files) == 0 {
		return fieldErrors(map[string]string{inReceipt: "Please add a file: a PDF or a picture of the receipt."}), nil
	}
	if meta.ExpenseID <= 0 || cb.User.ID == "" || cb.View.ID == "" {
		return nil, nil
	}
	user, viewID := cb.User.ID, cb.View.ID
	checking := receiptResultModal(meta.ExpenseID, ":hourglass_flowing_sand: Checking your receipt…", "I'll show the result here.")
	return viewAck{ResponseAction: "update", View: &checking}, func(ctx context.Context) {
		e, err := a.flow.AttachReceipts(ctx, user, meta.ExpenseID, files)
		var result slack.ModalViewRequest
		if err != nil {
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
				a.log.Error("attach receipt", "user_id", user, "expense_id", meta.ExpenseID, "err", err)
			}
			result = receiptResultModal(meta.ExpenseID, ":warning: "+escape(expensebot.ErrorMessage(err)), "Nothing was attached. Fix the file and click *Attach receipt* again.")
		} else {
			result = receiptResultModal(meta.ExpenseID, receiptOutcome(e), "")
		}
		if _, err := a.slack.UpdateViewContext(ctx, result, "", "", viewID); err != nil {
			// The modal was closed: say it in a DM instead.
			a.log.Info("receipt result modal closed; sending a DM", "user_id", user, "err", err)
			a.tell(ctx, where{user: user}, ephemeral(receiptOutcomeText(e, err)))
		}
	}
}

func receiptOutcomeText(e expensebot.Expense, err error) string {
	if e.ID == 0 {
		return ":warning: " + escape(expensebot.ErrorMessage(err))
	}
	return receiptOutcome(e)
}

// FetchReceipt describes file id with files.info, lets check refuse it, then downloads it with the
// bot token, and an image a vision model can see: the file when it is a PNG, JPEG, WebP or GIF,
// else Slack's image of it (thumb_pdf for a PDF's first page, the largest thumbnail otherwise).
func (m *Messenger) FetchReceipt(ctx context.Context, id string, max int64, check func(expensebot.Receipt) error) (approval.ReceiptFile, error) {
	f, _, _, err := m.slack.GetFileInfoContext(ctx, id, 0, 0)
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && (se.Err == "file_not_found" || se.Err == "file_deleted"):
		return approval.ReceiptFile{}, expensebot.Errorf(expensebot.EINVALID, "That file is gone from Slack; please upload it again.")
	case err != nil:
		return approval.ReceiptFile{}, fmt.Errorf("files.info %s: %w", id, err)
	}
	out := approval.ReceiptFile{Receipt: expensebot.Receipt{FileID: id, Name: f.Name, Filetype: f.Filetype, Mimetype: f.Mimetype, Size: int64(f.Size)}}
	if err := check(out.Receipt); err != nil {
		return out, err
	}
	url := f.URLPrivateDownload
	if url == "" {
		url = f.URLPrivate
	}
	if out.Content, err = m.download(ctx, url, max); err != nil {
		return out, err
	}
	switch mt := strings.ToLower(f.Mimetype); mt {
	case "image/png", "image/jpeg", "image/webp", "image/gif":
		out.Image, out.ImageType = out.Content, mt
	default:
		for _, thumb := range []string{f.ThumbPDF, f.Thumb1024, f.Thumb960, f.Thumb720, f.Thumb480} {
			if thumb == "" {
				continue
			}
			if img, err := m.download(ctx, thumb, max); err == nil {
				out.Image, out.ImageType = img, imageType(img)
				break
			}
		}
	}
	return out, nil
}

// download fetches a Slack file URL with the bot token, refusing more than max bytes.
func (m *Messenger) download(ctx context.Context, url string, max int64) ([]byte, error) {
	var buf bytes.Buffer
	w := &limitWriter{w: &buf, n: max}
	if err := m.slack.GetFileContext(ctx, url, w); err != nil {
		if w.over {
			return nil, expensebot.Errorf(expensebot.EINVALID, "That file is larger than %d MB; a receipt may be at most that.", max>>20)
		}
		return nil, fmt.Errorf("download receipt: %w", err)
	}
	return buf.Bytes(), nil
}

// limitWriter fails a write past n bytes, which stops a download that is larger than it said.
type limitWriter struct {
	w    io.Writer
	n    int64
	over bool
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		l.over = true
		return 0, errors.New("file larger than allowed")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// imageType names the content type of a thumbnail by its first bytes.
func imageType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8")):
		return "image/jpeg"
	case len(b) > 12 && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return "image/png"
}

// ShareReceipt uploads the receipt into the approval card's thread (files:write, the external
// upload flow). A file uploaded through a modal's file_input is private to its uploader until it
// is shared, and an app cannot share someone else's file into a channel: so the bot uploads the
// bytes again, as its own file, shared only in the thread of the card.
func (m *Messenger) ShareReceipt(ctx context.Context, e expensebot.Expense, r expensebot.Receipt) error {
	f, _, _, err := m.slack.GetFileInfoContext(ctx, r.FileID, 0, 0)
	if err != nil {
		return m.classify("files.info", err)
	}
	url := f.URLPrivateDownload
	if url == "" {
		url = f.URLPrivate
	}
	content, err := m.download(ctx, url, r.Size+1)
	if err != nil {
		return err
	}
	name := r.Name
	if name == "" {
		name = r.FileID
	}
	_, err = m.slack.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(content), FileSize: len(content), Filename: name,
		Title: fmt.Sprintf("Receipt for expense #%d", e.ID), Channel: e.ReviewChannel, ThreadTimestamp: e.ReviewMessageTS,
	})
	return m.classify("files.completeUploadExternal", err)
}
