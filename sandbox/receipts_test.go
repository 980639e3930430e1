package sandbox

import (
	"context"
	"io/fs"
	"testing"
)

// TestSamples guards the offline extractor against samples redrawn by receipts/gen.go without
// their hashes updated: every shipped sample is listed, small, and the two with facts are read.
func TestSamples(t *testing.T) {
	files, _ := fs.Glob(samples, "receipts/*.png")
	got := Samples()
	if len(got) != len(files) || len(got) != len(sampleOrder) {
		t.Fatalf("Samples() = %d, shipped %d, sampleOrder %d", len(got), len(files), len(sampleOrder))
	}
	read := 0
	for _, s := range got {
		if len(s.content) > 30<<10 {
			t.Errorf("%s is %d bytes; keep samples under 30 KB", s.Name, len(s.content))
		}
		rd, err := OfflineReceipts{}.Read(context.Background(), s.content, "image/png")
		if err != nil || !rd.Offline || rd.Model != OfflineReceiptModel {
			t.Fatalf("Read(%s) = %+v, %v; want an offline reading", s.Name, rd, err)
		}
		if rd.Facts.Readable {
			read++
		}
	}
	if read != len(sampleFacts) {
		t.Errorf("%d samples read, want %d: did gen.go change them? update sampleFacts", read, len(sampleFacts))
	}
	rd, _ := OfflineReceipts{}.Read(context.Background(), []byte("\x89PNG other"), "image/png")
	if rd.Facts.Readable || !rd.Offline {
		t.Errorf("an unknown image read as %+v; want unreadable, offline", rd)
	}
}
