package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium (or KEYWAY_CHROMIUM). Without it the
// browser tests skip locally and fail in CI, where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("KEYWAY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is missing: the browser tests need /usr/bin/chromium (.ci/run installs it with apt-get install chromium)")
	}
	t.Skip("Chromium not found: install it (apt-get install chromium) or set KEYWAY_CHROMIUM to run the browser tests")
	return ""
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	// node is the keyway the browser talks to, when a test needs to send
	// data-plane traffic between pages.
	node *node
	// shots is where screenshots go: docs/screenshots under
	// `make screenshots`, else a temp dir (they are still taken, so the
	// code that takes them is tested).
	shots string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv("KEYWAY_SCREENSHOTS")}
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	return b
}

// stepTimeout bounds one step, so a page that never shows what a step
// waits for fails the test quickly with a screenshot.
const stepTimeout = 20 * time.Second

// run performs actions, failing the test with what step was running.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.failed(step, err)
	}
}

// failed saves what the browser showed, for the person reading the log.
func (b *browser) failed(step string, err error) {
	b.t.Helper()
	if png, perr := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); perr == nil {
		_ = os.WriteFile(filepath.Join(b.shots, "failure.png"), png, 0o644)
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("%s (at %s; screenshot failure.png in %s): %v", step, loc, b.shots, err)
}

// get runs one action that answers a value.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failed(step, err)
	}
	return v
}

// eval evaluates a JavaScript expression (awaiting a promise).
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return get(b, "evaluate "+expr, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// shot saves a full-page PNG as <name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	eval[float64](b, `document.documentElement.scrollTop = 0`) // a sticky sidebar follows the scroll
	b.save(name, get(b, "screenshot "+name, chromedp.FullScreenshot(100)))
}

// shotViewport saves what the window shows (for open dialogs, whose
// backdrop covers the window only).
func (b *browser) shotViewport(name string) {
	b.t.Helper()
	b.save(name, get(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

func (b *browser) save(name string, png []byte) {
	b.t.Helper()
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		b.t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// location is the current URL's path and query.
func (b *browser) location() string {
	b.t.Helper()
	return strings.TrimPrefix(get(b, "location", chromedp.Location()), b.base)
}

// text is the visible text of the first node matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// value is the value of the input matching sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// html is the whole document as the browser has it.
func (b *browser) html() string {
	b.t.Helper()
	return get(b, "page source", chromedp.OuterHTML(chromedp.CSS("html")))
}
