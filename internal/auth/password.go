package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

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

// CheckPasswordPolicy reports whether pw may be set as a password: 8 to
// 1024 bytes.
func CheckPasswordPolicy(pw string) error {
	const op = "auth.CheckPasswordPolicy"
	if len(pw) < minPasswordLen {
		return drive.Errorf(op, drive.Invalid, "password must be at least %d characters", minPasswordLen)
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
