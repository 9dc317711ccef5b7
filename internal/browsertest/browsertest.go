// Package browsertest opens pages in a real browser for tests: Debian's Chromium, headless,
// driven by chromedp. A missing browser fails the test with how to install it; it never skips.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Paths where Chromium is looked for, after $CHROMIUM.
var paths = []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"}

// New starts a headless Chromium for the test and returns a browser context (a tab), cancelled
// when the test ends. Pages load from file:// URLs; the browser makes no other connection.
func New(t *testing.T) context.Context {
	t.Helper()
	bin := os.Getenv("CHROMIUM")
	if bin == "" {
		for _, p := range paths {
			if found, err := exec.LookPath(p); err == nil {
				bin = found
				break
			}
		}
	}
	if bin == "" {
		t.Fatal("no Chromium to check the HTML reports in: install it (Debian: apt-get install chromium; .ci/run does) or set CHROMIUM to its path")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as ctx (no timeout on it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return tctx
}
