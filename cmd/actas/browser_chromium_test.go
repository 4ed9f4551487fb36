package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// A real browser: headless Chromium, driven by chromedp, signs in
// through the hosted page, changes a required password, and lands on the
// client with a code. Any console error, exception or CSP violation fails
// the test. (Chromium applies form-action to the redirect that ends the
// form's POST, and sends Origin: null under no-referrer: only a real
// browser shows that the page's headers live with both.)
//
// It writes screenshots into docs/img/ for docs/browser-signin.md.

func chromiumPath() string {
	if p := os.Getenv("ACTAS_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

func TestBrowserSignInChromium(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("no Chromium found (/usr/bin/chromium; set ACTAS_CHROMIUM): skipping the real-browser sign-in test; .ci/run installs Debian's chromium")
	}
	e := newOIDCEnv(t)
	e.h.createUser("acme", "dave", "temporary pass 1", "--must-change-password")

	// The relying party's callback: a plain page, so the browser ends
	// somewhere without errors.
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>Signed in</title><link rel="icon" href="data:,"></head><body><p id="done">signed in</p></body></html>`)
	}))
	defer cb.Close()
	// Registered without a port: any loopback port matches (RFC 8252 §7.3).
	web := e.client(t, "Example web app", false, "http://127.0.0.1/cb")
	web.cfg.RedirectURL = cb.URL + "/cb"

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 700),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	// Collect every console message, exception and browser-log entry
	// (CSP violations are "security" entries) from the first page on.
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	var (
		mu       sync.Mutex
		problems []string
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() || m.Source == "security" {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s [%s] %s (%s)", m.Type, m.Source, m.Text, m.URL))
				mu.Unlock()
			}
		}
	}()
	screenshot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			dir := filepath.Join("..", "..", "docs", "img")
			if _, err := os.Stat(dir); err != nil {
				return nil // not in a checkout: nothing to write
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}
	landed := func(f flow) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.ID("done"))); err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("did not reach the client: %v; the browser reported %q", err, problems)
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(loc)
		if u.Query().Get("code") == "" || u.Query().Get("state") != f.state {
			t.Fatalf("landed on %s, want the callback with a code and the state", loc)
		}
		e.exchange(t, web, f, u.Query().Get("code"))
	}
	submit := chromedp.Click(chromedp.CSS("button[type=submit]"))

	// 1. A wrong password, then the right one.
	f := web.start(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.url),
		chromedp.WaitVisible(chromedp.ID("username")),
		screenshot("signin.png"),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		submit,
		chromedp.WaitVisible(chromedp.ID("password-error")),
		screenshot("signin-error.png"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		submit,
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	landed(f)

	// 2. Single sign-on: the next authorization skips the form.
	f = web.start(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.url)); err != nil {
		t.Fatal(err)
	}
	landed(f)

	// 3. A required password change, in a fresh sign-in.
	f = web.start(t, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("login_hint", "dave"))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.url),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), "temporary pass 1"),
		submit,
		chromedp.WaitVisible(chromedp.ID("new_password")),
		screenshot("change-password.png"),
		chromedp.SendKeys(chromedp.ID("password"), "temporary pass 1"),
		chromedp.SendKeys(chromedp.ID("new_password"), "dave's new passphrase"),
		chromedp.SendKeys(chromedp.ID("confirm_password"), "dave's new passphrase"),
		submit,
	); err != nil {
		t.Fatalf("change password: %v", err)
	}
	landed(f)

	// 4. An untrusted redirect URI: the error page, no redirect.
	bad := strings.Replace(web.start(t).url, url.QueryEscape(web.cfg.RedirectURL), url.QueryEscape("https://evil.example/cb"), 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(bad), chromedp.WaitVisible(chromedp.CSS(".error-page")),
		screenshot("error-page.png")); err != nil {
		t.Fatalf("error page: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, e.ti.Issuer) {
		t.Errorf("an unregistered redirect URI sent the browser to %s", loc)
	}

	stopConsole()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		// The wrong-password page answers 401 and the error page 400, as
		// meant: Chromium logs a network entry for a document's status.
		if strings.Contains(p, "[network]") && (strings.Contains(p, "status of 401") || strings.Contains(p, "status of 400")) {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}
