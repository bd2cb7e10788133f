package webui_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/drivetest"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/nodes"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// chromiumPath is Debian's chromium, installed by scripts/install-chromium.sh.
const chromiumPath = "/usr/bin/chromium"

// EnvScreenshots names the directory where TestBrowser saves its
// screenshots; unset, it makes a new one under the temporary directory and
// logs its path. It is kept after the test, for a reviewer to look at.
const EnvScreenshots = "CLOUDDRIVE_SCREENSHOTS"

// pngBytes returns a small PNG of one colour with a stripe.
func pngBytes(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 200))
	for y := range 200 {
		for x := range 320 {
			if y/20%3 == 0 {
				img.Set(x, y, color.RGBA{255, 255, 255, 255})
			} else {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// browserTest is one browser driving one server.
type browserTest struct {
	t     *testing.T
	ctx   context.Context // the main tab
	shots string
}

// do runs steps with a time limit, saving a screenshot when they fail.
func (b *browserTest) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		b.shot(ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the tab of ctx.
func eval[T any](b *browserTest, ctx context.Context, expr string) T {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot saves a screenshot of the tab of ctx as name.png.
func (b *browserTest) shot(ctx context.Context, name string) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// screenshotDir returns the directory for screenshots, made once per
// test binary.
var screenshotDir = sync.OnceValues(func() (string, error) {
	if d := os.Getenv(EnvScreenshots); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	return os.MkdirTemp("", "clouddrive-screenshots-")
})

// newBrowser starts headless Chromium for t, or skips t when it is not
// installed (fails it under CI, where the browser tests must run). The browser stops when ctx ends or t ends.
func newBrowser(t *testing.T, ctx context.Context) *browserTest {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must run scripts/install-chromium.sh (scripts/test.sh does)", chromiumPath)
		}
		t.Skipf("%s is missing; run scripts/install-chromium.sh (as root) to run the browser tests", chromiumPath)
	}
	shots, err := screenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 800), chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	// chromedp's complaints (such as events of a popup it has not
	// attached to yet) go to the test log.
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	b := &browserTest{t: t, ctx: tab, shots: shots}
	b.logConsole(tab, "ui")
	return b
}

// logConsole reports uncaught exceptions in the tab of ctx as test
// errors, and logs console errors.
func (b *browserTest) logConsole(ctx context.Context, who string) {
	t := b.t
	_ = chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			t.Errorf("%s: uncaught exception: %s", who, ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, describe(a))
				}
				t.Logf("%s: console.error: %s", who, strings.Join(parts, " "))
			}
		}
	})
}

// newFolder creates a folder in the folder tab shows, through the New
// folder dialog, and waits for its row.
func (b *browserTest) newFolder(tab context.Context, name string) {
	b.do(tab, "new folder "+name,
		click(chromedp.ID("new-folder")),
		chromedp.WaitVisible(chromedp.ID("dlg-input")),
		chromedp.SetValue(chromedp.ID("dlg-input"), name),
		click(chromedp.ID("dlg-ok")),
		chromedp.WaitVisible(chromedp.CSS(row(name))),
	)
}

// signIn opens the server's / and signs in through the OAuth pages.
func (b *browserTest) signIn(server, user, pass string) {
	b.t.Helper()
	b.do(b.ctx, "sign in",
		chromedp.Navigate(server+"/"),
		chromedp.WaitVisible(chromedp.ID("signin-btn")),
		click(chromedp.ID("signin-btn")),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)),
		click(chromedp.CSS(`button[value=approve]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)),
	)
	if loc := eval[string](b, b.ctx, "location.pathname"); loc != "/ui/" {
		b.t.Errorf("after sign-in at %s, want /ui/", loc)
	}
}

// row is the selector of the listing row of the item named name.
func row(name string) string { return fmt.Sprintf(`[role=listitem][data-name=%q]`, name) }

// waitFile waits for a completed download named name in dir.
func waitFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			if _, err := os.Stat(filepath.Join(dir, name+".crdownload")); errors.Is(err, os.ErrNotExist) {
				return b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	es, _ := os.ReadDir(dir)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	t.Fatalf("no download %s in %s (has %v)", name, dir, names)
	return nil
}

// publicGet downloads u without any credentials.
func publicGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBrowser drives the web UI in headless Chromium against a real
// server: sign in through the OAuth pages, create folders, upload two
// images through the file input and see their thumbnails, rename, move,
// trash and restore, download a file and a folder (zip) and compare bytes,
// share a file and fetch the link without a session, and pick a file for
// another site (docs/picker-example.html on another origin) that gets its
// link through postMessage. Screenshots of the main views go to
// $CLOUDDRIVE_SCREENSHOTS.
func TestBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	s := drivetest.New(t, drivetest.Options{})
	const user, pass = "ada", "analytical engine"
	addPasswordUser(t, s, user, pass)
	token := s.Token(user)

	// The third-party site, on another origin, registered as an app.
	example, err := os.ReadFile(filepath.Join("..", "..", "docs", "picker-example.html"))
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(example)
	}))
	defer site.Close()
	app, _, err := (&oauth.Apps{Meta: s.App.Meta, Now: time.Now}).Create(context.Background(), "example site", []string{site.URL + "/oauth/callback"}, true)
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, ctx)
	tab := b.ctx
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(tab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	sunset, sea := pngBytes(t, color.RGBA{230, 120, 40, 255}), pngBytes(t, color.RGBA{30, 90, 200, 255})
	files := t.TempDir()
	for name, data := range map[string][]byte{"sunset.png": sunset, "sea.png": sea} {
		if err := os.WriteFile(filepath.Join(files, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in: / sends a browser to /ui/, which offers the OAuth flow.
	b.signIn(s.URL, user, pass)

	b.newFolder(tab, "Photos")
	b.newFolder(tab, "Archive")

	// Upload two images through the file input into Photos.
	// By keyboard: from Archive down to Photos, Enter opens it.
	b.do(tab, "open Photos",
		focusDown("Archive", "Photos"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#crumbs [aria-current="page"]`)),
		poll(`document.querySelector('#crumbs [aria-current="page"]').textContent === 'Photos'`),
	)
	b.do(tab, "upload",
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{filepath.Join(files, "sunset.png"), filepath.Join(files, "sea.png")}),
		chromedp.WaitVisible(chromedp.CSS(row("sunset.png"))),
		chromedp.WaitVisible(chromedp.CSS(row("sea.png"))),
		poll(`document.body.dataset.uploading === '0'`),
	)
	b.do(tab, "thumbnails",
		chromedp.WaitVisible(chromedp.CSS(row("sunset.png")+` img.thumb-img[src^="blob:"]`)),
		chromedp.WaitVisible(chromedp.CSS(row("sea.png")+` img.thumb-img[src^="blob:"]`)),
		poll(`[...document.querySelectorAll('img.thumb-img')].every(i => i.complete && i.naturalWidth > 0)`),
	)
	b.shot(tab, "01-list-uploads")
	b.do(tab, "grid view",
		click(chromedp.ID("view-grid")),
		chromedp.WaitVisible(chromedp.CSS(`.grid .cell[data-name="sea.png"] img.thumb-img[src^="blob:"]`)),
	)
	b.shot(tab, "02-grid-thumbnails")
	b.do(tab, "list view", click(chromedp.ID("view-list")), chromedp.WaitVisible(chromedp.CSS(`.row[data-name="sea.png"]`)))

	// Rename sea.png to beach.png, then move it to Archive.
	b.do(tab, "rename",
		tick("sea.png"),
		click(chromedp.CSS(`#selbar [data-act=rename]`)),
		chromedp.WaitVisible(chromedp.ID("dlg-input")),
		chromedp.SetValue(chromedp.ID("dlg-input"), "beach.png"),
		click(chromedp.ID("dlg-ok")),
		chromedp.WaitVisible(chromedp.CSS(row("beach.png"))),
	)
	b.do(tab, "move",
		click(chromedp.CSS(`#selbar [data-act=move]`)),
		chromedp.WaitVisible(chromedp.CSS(`.folder-btn[data-name="Archive"]`)),
		click(chromedp.CSS(`.folder-btn[data-name="Archive"]`)),
	)
	b.shot(tab, "03-move-dialog")
	b.do(tab, "move here",
		click(chromedp.ID("move-ok")),
		chromedp.WaitNotPresent(chromedp.CSS(row("beach.png"))),
	)
	a := apiClient{t: t, base: s.URL, token: token}
	moved := a.find("beach.png")
	archive := a.find("Archive")
	if len(moved.Parents) != 1 || moved.Parents[0] != archive.ID {
		t.Errorf("beach.png parents %v, want [%s]", moved.Parents, archive.ID)
	}

	// Trash sunset.png, find it in the trash, restore it.
	b.do(tab, "trash",
		tick("sunset.png"),
		click(chromedp.CSS(`#selbar [data-act=trash]`)),
		chromedp.WaitNotPresent(chromedp.CSS(row("sunset.png"))),
		click(chromedp.ID("nav-trash")),
		chromedp.WaitVisible(chromedp.CSS(row("sunset.png"))),
	)
	b.shot(tab, "04-trash")
	b.do(tab, "restore",
		tick("sunset.png"),
		click(chromedp.CSS(`#selbar [data-act=restore]`)),
		chromedp.WaitNotPresent(chromedp.CSS(row("sunset.png"))),
		click(chromedp.ID("nav-files")),
		listed(),
		chromedp.WaitVisible(chromedp.CSS(row("Photos"))),
		click(chromedp.CSS(row("Photos")+" .name")),
		chromedp.WaitVisible(chromedp.CSS(row("sunset.png"))),
	)

	// Upload sunset.png again: the name conflict offers keep both, replace
	// or skip; keeping both names the new one "sunset (1).png". Then
	// trash the copy.
	b.do(tab, "upload conflict",
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{filepath.Join(files, "sunset.png")}),
		chromedp.WaitVisible(chromedp.ID("conflict-rename")),
	)
	b.shot(tab, "05-upload-conflict")
	b.do(tab, "keep both",
		click(chromedp.ID("conflict-rename")),
		chromedp.WaitVisible(chromedp.CSS(row("sunset (1).png"))),
		tick("sunset (1).png"),
		click(chromedp.CSS(`#selbar [data-act=trash]`)),
		chromedp.WaitNotPresent(chromedp.CSS(row("sunset (1).png"))),
	)

	// Download sunset.png (through a temp link) and compare the bytes.
	b.do(tab, "download",
		tick("sunset.png"),
		click(chromedp.CSS(`#selbar [data-act=download]`)),
	)
	if got := waitFile(t, downloads, "sunset.png"); !bytes.Equal(got, sunset) {
		t.Errorf("downloaded sunset.png is %d bytes, differs from the %d uploaded", len(got), len(sunset))
	}

	// Properties show the MD5 the server computed.
	sum := md5.Sum(sunset)
	b.do(tab, "properties",
		click(chromedp.CSS(`#selbar [data-act=props]`)),
		chromedp.WaitVisible(chromedp.CSS(`#props dd[data-prop=md5]`)),
	)
	if got := eval[string](b, tab, `document.querySelector('#props dd[data-prop=md5]').textContent`); got != hex.EncodeToString(sum[:]) {
		t.Errorf("properties md5 %q, want %x", got, sum)
	}
	b.do(tab, "properties parents", chromedp.WaitVisible(chromedp.CSS(`#props .parent button`)))
	b.shot(tab, "06-properties")

	// Download the Photos folder as a zip.
	b.do(tab, "download folder",
		click(chromedp.CSS(`#crumbs button`)),
		listed(),
		chromedp.WaitVisible(chromedp.CSS(row("Photos"))),
		tick("Photos"),
		click(chromedp.CSS(`#selbar [data-act=download]`)),
	)
	zipped := waitFile(t, downloads, "Photos.zip")
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("Photos.zip: %v", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "sunset.png" {
		t.Errorf("Photos.zip entries %v, want [sunset.png]", zr.File)
	}
	b.do(tab, "clear", click(chromedp.CSS(`#selbar [data-act=clear]`)))

	// Search by name.
	b.do(tab, "search",
		chromedp.SendKeys(chromedp.ID("search-q"), "beach\r"),
		chromedp.WaitVisible(chromedp.CSS(row("beach.png"))),
		chromedp.WaitNotPresent(chromedp.CSS(row("Photos"))),
	)
	b.shot(tab, "07-search")

	linksServed := a.linksServed()
	if !linksServed {
		t.Log("the share links API (POST /drive/v1/nodes/{id}/links) is not served by this build: skipping the share and picker steps")
	}
	if linksServed {
		// Share beach.png and fetch the link without any session.
		b.do(tab, "share",
			tick("beach.png"),
			click(chromedp.CSS(`#selbar [data-act=share]`)),
			chromedp.WaitVisible(chromedp.ID("link-create")),
			click(chromedp.ID("link-create")),
			chromedp.WaitVisible(chromedp.CSS(`dialog .link-url`)),
		)
		b.shot(tab, "08-share")
		link := eval[string](b, tab, `document.querySelector('dialog .link-url').value`)
		if st, got := publicGet(t, link); st != 200 || !bytes.Equal(got, sea) {
			t.Errorf("GET %s without a session: %d, %d bytes (want 200 and the %d bytes of sea.png)", link, st, len(got), len(sea))
		}
		b.do(tab, "close share", chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(chromedp.CSS(`dialog`)))
	}

	// A phone-sized screen.
	// My files first: the phone layout moves the navigation off screen
	// behind its menu button, and the viewport change reaches the page at
	// its own pace, so a click on #nav-files after it could land off
	// screen (a flake under load).
	b.do(tab, "phone",
		click(chromedp.ID("nav-files")),
		chromedp.WaitVisible(chromedp.CSS(row("Photos"))),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		poll(`window.innerWidth < 500`),
		chromedp.WaitVisible(chromedp.CSS(row("Photos"))))
	b.shot(tab, "09-phone")
	b.do(tab, "desktop", chromedp.EmulateViewport(1280, 720), poll(`window.innerWidth > 1000`))

	// An expired access token is refreshed (the refresh token rotates);
	// signing out revokes the tokens.
	before := eval[string](b, tab, `JSON.parse(sessionStorage.getItem('clouddrive.tokens')).refresh`)
	b.do(tab, "refresh",
		poll(`(() => { const t = JSON.parse(sessionStorage.getItem('clouddrive.tokens')); t.expiresAt = 0;
			sessionStorage.setItem('clouddrive.tokens', JSON.stringify(t)); return true; })()`),
		click(chromedp.ID("nav-trash")),
		chromedp.WaitVisible(chromedp.CSS(row("sunset (1).png"))),
	)
	access := eval[string](b, tab, `JSON.parse(sessionStorage.getItem('clouddrive.tokens')).access`)
	if after := eval[string](b, tab, `JSON.parse(sessionStorage.getItem('clouddrive.tokens')).refresh`); after == before {
		t.Error("the refresh token did not rotate: the expired access token was not refreshed")
	}
	if st, _ := (apiClient{t: t, base: s.URL, token: access}).do("GET", "/drive/v1/account/quota", ""); st != 200 {
		t.Errorf("refreshed access token: status %d", st)
	}
	b.do(tab, "sign out",
		click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("signin-btn")),
	)
	if st, _ := (apiClient{t: t, base: s.URL, token: access}).do("GET", "/drive/v1/account/quota", ""); st != 401 {
		t.Errorf("access token after sign-out: status %d, want 401", st)
	}
	if !linksServed {
		return
	}
	// The picker: the example site opens it in a popup; the user signs in
	// (with the password again: signing out ended the server's session
	// too), picks sunset.png, and the site gets its link through
	// postMessage.
	siteTab, cancelSite := chromedp.NewContext(tab)
	defer cancelSite()
	b.logConsole(siteTab, "site")
	b.do(siteTab, "open example site",
		chromedp.Navigate(site.URL+"/?"+url.Values{"server": {s.URL}, "client_id": {app.ClientID}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("open")),
	)
	// The site's own window: the popup is the page it opened.
	siteID := chromedp.FromContext(siteTab).Target.TargetID
	popupID := chromedp.WaitNewTarget(siteTab, func(info *target.Info) bool { return info.Type == "page" && info.OpenerID == siteID })
	b.do(siteTab, "open picker", click(chromedp.ID("open")))
	var id target.ID
	select {
	case id = <-popupID:
	case <-time.After(20 * time.Second):
		t.Fatal("the picker popup did not open")
	}
	popup, cancelPopup := chromedp.NewContext(siteTab, chromedp.WithTargetID(id))
	defer cancelPopup()
	b.logConsole(popup, "picker")
	b.do(popup, "picker sign in",
		chromedp.WaitVisible(chromedp.ID("signin-btn")),
		click(chromedp.ID("signin-btn")),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)),
		click(chromedp.CSS(`button[value=approve]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(row("Photos"))),
	)
	b.do(popup, "pick",
		click(chromedp.CSS(row("Photos")+" .name")),
		// The list redraws all its rows (new nodes) when a thumbnail
		// arrives; a redraw between the press and the release of the
		// checkbox click loses the click (the picker then showed
		// "Nothing selected", Select stayed disabled, the site got no
		// message, and "picked" timed out). So click once the row has
		// its thumbnail, after which nothing redraws it.
		chromedp.WaitVisible(chromedp.CSS(row("sunset.png")+` img.thumb-img[src^="blob:"]`)),
		tick("sunset.png"),
		// Select is enabled once the selection is made; a click on
		// it before then would do nothing.
		poll(`document.getElementById('sel-count').textContent === '1 selected' && !document.getElementById('choose').disabled`),
	)
	b.shot(popup, "10-picker")
	// Record every message the site gets from here on, to check below
	// that the picker sent exactly one, from the popup, and from the
	// server's origin. (popup is the site's own handle on its window.)
	_ = eval[bool](b, siteTab, `(window.received = [], addEventListener('message', (e) =>
		window.received.push({origin: e.origin, fromPopup: e.source === popup, type: e.data && e.data.type})), true)`)
	popupGone, err := chromedp.Detached(popup)
	if err != nil {
		t.Fatal(err)
	}
	// The picker posts its message and closes itself: no step runs in the
	// popup after this click, and the test waits for the popup to go.
	b.do(popup, "choose", click(chromedp.ID("choose")))
	b.do(siteTab, "picked", poll(`document.getElementById('result').textContent.includes('clouddrive:picked')`))
	b.shot(siteTab, "11-picker-result")
	select {
	case <-popupGone:
	case <-time.After(20 * time.Second):
		t.Error("the picker did not close its popup after it sent the files")
	}
	if got := eval[string](b, siteTab, `JSON.stringify(window.received)`); got != fmt.Sprintf(`[{"origin":%q,"fromPopup":true,"type":"clouddrive:picked"}]`, s.URL) {
		t.Errorf("the site received %s, want exactly one clouddrive:picked message from the popup (origin %s)", got, s.URL)
	}
	var msg struct {
		Type  string
		Files []struct {
			ID, Name, URL string
			Size          int64
		}
	}
	if err := json.Unmarshal([]byte(eval[string](b, siteTab, `document.getElementById('result').textContent`)), &msg); err != nil {
		t.Fatal(err)
	}
	sunsetNode := a.find("sunset.png")
	if msg.Type != "clouddrive:picked" || len(msg.Files) != 1 || msg.Files[0].ID != sunsetNode.ID ||
		msg.Files[0].Name != "sunset.png" || msg.Files[0].Size != int64(len(sunset)) {
		t.Fatalf("message %+v", msg)
	}
	if st, got := publicGet(t, msg.Files[0].URL); st != 200 || !bytes.Equal(got, sunset) {
		t.Errorf("GET %s without a session: %d, %d bytes", msg.Files[0].URL, st, len(got))
	}
}

// poll waits until the JavaScript expression is true.
// click is chromedp.Click that survives a re-render: the file list is
// virtualised and redraws rows, so the node a query found may be gone
// before the click lands ("Could not find node with given id"); then it
// queries again.
func click[S chromedp.Selectable](sel S, opts ...chromedp.QueryOption) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 10 {
			_, err = chromedp.Click(sel, opts...)(ctx, t)
			if err == nil || !strings.Contains(err.Error(), "Could not find node") {
				return chromedp.Void{}, err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		return chromedp.Void{}, err
	}
}

// focusDown focuses the row named from and moves the focus one row down
// with the arrow key, until the row named to has it: a listing that
// re-renders (the reload after a new folder) in between drops the focus,
// or the node the focus was aimed at, and the keys then go nowhere.
func focusDown(from, to string) chromedp.Action[chromedp.Void] {
	has := `((document.activeElement && document.activeElement.closest('[role=listitem]')) || {dataset: {}}).dataset.name === ` + jsString(to)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 5 {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if _, err = listed()(pctx, t); err == nil {
				_, err = chromedp.Focus(chromedp.CSS(row(from)+" .name"))(pctx, t)
			}
			if err == nil {
				_, err = chromedp.KeyEvent(kb.ArrowDown)(pctx, t)
			}
			if err == nil {
				_, err = chromedp.Poll[bool](has)(pctx, t)
			}
			cancel()
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, fmt.Errorf("focus from %s down to %s: %w", from, to, err)
	}
}

// tick checks the checkbox of the row named name with the mouse, and
// clicks again while the box stays unchecked: a listing that re-renders
// (a reload after uploads, a thumbnail that arrived) between the press
// and the release loses the click.
func tick(name string) chromedp.Action[chromedp.Void] {
	sel := row(name) + " input.check"
	checked := `(document.querySelector(` + jsString(sel) + `) || {}).checked === true`
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for range 5 {
			if _, err := click(chromedp.CSS(sel))(ctx, t); err != nil {
				return chromedp.Void{}, err
			}
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := chromedp.Poll[bool](checked)(pctx, t)
			cancel()
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, fmt.Errorf("the checkbox of %s stays unchecked after 5 clicks", name)
	}
}

// listed waits until the file list has shown the listing it was loading
// (it is aria-busy meanwhile): a click on a row of the listing before
// would be lost when the new rows replace it between the mouse's press
// and release.
func listed() chromedp.Action[chromedp.Void] {
	return poll(`document.querySelector('#list:not([aria-busy])') !== null`)
}

func poll(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}

// describe renders a console argument or exception.
func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Value)
}

func addPasswordUser(t *testing.T, s *drivetest.Server, name, pass string) {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Nodes.EnsureUser(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashPassword(pass)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Meta.Update(ctx, func(tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, h) }); err != nil {
		t.Fatal(err)
	}
}

// apiClient checks the server's state behind the UI's back.
type apiClient struct {
	t           *testing.T
	base, token string
}

type wireNode struct {
	ID      string
	Name    string
	Parents []string
}

func (a apiClient) do(method, path, body string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// find returns the one AVAILABLE node named name.
func (a apiClient) find(name string) wireNode {
	a.t.Helper()
	st, b := a.do("GET", "/drive/v1/nodes?filters="+url.QueryEscape("name:"+name), "")
	var l struct{ Data []wireNode }
	if err := json.Unmarshal(b, &l); err != nil || st != 200 || len(l.Data) != 1 {
		a.t.Fatalf("find %s: %d %s", name, st, b)
	}
	return l.Data[0]
}

// linksServed reports whether the server has the share links API.
func (a apiClient) linksServed() bool {
	st, b := a.do("GET", "/drive/v1/links", "")
	return st == 200 || !strings.Contains(string(b), "unknown operation")
}

// TestBrowserLargeFolder: a folder of 10,000 items (1,000 with -short)
// lists without putting them all in the page, scrolls to its end (paging
// with nextToken), and sorts server-side.
func TestBrowserLargeFolder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	n := 10000
	if testing.Short() {
		n = 1000
	}
	s := drivetest.New(t, drivetest.Options{DefaultQuota: 100 << 10})
	const user, pass = "bea", "difference engine"
	addPasswordUser(t, s, user, pass)
	p, err := s.App.Tokens.Authenticate(ctx, s.Token(user))
	if err != nil {
		t.Fatal(err)
	}
	pctx := drive.NewContext(ctx, p)
	u, _, err := s.App.Nodes.Account(pctx)
	if err != nil {
		t.Fatal(err)
	}
	big, err := s.App.Nodes.CreateFolder(pctx, nodes.NewNode{Name: "Big", Kind: drive.KindFolder, Parents: []string{u.RootID}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range n {
		if _, err := s.App.Nodes.CreateFolder(pctx, nodes.NewNode{Name: fmt.Sprintf("item-%05d", i), Kind: drive.KindFolder, Parents: []string{big.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("created %d folders in %v", n, time.Since(start).Round(time.Millisecond))

	b := newBrowser(t, ctx)
	b.signIn(s.URL, user, pass)
	// The quota is 100 KB: the storage bar says so, and a bigger upload
	// fails with a message that says why.
	tooBig := filepath.Join(t.TempDir(), "too-big.bin")
	if err := os.WriteFile(tooBig, bytes.Repeat([]byte("x"), 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(b.ctx, "quota exceeded",
		poll(`document.getElementById('quota-text').textContent.includes('of 100 KB')`),
		chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{tooBig}),
		chromedp.WaitVisible(chromedp.CSS(`#uploads-list .state.error`)),
	)
	if msg := eval[string](b, b.ctx, `document.querySelector('#uploads-list .state.error').textContent`); !strings.Contains(msg, "Not enough storage space") {
		t.Errorf("upload over quota says %q", msg)
	}
	b.shot(b.ctx, "13-quota-exceeded")
	b.do(b.ctx, "close uploads", click(chromedp.ID("uploads-close")))

	last := fmt.Sprintf("item-%05d", n-1)
	// The failed upload above schedules a reload of this folder (150 ms
	// later), which redraws the rows: a click landing during the redraw is
	// lost, so the step clicks again if the folder did not open.
	b.do(b.ctx, "open Big", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 3 {
			if _, err = click(chromedp.CSS(row("Big")+" .name"))(ctx, t); err != nil {
				return chromedp.Void{}, err
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = chromedp.WaitVisible(chromedp.CSS(row("item-00000")))(wctx, t)
			cancel()
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, err
	})
	inPage := func() int { return eval[int](b, b.ctx, `document.querySelectorAll('[role=listitem]').length`) }
	if got := inPage(); got > 100 {
		t.Errorf("%d rows in the page for a folder of %d", got, n)
	}
	start = time.Now()
	b.do(b.ctx, "scroll to the end",
		poll(`(() => { const l = document.getElementById('list'); l.scrollTop = l.scrollHeight;
			return !!document.querySelector('[data-name="`+last+`"]'); })()`),
		chromedp.WaitVisible(chromedp.CSS(row(last))),
	)
	t.Logf("scrolled to item %d of %d in %v", n, n, time.Since(start).Round(time.Millisecond))
	if got := inPage(); got > 100 {
		t.Errorf("%d rows in the page at the end of a folder of %d", got, n)
	}
	b.shot(b.ctx, "12-large-folder-end")
	b.do(b.ctx, "sort Z-A",
		poll(`(() => { const s = document.getElementById('sort'); s.value = 'name DESC'; s.dispatchEvent(new Event('change')); return true; })()`),
		chromedp.WaitVisible(chromedp.CSS(`[role=listitem][data-index="0"][data-name="`+last+`"]`)),
	)
}
