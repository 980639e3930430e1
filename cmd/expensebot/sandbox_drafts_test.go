package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSandboxDraftInBrowser: in the DM with the bot, dropping a sample receipt drafts an expense
// from it (read by the offline extractor), with Submit, Edit and Discard; Submit submits it with
// the receipt attached.
func TestSandboxDraftInBrowser(t *testing.T) {
	exe := chromium(t)
	url := startSandbox(t)
	shots := artifacts(t)
	os.Remove(filepath.Join(shots, "draft-failed.png"))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("user-data-dir", t.TempDir()), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return chromedp.Void{}, err
			}
			return chromedp.Void{}, os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		}
	}
	waitText := func(sel, text string) chromedp.Action[chromedp.Void] {
		return void(chromedp.Poll[bool](`(document.querySelector('`+sel+`') || {innerText: ''}).innerText.includes(`+jsString(text)+`)`, chromedp.WithPollingTimeout(20*time.Second)))
	}
	var drafted, submitted string
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"#user=UALICE&view=DUALICE"),
		chromedp.WaitVisible(`[data-test=dm-drop]`),
		click(`button[data-dm-sample="taxi-118.40-usd.png"]`),
		waitText("#messages", "Draft expense from taxi-118.40-usd.png"),
		chromedp.WaitVisible(`[data-test=reactions]`),
		chromedp.WaitVisible(`button[data-action-id^="draft_submit:"]`),
		into(&drafted, chromedp.Text("#messages")),
		shot("11-receipt-drafted-in-dm"),
		clickLast(`button[data-action-id^="draft_submit:"]`),
		waitText("#messages", "Submitted as #"),
		waitText("#messages", "approved automatically"),
		into(&submitted, chromedp.Text("#messages")),
		shot("12-draft-submitted"),
	)
	if err != nil {
		chromedp.Do(ctx, shot("draft-failed"))
		t.Fatalf("browser: %v (screenshots in %s)", err, shots)
	}
	for _, want := range []string{"City Cab Co", "118.40 USD", "Transport", "Submit", "Edit", "Discard", "offline extractor"} {
		if !strings.Contains(drafted, want) {
			t.Errorf("the draft lacks %q:\n%s", want, drafted)
		}
	}
	if !strings.Contains(submitted, "receipt attached") {
		t.Errorf("after Submit:\n%s", submitted)
	}
}
