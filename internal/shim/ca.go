package shim

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files of the CA directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// Lifetimes.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 30 * 24 * time.Hour
	// leafRenew is how long before its expiry a cached leaf is replaced.
	leafRenew = 24 * time.Hour
	// backdate covers clocks that are a little behind.
	backdate = time.Hour
)

// CA is the shim's certificate authority: a self-signed ECDSA P-256
// certificate whose name constraints permit only the Amazon hosts, and
// its key. It signs the leaf certificates the Proxy presents. It is safe
// for concurrent use.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// CertPath is the file holding Cert in PEM, the file clients are
	// told to trust.
	CertPath string

	key     crypto.Signer
	certPEM []byte
	now     func() time.Time

	mu      sync.Mutex
	leafKey *ecdsa.PrivateKey
	leaves  map[string]*tls.Certificate
}

// LoadOrCreateCA returns the CA kept in dir (CertFile and KeyFile),
// making it first if dir holds none; created says whether it did. Two
// processes making it at once end up with the same one: it is written to
// a temporary directory that is renamed into place, and the loser loads
// the winner's. now is the clock (nil: time.Now).
func LoadOrCreateCA(dir string, now func() time.Time) (ca *CA, created bool, err error) {
	if now == nil {
		now = time.Now
	}
	ca, err = loadCA(dir, now)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ca, false, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, false, fmt.Errorf("making the CA directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".shim-ca-")
	if err != nil {
		return nil, false, fmt.Errorf("making the CA directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	certPEM, keyPEM, err := newCA(now())
	if err != nil {
		return nil, false, err
	}
	for name, b := range map[string][]byte{KeyFile: keyPEM, CertFile: certPEM} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o600); err != nil {
			return nil, false, fmt.Errorf("writing the CA: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err == nil {
		created = true
	} else if _, statErr := os.Stat(filepath.Join(dir, CertFile)); statErr != nil {
		// Not a lost race: dir exists without a CA in it, or cannot be made.
		return nil, false, fmt.Errorf("installing the CA in %s: %w", dir, err)
	}
	ca, err = loadCA(dir, now)
	return ca, created, err
}

// newCA makes a CA certificate and key, in PEM.
func newCA(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{Organization: []string{"clouddrive"},
			CommonName: "clouddrive shim CA " + hex.EncodeToString(id[:])},
		NotBefore:                   now.Add(-backdate),
		NotAfter:                    now.Add(caLifetime),
		IsCA:                        true,
		BasicConstraintsValid:       true,
		MaxPathLenZero:              true,
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         constraintDomains,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the CA certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// loadCA reads and checks the CA in dir; a missing file is fs.ErrNotExist.
func loadCA(dir string, now func() time.Time) (*CA, error) {
	certPath := filepath.Join(dir, CertFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, err
	}
	bad := func(what string, err error) error {
		return fmt.Errorf("the shim's CA in %s is unusable (%s: %v): delete %s and %s to make a new one, then trust the new %s",
			dir, what, err, CertFile, KeyFile, CertFile)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, bad(CertFile, errors.New("no PEM certificate"))
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, bad(CertFile, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, bad(KeyFile, errors.New("no PEM key"))
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, bad(KeyFile, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, bad(KeyFile, errors.New("not a signing key"))
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	switch {
	case !ok || !pub.Equal(cert.PublicKey):
		return nil, bad(KeyFile, errors.New("the key does not match the certificate"))
	case !cert.IsCA:
		return nil, bad(CertFile, errors.New("not a CA certificate"))
	case now().After(cert.NotAfter):
		return nil, bad(CertFile, fmt.Errorf("expired on %s", cert.NotAfter.Format(time.DateOnly)))
	}
	return &CA{Cert: cert, CertPath: certPath, key: key, certPEM: certPEM, now: now,
		leaves: map[string]*tls.Certificate{}}, nil
}

// PEM returns the CA certificate in PEM.
func (c *CA) PEM() []byte { return bytes.Clone(c.certPEM) }

// Pool returns a pool holding only the CA certificate.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// Leaf returns a certificate for host, an intercepted host, signed by the
// CA; it is made on first use and kept until a day before it expires.
// Other hosts are refused: the shim never impersonates anything else.
func (c *CA) Leaf(host string) (*tls.Certificate, error) {
	h := canonicalHost(host)
	if !Intercepted(h) {
		return nil, fmt.Errorf("the shim does not make certificates for %q", host)
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.leaves[h]; l != nil && now.Add(leafRenew).Before(l.Leaf.NotAfter) {
		return l, nil
	}
	if c.leafKey == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		c.leafKey = k
	}
	l, err := c.sign([]string{h}, c.leafKey, now, leafLifetime)
	if err != nil {
		return nil, err
	}
	c.leaves[h] = l
	return l, nil
}

// sign makes a server certificate for names with key.
func (c *CA) sign(names []string, key *ecdsa.PrivateKey, now time.Time, life time.Duration) (*tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(life),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(c.Cert.NotAfter) {
		tmpl.NotAfter = c.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("signing a certificate for %s: %w", names[0], err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// WriteLeaf writes a certificate for every name of LeafNames, valid for
// validFor, and its key, in PEM with mode 0600: for a clouddrive server
// (serve --tls-cert, --tls-key) that answers the Amazon names itself
// through the hosts file. The certificate file holds the leaf and the CA.
func (c *CA) WriteLeaf(certPath, keyPath string, validFor time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	l, err := c.sign(LeafNames(), key, c.now(), validFor)
	if err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.Certificate[0]}), c.certPEM...)
	if err := writePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})); err != nil {
		return err
	}
	return writePrivate(certPath, chain)
}

// writePrivate writes b to path with mode 0600, also when path exists.
func writePrivate(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("shim: crypto/rand failed: " + err.Error())
	}
	return n.Add(n, big.NewInt(1))
}
