package auth_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
)

func cheap() auth.Argon2Params {
	return auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	h, err := auth.HashPasswordWith("correct horse battery", cheap())
	if err != nil {
		t.Fatalf("HashPasswordWith: %v", err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Errorf("HashPasswordWith = %q, want a PHC argon2id string with the parameters, salt and hash", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery", true},
		{"correct horse batter", false},
		{"Correct horse battery", false},
		{"", false},
		{strings.Repeat("x", 2000), false},
	} {
		ok, err := auth.VerifyPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(hash, %.20q) = %t, %v, want %t, nil", tc.pw, ok, err, tc.want)
		}
	}
	h2, _ := auth.HashPasswordWith("correct horse battery", cheap())
	if h2 == h {
		t.Errorf("two hashes of one password are equal: salts are not random")
	}
}

func TestDefaultArgon2(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with 64 MiB")
	}
	h, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("HashPassword = %q, want m=65536,t=3,p=2", h)
	}
	if ok, err := auth.VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("VerifyPassword(default hash) = %t, %v, want true, nil", ok, err)
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, _ := auth.HashPasswordWith("pw-pw-pw-pw", cheap())
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, tc := range []struct{ name, phc string }{
		{"Empty", ""},
		{"Bcrypt", "$2a$10$abcdefghijklmnopqrstuu5E6f7g8h9i0j1k2l3m4n5o6p7q8r9s0t"},
		{"Argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"OldVersion", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"MissingParam", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"UnknownParam", "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key},
		{"RepeatedParam", "$argon2id$v=19$m=64,m=64,t=1,p=1$" + salt + "$" + key},
		{"HugeMemory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"HugeTime", "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key},
		{"ZeroLanes", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"BadSalt", "$argon2id$v=19$m=64,t=1,p=1$***$" + key},
		{"ShortKey", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA"},
		{"TooManyFields", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(tc.phc, "pw-pw-pw-pw")
			if ok || !drive.Is(drive.Internal, err) {
				t.Errorf("VerifyPassword(%q) = %t, %v, want false and an Internal error", tc.phc, ok, err)
			}
		})
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("p", 1024), true},
		{strings.Repeat("p", 1025), false},
	} {
		err := auth.CheckPasswordPolicy(tc.pw)
		if (err == nil) != tc.ok || (err != nil && !drive.Is(drive.Invalid, err)) {
			t.Errorf("CheckPasswordPolicy(%d bytes) = %v, want ok %t (else Invalid)", len(tc.pw), err, tc.ok)
		}
	}
}

func TestNewToken(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tk := &auth.Tokens{Now: func() time.Time { return now }}
	secret, rec := tk.NewToken(auth.KindRefresh, "u", "c", "s", "fam", time.Hour)
	if !strings.HasPrefix(secret, "Atzr|") || rec.Hash != auth.Hash(secret) || strings.Contains(rec.Hash, secret) {
		t.Errorf("NewToken(refresh) = %q, hash %q; want an Atzr| secret stored only as its hash", secret, rec.Hash)
	}
	if rec.Kind != auth.KindRefresh || rec.UserID != "u" || rec.ClientID != "c" || rec.Scope != "s" || rec.Family != "fam" ||
		!rec.CreatedAt.Equal(now) || !rec.ExpiresAt.Equal(now.Add(time.Hour)) || rec.Revoked {
		t.Errorf("NewToken record = %+v", rec)
	}
	secret, rec = tk.NewToken(auth.KindAccess, "u", "c", "s", "", 0)
	if !strings.HasPrefix(secret, "Atza|") || !rec.ExpiresAt.IsZero() {
		t.Errorf("NewToken(access, ttl 0) = %q, expires %v; want Atza| and no expiry", secret, rec.ExpiresAt)
	}
	if a, b := auth.NewFamily(), auth.NewFamily(); a == b || len(a) != 22 {
		t.Errorf("NewFamily() = %q, %q; want distinct 22-character ids", a, b)
	}
}

// TestHasherBound: with every turn taken, a hash waits Wait and then gets
// RateLimited with RetryAfter; a cancelled caller gets Unavailable; once
// the turn is free, hashing and verifying work.
func TestHasherBound(t *testing.T) {
	hold, entered := make(chan struct{}), make(chan struct{}, 1)
	h := &auth.Hasher{Max: 1, Wait: 50 * time.Millisecond, Params: cheap(), Running: func(n int) {
		if n > 1 {
			t.Errorf("%d hashes at once, want at most 1", n)
		}
		select {
		case entered <- struct{}{}:
			<-hold
		default:
		}
	}}
	first := make(chan error, 1)
	go func() {
		_, err := h.Hash(t.Context(), "correct horse battery")
		first <- err
	}()
	<-entered
	_, err := h.Hash(t.Context(), "another password")
	if de := drive.AsError(err); !drive.Is(drive.RateLimited, err) || de.RetryAfter <= 0 {
		t.Errorf("Hash while the turn is taken = %v, want RateLimited with RetryAfter", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", "x"); !drive.Is(drive.Unavailable, err) {
		t.Errorf("Verify with a cancelled context = %v, want Unavailable", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	phc, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(t.Context(), phc, "pw"); !ok || err != nil {
		t.Errorf("Verify = %t, %v", ok, err)
	}
}
