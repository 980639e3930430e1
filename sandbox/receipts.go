package sandbox

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"

	"github.com/expensebot/expensebot"
)

// samples are the receipts shipped with the sandbox, drawn by receipts/gen.go.
//
//go:embed receipts/*.png
var samples embed.FS

// OfflineReceiptModel names the offline extractor in the audit trail, as policy.OfflineModel
// names the offline assessor.
const OfflineReceiptModel = "offline-receipts-v1"

// Sample is a receipt shipped with the sandbox, offered on the page to attach with one click.
type Sample struct {
	Name    string `json:"name"`
	Note    string `json:"note"` // what attaching it shows, for the page
	content []byte
}

// sampleFacts are what the offline extractor "reads" on each sample, known by SHA-256: the
// sandbox has no model to look at pictures. The receipts print no date on purpose: a fixed date
// would fall outside the claim's window a week after it was drawn, and a receipt without a date
// is not a mismatch. A sample not listed here (smudged.png) cannot be read, like any other file.
var sampleFacts = map[string]struct {
	facts expensebot.ReceiptFacts
	note  string
}{
	"b4f444e5af8ba478657fc6cc64fc0a3f2725a7f2cda13efb45c5ba1fe00c8954": { // taxi-118.40-usd.png
		expensebot.ReceiptFacts{Readable: true, Merchant: "City Cab Co", Total: "118.40", Currency: "USD", Confidence: 0.95},
		"118.40 USD: matches /expense 120 Taxi to airport"},
	"d0a95042168c541948d069e4ac5f3981950a8d6c3313f87f2deff0bc90feeaf0": { // hotel-80.00-usd.png
		expensebot.ReceiptFacts{Readable: true, Merchant: "Harbor Inn", Total: "80.00", Currency: "USD", Confidence: 0.93},
		"80.00 USD: does not match a claim of 120"},
}

// sampleOrder is the order the page offers the samples in: the one that matches first.
var sampleOrder = []string{"taxi-118.40-usd.png", "hotel-80.00-usd.png", "smudged.png"}

// Samples lists the shipped receipts, in sampleOrder.
func Samples() []Sample {
	out := make([]Sample, 0, len(sampleOrder))
	for _, n := range sampleOrder {
		b, err := samples.ReadFile("receipts/" + n)
		if err != nil {
			continue // gen.go was changed without sampleOrder: TestSamples says so
		}
		s := Sample{Name: n, Note: "cannot be read: a person compares it with the claim", content: b}
		if f, ok := sampleFacts[sum(b)]; ok {
			s.Note = f.note
		}
		out = append(out, s)
	}
	return out
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// OfflineReceipts is the sandbox's stand-in for a vision model, used when no OPENAI_API_KEY is
// set: it knows the shipped sample receipts by their bytes and returns their facts; any other
// image cannot be read (Readable false), and a person compares it with the claim. Every reading
// is marked Offline, so that messages say it was not a model. It implements
// approval.ReceiptReader.
type OfflineReceipts struct{}

// Read returns the facts of a known sample, or an unreadable reading. It never fails.
func (OfflineReceipts) Read(_ context.Context, image []byte, _ string) (*expensebot.ReceiptReading, error) {
	rd := &expensebot.ReceiptReading{Model: OfflineReceiptModel, PromptVersion: "offline", Offline: true}
	if f, ok := sampleFacts[sum(image)]; ok {
		rd.Facts = f.facts
	}
	return rd, nil
}
