package metatest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
)

// oauthTests are the subtests of meta.OAuthTx. Run appends them to its
// table.
func oauthTests() []subtest {
	return []subtest{
		{"UserPassword", testUserPassword},
		{"UserPasswordMissingUser", testUserPasswordMissingUser},
		{"AppRoundTrip", testAppRoundTrip},
		{"AppConflict", testAppConflict},
		{"AppMissing", testAppMissing},
		{"AppsOrderedByName", testAppsOrderedByName},
		{"DeleteApp", testDeleteApp},
		{"AuthCodeSingleUse", testAuthCodeSingleUse},
		{"AuthCodeConcurrentUse", testAuthCodeConcurrentUse},
		{"AuthCodeMissing", testAuthCodeMissing},
		{"DeviceCodeRoundTrip", testDeviceCodeRoundTrip},
		{"DeviceCodeConflict", testDeviceCodeConflict},
		{"DeviceCodeDelete", testDeviceCodeDelete},
		{"ClaimToken", testClaimToken},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteUserOAuth", testDeleteUserOAuth},
	}
}

func newApp(name string, public bool) *meta.App {
	a := &meta.App{
		ClientID:     "client-" + name,
		Name:         name,
		RedirectURIs: []string{"https://" + name + ".example/cb", "http://127.0.0.1/callback"},
		Public:       public,
		CreatedAt:    clock(3 * time.Millisecond),
	}
	if !public {
		a.SecretHash = "secret-hash-" + name
	}
	return a
}

func createApp(t *testing.T, s meta.Store, a *meta.App) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.CreateApp(ctx, a) })
}

func getApp(t *testing.T, s meta.Store, clientID string) (*meta.App, error) {
	t.Helper()
	var a *meta.App
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		a, err = tx.App(ctx, clientID)
		return err
	})
	return a, err
}

func authCode(hash, clientID, userID string) *meta.AuthCode {
	return &meta.AuthCode{
		Hash:        hash,
		ClientID:    clientID,
		UserID:      userID,
		RedirectURI: "http://127.0.0.1:4242/callback",
		Scope:       drive.ScopeReadAll + " " + drive.ScopeWrite,
		Challenge:   "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Family:      "fam-" + hash,
		ExpiresAt:   clock(10 * time.Minute),
		CreatedAt:   clock(0),
	}
}

func deviceCode(hash, clientID string) *meta.DeviceCode {
	return &meta.DeviceCode{
		Hash:         hash,
		UserCodeHash: "user-" + hash,
		ClientID:     clientID,
		Scope:        drive.ScopeReadAll,
		Status:       meta.DevicePending,
		Interval:     5 * time.Second,
		ExpiresAt:    clock(10 * time.Minute),
		CreatedAt:    clock(0),
	}
}

func testUserPassword(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		h, err := tx.UserPassword(ctx, u.ID)
		if h != "" || err != nil {
			t.Errorf("UserPassword(new user) = %q, %v, want \"\", nil", h, err)
		}
		return nil
	})
	const phc = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, phc) })
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		if h, err := tx.UserPassword(ctx, u.ID); h != phc || err != nil {
			t.Errorf("UserPassword(alice) = %q, %v, want %q, nil", h, err, phc)
		}
		if h, err := tx.UserPassword(ctx, bob.ID); h != "" || err != nil {
			t.Errorf("UserPassword(bob) = %q, %v, want \"\", nil (only alice's changed)", h, err)
		}
		return nil
	})
	// The password is not part of drive.User and does not disturb it.
	got, err := getUser(t, s, u.ID)
	if err != nil {
		t.Fatalf("User(alice) error: %v", err)
	}
	if diff := gocmp.Diff(u, got); diff != "" {
		t.Errorf("User(alice) after SetUserPassword mismatch (-want +got):\n%s", diff)
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, "") })
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		if h, err := tx.UserPassword(ctx, u.ID); h != "" || err != nil {
			t.Errorf("UserPassword(alice) after clearing = %q, %v, want \"\", nil", h, err)
		}
		return nil
	})
}

func testUserPasswordMissingUser(t *testing.T, s meta.Store) {
	createUser(t, s, "alice")
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.UserPassword(ctx, drive.NewID())
		return err
	})
	wantKind(t, "UserPassword(missing)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.SetUserPassword(ctx, drive.NewID(), "x") })
	wantKind(t, "SetUserPassword(missing)", err, drive.NotFound)
}

func testAppRoundTrip(t *testing.T, s meta.Store) {
	conf := newApp("rclone", false)
	pub := newApp("cli", true)
	pub.FirstParty = true
	noURIs := newApp("bare", false)
	noURIs.RedirectURIs = nil
	for _, a := range []*meta.App{conf, pub, noURIs} {
		createApp(t, s, a)
	}
	noURIs.RedirectURIs = []string{}
	for _, want := range []*meta.App{conf, pub, noURIs} {
		got, err := getApp(t, s, want.ClientID)
		if err != nil {
			t.Errorf("App(%s) error: %v", want.ClientID, err)
			continue
		}
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("App(%s) mismatch (-want +got):\n%s", want.ClientID, diff)
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("App(%s).CreatedAt location = %v, want UTC", want.ClientID, got.CreatedAt.Location())
		}
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			got, err := tx.AppByName(ctx, want.Name)
			if err != nil {
				return err
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("AppByName(%s) mismatch (-want +got):\n%s", want.Name, diff)
			}
			return nil
		})
	}
}

func testAppConflict(t *testing.T, s meta.Store) {
	a := newApp("rclone", false)
	createApp(t, s, a)
	sameID := newApp("other", false)
	sameID.ClientID = a.ClientID
	sameName := newApp("rclone", true)
	sameName.ClientID = "client-different"
	for _, dup := range []*meta.App{sameID, sameName} {
		err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.CreateApp(ctx, dup) })
		wantKind(t, fmt.Sprintf("CreateApp(%s, %s)", dup.ClientID, dup.Name), err, drive.Conflict)
	}
	// A conflict inside a transaction does not abort it (PostgreSQL).
	b := newApp("second", true)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.CreateApp(ctx, sameName); !drive.Is(drive.Conflict, err) {
			return fmt.Errorf("CreateApp(duplicate name) = %v, want Conflict", err)
		}
		return tx.CreateApp(ctx, b)
	})
	var names []string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		apps, err := tx.Apps(ctx)
		for _, a := range apps {
			names = append(names, a.Name+"/"+a.ClientID)
		}
		return err
	})
	want := []string{"rclone/client-rclone", "second/client-second"}
	if diff := gocmp.Diff(want, names); diff != "" {
		t.Errorf("Apps() after conflicts mismatch (-want +got):\n%s", diff)
	}
}

func testAppMissing(t *testing.T, s meta.Store) {
	createApp(t, s, newApp("rclone", false))
	_, err := getApp(t, s, "client-absent")
	wantKind(t, "App(absent)", err, drive.NotFound)
	_, err = getApp(t, s, "CLIENT-RCLONE")
	wantKind(t, "App(CLIENT-RCLONE)", err, drive.NotFound)
	err = tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.AppByName(ctx, "absent")
		return err
	})
	wantKind(t, "AppByName(absent)", err, drive.NotFound)
	err = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteApp(ctx, "client-absent") })
	wantKind(t, "DeleteApp(absent)", err, drive.NotFound)
}

func testAppsOrderedByName(t *testing.T, s meta.Store) {
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		apps, err := tx.Apps(ctx)
		if apps == nil || len(apps) != 0 || err != nil {
			t.Errorf("Apps(empty store) = %v, %v, want [], nil", apps, err)
		}
		return nil
	})
	for _, n := range []string{"web", "cli", "rclone"} {
		createApp(t, s, newApp(n, n != "rclone"))
	}
	var names []string
	view(t, s, func(ctx context.Context, tx meta.Tx) error {
		apps, err := tx.Apps(ctx)
		for _, a := range apps {
			names = append(names, a.Name)
		}
		return err
	})
	if diff := gocmp.Diff([]string{"cli", "rclone", "web"}, names); diff != "" {
		t.Errorf("Apps() order mismatch (-want +got):\n%s", diff)
	}
}

func testDeleteApp(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	gone, kept := newApp("gone", false), newApp("kept", false)
	createApp(t, s, gone)
	createApp(t, s, kept)
	tok := func(hash, clientID string) *meta.Token {
		return &meta.Token{Hash: hash, UserID: u.ID, ClientID: clientID, Scope: drive.ScopeReadAll, Kind: "access", CreatedAt: clock(0)}
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, tk := range []*meta.Token{tok("tok-gone", gone.ClientID), tok("tok-kept", kept.ClientID)} {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		for _, c := range []*meta.AuthCode{authCode("code-gone", gone.ClientID, u.ID), authCode("code-kept", kept.ClientID, u.ID)} {
			if err := tx.InsertAuthCode(ctx, c); err != nil {
				return err
			}
		}
		for _, d := range []*meta.DeviceCode{deviceCode("dev-gone", gone.ClientID), deviceCode("dev-kept", kept.ClientID)} {
			if err := tx.InsertDeviceCode(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteApp(ctx, gone.ClientID) })

	_, err := getApp(t, s, gone.ClientID)
	wantKind(t, "App(deleted)", err, drive.NotFound)
	if _, err := getApp(t, s, kept.ClientID); err != nil {
		t.Errorf("App(kept) error: %v", err)
	}
	gotGone, gotKept := map[string]error{}, map[string]error{}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, gotGone["Token(tok-gone)"] = tx.Token(ctx, "tok-gone")
		_, gotKept["Token(tok-kept)"] = tx.Token(ctx, "tok-kept")
		_, gotGone["UseAuthCode(code-gone)"] = tx.UseAuthCode(ctx, "code-gone")
		_, gotKept["UseAuthCode(code-kept)"] = tx.UseAuthCode(ctx, "code-kept")
		_, gotGone["DeviceCode(dev-gone)"] = tx.DeviceCode(ctx, "dev-gone")
		_, gotKept["DeviceCode(dev-kept)"] = tx.DeviceCode(ctx, "dev-kept")
		return nil
	})
	for call, err := range gotGone {
		wantKind(t, call+" after DeleteApp", err, drive.NotFound)
	}
	for call, err := range gotKept {
		if err != nil {
			t.Errorf("%s after deleting another app = %v, want nil", call, err)
		}
	}
}

func testAuthCodeSingleUse(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	a := newApp("cli", true)
	createApp(t, s, a)
	want := authCode("code-1", a.ClientID, u.ID)
	noPKCE := authCode("code-2", a.ClientID, u.ID)
	noPKCE.Challenge = ""
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.InsertAuthCode(ctx, want); err != nil {
			return err
		}
		return tx.InsertAuthCode(ctx, noPKCE)
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.InsertAuthCode(ctx, authCode("code-1", a.ClientID, u.ID))
	})
	wantKind(t, "InsertAuthCode(duplicate)", err, drive.Conflict)

	for _, w := range []*meta.AuthCode{want, noPKCE} {
		var first, second *meta.AuthCode
		update(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			first, err = tx.UseAuthCode(ctx, w.Hash)
			return err
		})
		if diff := gocmp.Diff(w, first); diff != "" {
			t.Errorf("first UseAuthCode(%s) mismatch (-want +got):\n%s", w.Hash, diff)
		}
		if first != nil && (first.ExpiresAt.Location() != time.UTC || first.CreatedAt.Location() != time.UTC) {
			t.Errorf("UseAuthCode(%s) times not in UTC: %v, %v", w.Hash, first.ExpiresAt, first.CreatedAt)
		}
		update(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			second, err = tx.UseAuthCode(ctx, w.Hash)
			return err
		})
		used := *w
		used.Used = true
		if diff := gocmp.Diff(&used, second); diff != "" {
			t.Errorf("second UseAuthCode(%s) mismatch (-want +got):\n%s", w.Hash, diff)
		}
	}

	// A rolled-back use leaves the code unused.
	fresh := authCode("code-3", a.ClientID, u.ID)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertAuthCode(ctx, fresh) })
	_ = tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		if _, err := tx.UseAuthCode(ctx, fresh.Hash); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		c, err := tx.UseAuthCode(ctx, fresh.Hash)
		if err == nil && c.Used {
			t.Errorf("UseAuthCode after a rolled-back use: Used = true, want false")
		}
		return err
	})
}

func testAuthCodeConcurrentUse(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	a := newApp("cli", true)
	createApp(t, s, a)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.InsertAuthCode(ctx, authCode("code", a.ClientID, u.ID))
	})
	const n = 8
	var wg sync.WaitGroup
	results := make([]*meta.AuthCode, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx meta.Tx) error {
				var err error
				results[i], err = tx.UseAuthCode(t.Context(), "code")
				return err
			})
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent UseAuthCode #%d error: %v", i, errs[i])
			continue
		}
		if !results[i].Used {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("concurrent UseAuthCode: %d callers saw Used == false, want exactly 1", fresh)
	}
}

func testAuthCodeMissing(t *testing.T, s meta.Store) {
	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.UseAuthCode(ctx, "absent")
		return err
	})
	wantKind(t, "UseAuthCode(absent)", err, drive.NotFound)
}

func testDeviceCodeRoundTrip(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	a := newApp("tv", true)
	createApp(t, s, a)
	d := deviceCode("dev", a.ClientID)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertDeviceCode(ctx, d) })
	check := func(when string, want *meta.DeviceCode) {
		t.Helper()
		view(t, s, func(ctx context.Context, tx meta.Tx) error {
			got, err := tx.DeviceCode(ctx, want.Hash)
			if err != nil {
				return err
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("DeviceCode(%s) %s mismatch (-want +got):\n%s", want.Hash, when, diff)
			}
			got, err = tx.DeviceCodeByUserCode(ctx, want.UserCodeHash)
			if err != nil {
				return err
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("DeviceCodeByUserCode(%s) %s mismatch (-want +got):\n%s", want.UserCodeHash, when, diff)
			}
			return nil
		})
	}
	check("after insert", d)

	polled := *d
	polled.LastPoll = clock(7 * time.Second)
	polled.Interval = 10 * time.Second
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateDeviceCode(ctx, &polled) })
	check("after a poll", &polled)

	approved := polled
	approved.Status, approved.UserID = meta.DeviceApproved, u.ID
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateDeviceCode(ctx, &approved) })
	check("after approval", &approved)

	// Only the mutable fields are written.
	tampered := approved
	tampered.ClientID, tampered.Scope, tampered.UserCodeHash = "other", "other", "other"
	tampered.ExpiresAt = clock(time.Hour)
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.UpdateDeviceCode(ctx, &tampered) })
	check("after updating immutable fields", &approved)

	err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.UpdateDeviceCode(ctx, deviceCode("absent", a.ClientID))
	})
	wantKind(t, "UpdateDeviceCode(absent)", err, drive.NotFound)
	err = tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.DeviceCodeByUserCode(ctx, "absent")
		return err
	})
	wantKind(t, "DeviceCodeByUserCode(absent)", err, drive.NotFound)
}

func testDeviceCodeConflict(t *testing.T, s meta.Store) {
	a := newApp("tv", true)
	createApp(t, s, a)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.InsertDeviceCode(ctx, deviceCode("dev", a.ClientID))
	})
	sameHash := deviceCode("dev", a.ClientID)
	sameHash.UserCodeHash = "user-other"
	sameUser := deviceCode("dev-2", a.ClientID)
	sameUser.UserCodeHash = "user-dev"
	for _, d := range []*meta.DeviceCode{sameHash, sameUser} {
		err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.InsertDeviceCode(ctx, d) })
		wantKind(t, fmt.Sprintf("InsertDeviceCode(%s, %s)", d.Hash, d.UserCodeHash), err, drive.Conflict)
	}
}

func testDeviceCodeDelete(t *testing.T, s meta.Store) {
	a := newApp("tv", true)
	createApp(t, s, a)
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		return tx.InsertDeviceCode(ctx, deviceCode("dev", a.ClientID))
	})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(t.Context(), func(tx meta.Tx) error { return tx.DeleteDeviceCode(t.Context(), "dev") })
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !drive.Is(drive.NotFound, err):
			t.Errorf("concurrent DeleteDeviceCode #%d = %v, want nil or NotFound", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("concurrent DeleteDeviceCode: %d succeeded, want exactly 1", ok)
	}
	err := tryView(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, err := tx.DeviceCode(ctx, "dev")
		return err
	})
	wantKind(t, "DeviceCode(deleted)", err, drive.NotFound)
}

func testClaimToken(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	insertTokens(t, s,
		&meta.Token{Hash: "live", UserID: u.ID, ClientID: "c", Kind: "refresh", Family: "f", CreatedAt: clock(0)},
		&meta.Token{Hash: "other", UserID: u.ID, ClientID: "c", Kind: "refresh", Family: "f", CreatedAt: clock(0)},
	)
	claim := func(hash string) (bool, error) {
		var ok bool
		err := tryUpdate(t, s, func(ctx context.Context, tx meta.Tx) error {
			var err error
			ok, err = tx.ClaimToken(ctx, hash)
			return err
		})
		return ok, err
	}
	if ok, err := claim("live"); !ok || err != nil {
		t.Errorf("ClaimToken(live) = %t, %v, want true, nil", ok, err)
	}
	if ok, err := claim("live"); ok || err != nil {
		t.Errorf("ClaimToken(live) again = %t, %v, want false, nil", ok, err)
	}
	if tk, err := getToken(t, s, "live"); err != nil || !tk.Revoked {
		t.Errorf("Token(claimed).Revoked = %v (err %v), want true", tk != nil && tk.Revoked, err)
	}
	if tk, err := getToken(t, s, "other"); err != nil || tk.Revoked {
		t.Errorf("Token(other of the family).Revoked = %v (err %v), want false", tk != nil && tk.Revoked, err)
	}
	_, err := claim("absent")
	wantKind(t, "ClaimToken(absent)", err, drive.NotFound)

	// Concurrent claims: exactly one wins.
	const n = 8
	var wg sync.WaitGroup
	wins := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { wins[i], errs[i] = claim("other") })
	}
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent ClaimToken #%d error: %v", i, errs[i])
		}
		if wins[i] {
			won++
		}
	}
	if won != 1 {
		t.Errorf("concurrent ClaimToken: %d won, want exactly 1", won)
	}
}

func testDeleteExpired(t *testing.T, s meta.Store) {
	u, _ := createUser(t, s, "alice")
	a := newApp("cli", true)
	createApp(t, s, a)
	now := clock(time.Hour)
	old, fresh := authCode("code-old", a.ClientID, u.ID), authCode("code-new", a.ClientID, u.ID)
	old.ExpiresAt, fresh.ExpiresAt = now.Add(-time.Millisecond), now.Add(time.Minute)
	dOld, dNew := deviceCode("dev-old", a.ClientID), deviceCode("dev-new", a.ClientID)
	dOld.ExpiresAt, dNew.ExpiresAt = now.Add(-time.Second), now
	tok := func(hash string, exp time.Time) *meta.Token {
		return &meta.Token{Hash: hash, UserID: u.ID, ClientID: a.ClientID, Kind: "access", ExpiresAt: exp, CreatedAt: clock(0)}
	}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		for _, c := range []*meta.AuthCode{old, fresh} {
			if err := tx.InsertAuthCode(ctx, c); err != nil {
				return err
			}
		}
		for _, d := range []*meta.DeviceCode{dOld, dNew} {
			if err := tx.InsertDeviceCode(ctx, d); err != nil {
				return err
			}
		}
		for _, tk := range []*meta.Token{tok("tok-old", now.Add(-time.Minute)), tok("tok-new", now.Add(time.Minute)), tok("tok-never", time.Time{})} {
			if err := tx.InsertToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	var n int64
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		var err error
		n, err = tx.DeleteExpired(ctx, now)
		return err
	})
	if n != 3 {
		t.Errorf("DeleteExpired(now) = %d, want 3", n)
	}
	errs := map[string]error{}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, errs["code-old"] = tx.UseAuthCode(ctx, "code-old")
		_, errs["code-new"] = tx.UseAuthCode(ctx, "code-new")
		_, errs["dev-old"] = tx.DeviceCode(ctx, "dev-old")
		_, errs["dev-new"] = tx.DeviceCode(ctx, "dev-new")
		_, errs["tok-old"] = tx.Token(ctx, "tok-old")
		_, errs["tok-new"] = tx.Token(ctx, "tok-new")
		_, errs["tok-never"] = tx.Token(ctx, "tok-never")
		return nil
	})
	for _, gone := range []string{"code-old", "dev-old", "tok-old"} {
		wantKind(t, gone+" after DeleteExpired", errs[gone], drive.NotFound)
	}
	for _, kept := range []string{"code-new", "dev-new", "tok-new", "tok-never"} {
		if errs[kept] != nil {
			t.Errorf("%s after DeleteExpired = %v, want it kept", kept, errs[kept])
		}
	}
}

func testDeleteUserOAuth(t *testing.T, s meta.Store) {
	alice, _ := createUser(t, s, "alice")
	bob, _ := createUser(t, s, "bob")
	a := newApp("tv", true)
	createApp(t, s, a)
	dAlice, dBob := deviceCode("dev-alice", a.ClientID), deviceCode("dev-bob", a.ClientID)
	dAlice.Status, dAlice.UserID = meta.DeviceApproved, alice.ID
	dBob.Status, dBob.UserID = meta.DeviceApproved, bob.ID
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		if err := tx.SetUserPassword(ctx, alice.ID, "phc"); err != nil {
			return err
		}
		if err := tx.InsertAuthCode(ctx, authCode("code-alice", a.ClientID, alice.ID)); err != nil {
			return err
		}
		if err := tx.InsertAuthCode(ctx, authCode("code-bob", a.ClientID, bob.ID)); err != nil {
			return err
		}
		if err := tx.InsertDeviceCode(ctx, dAlice); err != nil {
			return err
		}
		return tx.InsertDeviceCode(ctx, dBob)
	})
	update(t, s, func(ctx context.Context, tx meta.Tx) error { return tx.DeleteUser(ctx, alice.ID) })
	errs := map[string]error{}
	update(t, s, func(ctx context.Context, tx meta.Tx) error {
		_, errs["UseAuthCode(alice's)"] = tx.UseAuthCode(ctx, "code-alice")
		_, errs["DeviceCode(alice's)"] = tx.DeviceCode(ctx, "dev-alice")
		_, errs["UseAuthCode(bob's)"] = tx.UseAuthCode(ctx, "code-bob")
		_, errs["DeviceCode(bob's)"] = tx.DeviceCode(ctx, "dev-bob")
		_, errs["App(tv)"] = tx.App(ctx, a.ClientID)
		return nil
	})
	wantKind(t, "UseAuthCode(deleted user's)", errs["UseAuthCode(alice's)"], drive.NotFound)
	wantKind(t, "DeviceCode(deleted user's)", errs["DeviceCode(alice's)"], drive.NotFound)
	for _, k := range []string{"UseAuthCode(bob's)", "DeviceCode(bob's)", "App(tv)"} {
		if errs[k] != nil {
			t.Errorf("%s after deleting alice = %v, want nil", k, errs[k])
		}
	}
}
