package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// Argon2Params are the cost parameters of an argon2id password hash.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2 returns the parameters of new hashes: RFC 9106's second
// recommended option (64 MiB, 3 passes) with 2 lanes, about 0.1 s on one
// modern core.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a stored hash, so a corrupt or
// hostile row cannot make a login allocate gigabytes or spin for minutes.
const (
	maxArgonMemory  = 1 << 20 // 1 GiB in KiB
	maxArgonTime    = 64
	maxArgonKeyLen  = 128
	maxPasswordLen  = 1024
	minPasswordLen  = 8
	argon2idVersion = argon2.Version
)

// PasswordPolicy is CheckPasswordPolicy's rule in words, for help texts
// and prompts.
const PasswordPolicy = "8 to 1024 bytes long in UTF-8 (so at least 8 ASCII characters); spaces and any other characters are allowed"

// CheckPasswordPolicy reports whether pw may be set as a password: 8 to
// 1024 bytes (PasswordPolicy).
func CheckPasswordPolicy(pw string) error {
	const op = "auth.CheckPasswordPolicy"
	if len(pw) < minPasswordLen {
		return drive.Errorf(op, drive.Invalid, "password must be at least %d bytes long in UTF-8 (%d ASCII characters)", minPasswordLen, minPasswordLen)
	}
	if len(pw) > maxPasswordLen {
		return drive.Errorf(op, drive.Invalid, "password must be at most %d bytes", maxPasswordLen)
	}
	return nil
}

// HashPassword hashes pw with argon2id and DefaultArgon2() and returns the
// PHC string ($argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>, unpadded
// standard base64), which carries the salt and the parameters.
func HashPassword(pw string) (string, error) {
	return HashPasswordWith(pw, DefaultArgon2())
}

// HashPasswordWith is HashPassword with explicit parameters (tests use
// cheap ones).
func HashPasswordWith(pw string, p Argon2Params) (string, error) {
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.SaltLen < 8 || p.KeyLen < 16 {
		return "", drive.E("auth.HashPassword", drive.Internal, "invalid argon2 parameters")
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", drive.Wrap("auth.HashPassword", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2idVersion, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC string phc. A
// malformed phc is an Internal error, never a match.
func VerifyPassword(phc, pw string) (bool, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	if len(pw) > maxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// parsePHC parses $argon2id$v=19$m=M,t=T,p=P$salt$hash.
func parsePHC(phc string) (Argon2Params, []byte, []byte, error) {
	const op = "auth.VerifyPassword"
	bad := func(why string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, drive.E(op, drive.Internal, "malformed password hash: "+why)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2idVersion) {
		return bad("unsupported version")
	}
	var p Argon2Params
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return bad("bad parameter list")
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("bad parameter " + k)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad("too many lanes")
			}
			p.Threads = uint8(n)
		default:
			return bad("unknown parameter " + k)
		}
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > maxArgonMemory || p.Time > maxArgonTime ||
		p.Memory < 8*uint32(p.Threads) {
		return bad("parameters out of range")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("bad salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxArgonKeyLen {
		return bad("bad hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// Hasher hashes and verifies passwords with a bound on how many hashes run
// at once. Each argon2id hash holds its memory (64 MiB with DefaultArgon2)
// while it runs, so without a bound a burst of sign-ins, even with
// made-up user names (an unknown user costs a verification too), takes
// as many times that memory as there are requests. The zero value is
// ready to use and safe for concurrent use; fields must not change after
// the first call.
type Hasher struct {
	// Max is how many hashes of DefaultArgon2's memory or less may run at
	// once (default 4: 256 MiB). A hash that needs more memory counts as
	// several, in proportion (at most Max).
	Max int
	// Wait is how long a hash may wait for its turn (default 2 s); after
	// it the caller gets a RateLimited error with RetryAfter.
	Wait time.Duration
	// Params are the parameters of new hashes; zero takes DefaultArgon2().
	Params Argon2Params
	// Running, if set, is called with the number of hashes running each
	// time one starts, before it is computed (tests count with it).
	Running func(n int)

	once    sync.Once
	sem     *semaphore.Weighted
	max     int64
	running atomic.Int64
}

// Defaults of Hasher.
const (
	DefaultMaxHashes = 4
	defaultHashWait  = 2 * time.Second
)

// errBusy is what a hash that found no turn in time returns.
func errBusy(op string, wait time.Duration) error {
	return &drive.Error{Op: op, Kind: drive.RateLimited, RetryAfter: max(time.Second, wait/2),
		Message: "too many passwords are being checked at once; try again in a moment"}
}

// run computes f in a turn of weight memory KiB.
func (h *Hasher) run(ctx context.Context, op string, memory uint32, f func()) error {
	h.once.Do(func() {
		h.max = int64(h.Max)
		if h.max <= 0 {
			h.max = DefaultMaxHashes
		}
		h.sem = semaphore.NewWeighted(h.max)
	})
	weight := min(max(int64((memory+DefaultArgon2().Memory-1)/DefaultArgon2().Memory), 1), h.max)
	wait := h.Wait
	if wait <= 0 {
		wait = defaultHashWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := h.sem.Acquire(wctx, weight); err != nil {
		if ctx.Err() != nil {
			return drive.E(op, drive.Unavailable, "request cancelled", ctx.Err())
		}
		return errBusy(op, wait)
	}
	defer h.sem.Release(weight)
	n := h.running.Add(1)
	defer h.running.Add(-1)
	if h.Running != nil {
		h.Running(int(n))
	}
	f()
	return nil
}

// Hash is HashPassword with h.Params, in turn.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	p := h.Params
	if p == (Argon2Params{}) {
		p = DefaultArgon2()
	}
	return h.HashWith(ctx, pw, p)
}

// HashWith is HashPasswordWith, in turn.
func (h *Hasher) HashWith(ctx context.Context, pw string, p Argon2Params) (string, error) {
	var phc string
	var herr error
	if err := h.run(ctx, "auth.HashPassword", p.Memory, func() { phc, herr = HashPasswordWith(pw, p) }); err != nil {
		return "", err
	}
	return phc, herr
}

// Verify is VerifyPassword, in turn.
func (h *Hasher) Verify(ctx context.Context, phc, pw string) (bool, error) {
	p, _, _, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	var ok bool
	var verr error
	if err := h.run(ctx, "auth.VerifyPassword", p.Memory, func() { ok, verr = VerifyPassword(phc, pw) }); err != nil {
		return false, err
	}
	return ok, verr
}
