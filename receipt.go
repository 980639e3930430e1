package expensebot

import "time"

// Receipt is one file attached to an expense as evidence: described by the platform it came
// from, checked on our side (type and size), identified by the SHA-256 of its bytes, and read by a
// vision model when one is configured. The file itself stays where it was uploaded.
type Receipt struct {
	ExpenseID int64
	FileID    string // the platform's file id (Slack: F…)
	Name      string
	Filetype  string // the platform's type, e.g. pdf, png, jpg
	Mimetype  string
	Size      int64
	SHA256    string // hex SHA-256 of the bytes as downloaded
	AddedBy   string // who attached it
	AddedAt   time.Time
	Reading   *ReceiptReading // what was read on it and how it compares with the claim; nil: not read
	Duplicate *DuplicateReceipt
}

// DuplicateReceipt is an earlier expense that carries a receipt with the same bytes.
type DuplicateReceipt struct {
	ExpenseID       int64  `json:"expense_id"`
	ReviewChannel   string `json:"review_channel,omitempty"`
	ReviewMessageTS string `json:"review_message_ts,omitempty"`
}

// ReceiptFacts are the facts a model read on a receipt, and nothing else: no advice, no decision.
type ReceiptFacts struct {
	Readable   bool    `json:"readable"`
	Merchant   string  `json:"merchant"`
	Date       string  `json:"date"`     // YYYY-MM-DD, or "" when none is printed
	Total      string  `json:"total"`    // the amount paid as printed, e.g. "118.40"
	Currency   string  `json:"currency"` // ISO 4217, or "" when the receipt does not say
	Confidence float64 `json:"confidence"`
	// IsReceipt is false when the image is no receipt at all (a photo of a cat); nil when the
	// reader did not say (readings from before it was asked).
	IsReceipt *bool `json:"is_receipt,omitempty"`
}

// ReceiptReading is one reading of a receipt by a model (or the sandbox's offline extractor) and
// the comparison of its facts with the claim, made by code.
type ReceiptReading struct {
	Facts            ReceiptFacts `json:"facts"`
	Model            string       `json:"model,omitempty"`
	PromptVersion    string       `json:"prompt_version,omitempty"`
	LatencyMS        int64        `json:"latency_ms"`
	PromptTokens     int          `json:"prompt_tokens,omitempty"`
	CompletionTokens int          `json:"completion_tokens,omitempty"`
	Offline          bool         `json:"offline,omitempty"` // the sandbox's offline extractor, not a model
	Error            string       `json:"error,omitempty"`   // why there are no facts: the call failed, or no model could look
	Check            ReceiptCheck `json:"check"`
}

// ReceiptCheck is what comparing a receipt's facts with the claim found.
type ReceiptCheck struct {
	Outcome  string   `json:"outcome"`            // one of the Receipt… outcomes
	Total    Money    `json:"total"`              // the total read, Minor 0 when none could be used
	Problems []string `json:"problems,omitempty"` // each mismatch, in words for a reviewer
}

// Outcomes of a receipt check. Only ReceiptMatch lets an expense be approved automatically.
const (
	ReceiptMatch      = "match"      // total, date and currency agree with the claim
	ReceiptMismatch   = "mismatch"   // the receipt says something else: see Problems
	ReceiptUnreadable = "unreadable" // the model could not read it, or was not sure enough
	ReceiptFailed     = "failed"     // the call to the model failed
	ReceiptUnchecked  = "unchecked"  // no vision model is configured: a person compares it
)

// Audit events of receipts.
const (
	EventReceiptAdded = "receipt_added" // a file was checked and attached: id, name, type, size, hash
	EventReceiptRead  = "receipt_read"  // the facts read on it, the model, its latency and tokens
)

// NoticeShareReceipt puts a receipt (Notice.Text names the file) where reviewers can open it: the
// approval card's thread.
const NoticeShareReceipt = "share_receipt"

// FlagDuplicateReceipt marks an expense whose receipt is already on another expense.
const FlagDuplicateReceipt = "duplicate_receipt"
