package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/shim"
)

// defaultShimAddr is where `clouddrive shim` listens by default.
const defaultShimAddr = "127.0.0.1:8443"

// shimCA is the directory of the shim's CA under the config dir.
func (d dirs) shimCA() string { return filepath.Join(d.config, "shim") }

// serverFor resolves the server of a command: the --server flag, then
// $CLOUDDRIVE_SERVER, then the server logged in to.
func (e *Env) serverFor(flag string, d dirs) (string, error) {
	s := flag
	if s == "" {
		s = e.getenv(EnvServer)
	}
	if s == "" {
		creds, err := loadCredentials(d.credentials())
		if errors.Is(err, errNotLoggedIn) {
			return "", usageErrorf("give --server URL, or log in first (clouddrive login --server URL --browser)")
		}
		if err != nil {
			return "", err
		}
		s = creds.Server
	}
	return normalizeServer(s)
}

// loadShimCA returns the shim's CA, making it on first use.
func (e *Env) loadShimCA(d dirs, o *common) (*shim.CA, error) {
	ca, created, err := shim.LoadOrCreateCA(d.shimCA(), e.now)
	if err != nil {
		return nil, err
	}
	if created {
		o.infof(e, "made the shim's certificate authority: %s (clients trust it; its key never leaves %s)", ca.CertPath, d.shimCA())
	}
	return ca, nil
}

const shimHelp = `Run an HTTPS proxy on this machine that lets unmodified Amazon Cloud Drive
clients (rclone's "amazon cloud drive" backend, go-acd, acd_cli) use the
clouddrive server. Those clients call a few hard-coded Amazon hosts; pointed
at the shim with HTTPS_PROXY, those calls reach the server instead:

  drive.amazonaws.com/drive/v1/...           -> SERVER/drive/v1/...
  cdws.us-east-1.amazonaws.com/drive/v1/...  -> SERVER/drive/v1/...
  content-*.drive.amazonaws.com/cdproxy/...  -> SERVER/cdproxy/...
  api.amazon.com/auth/o2/...                 -> SERVER/auth/o2/...
  www.amazon.com/ap/...                      -> SERVER/ap/...

Every other host passes through untouched (a plain CONNECT tunnel, or the
plain-HTTP request forwarded as it is); other paths on those hosts get 404.
The shim answers the Amazon hosts with certificates of its own certificate
authority, made on first use in <config dir>/clouddrive/shim/ (ca.pem and
ca-key.pem, mode 0600; see clouddrive shim ca). The CA is name-constrained:
it can vouch for those Amazon names only. Clients trust it with rclone's
--ca-cert, REQUESTS_CA_BUNDLE (acd_cli), NODE_EXTRA_CA_CERTS (Node) or the
system store.

SERVER is --server, else $CLOUDDRIVE_SERVER, else the server you logged in
to. Only clients on this machine are served unless --allow-remote is given
(the proxy tunnels to any host, so do not open it to a network you do not
trust). clouddrive connect rclone / acd-cli set the clients up and print
the exact command to run through the shim.

For clients that ignore proxy settings: point the Amazon names at 127.0.0.1
in the hosts file and run the shim with --tls-addr 127.0.0.1:443 (or the
server itself on 443 with a certificate from clouddrive shim cert).`

func newShim(env *Env) *cobra.Command {
	var o common
	var addr, server, tlsAddr string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "shim [--addr HOST:PORT] [--server URL]",
		Short: "Proxy that serves the Amazon hosts of unmodified ACD clients from the server",
		Long:  shimHelp,
		Example: `  clouddrive shim                                  # for the server you logged in to
  clouddrive shim --server http://127.0.0.1:8080 --addr 127.0.0.1:8443
  HTTPS_PROXY=http://127.0.0.1:8443 rclone --ca-cert "$(clouddrive shim ca --path)" ls acd:
  sudo clouddrive shim --tls-addr 127.0.0.1:443    # with the Amazon names in /etc/hosts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := env.dirs()
			if err != nil {
				return err
			}
			srv, err := env.serverFor(server, d)
			if err != nil {
				return err
			}
			su, err := url.Parse(srv)
			if err != nil {
				return usageErrorf("--server %q: %v", srv, err)
			}
			ca, err := env.loadShimCA(d, &o)
			if err != nil {
				return err
			}
			level := slog.LevelInfo
			switch {
			case o.quiet:
				level = slog.LevelError
			case o.verbose:
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
			p, err := shim.New(shim.Config{Server: su, CA: ca, AllowRemote: allowRemote, Logger: log})
			if err != nil {
				return err
			}
			defer p.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on --addr %s: %w", addr, err)
			}
			errc := make(chan error, 2)
			go func() { errc <- p.Serve(ln) }()
			proxyURL := "http://" + ln.Addr().String()
			o.infof(env, "clouddrive shim: proxy on %s serving %s from %s", proxyURL, strings.Join(interceptedHosts, ", "), srv)
			if tlsAddr != "" {
				tln, err := net.Listen("tcp", tlsAddr)
				if err != nil {
					return fmt.Errorf("listening on --tls-addr %s: %w", tlsAddr, err)
				}
				go func() { errc <- p.ServeTLS(tln) }()
				o.infof(env, "clouddrive shim: TLS for the Amazon names on %s (point them at it in the hosts file)", tln.Addr())
			}
			o.infof(env, "CA certificate: %s", ca.CertPath)
			o.infof(env, "  rclone:  HTTPS_PROXY=%s rclone --ca-cert %s ls REMOTE:", proxyURL, ca.CertPath)
			o.infof(env, "  acd_cli: HTTPS_PROXY=%s REQUESTS_CA_BUNDLE=%s acd_cli sync", proxyURL, ca.CertPath)
			o.infof(env, "Stop with Ctrl-C.")
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", defaultShimAddr, "address of the proxy (HTTPS_PROXY=http://ADDR)")
	cmd.Flags().StringVar(&server, "server", "", "clouddrive server the Amazon hosts stand for (default: $"+EnvServer+", else the server logged in to)")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "serve clients that are not on this machine (the proxy tunnels to any host)")
	cmd.Flags().StringVar(&tlsAddr, "tls-addr", "", "also answer TLS for the Amazon names directly on this address (hosts-file set-up), e.g. 127.0.0.1:443")
	cmd.AddCommand(newShimCA(env), newShimCert(env))
	return cmd
}

// interceptedHosts names the hosts for the start-up message.
var interceptedHosts = []string{shim.HostDrive, shim.HostCDWS, "content-*.drive.amazonaws.com", shim.HostAPI, shim.HostWWW}

func newShimCA(env *Env) *cobra.Command {
	var o common
	var pathOnly bool
	cmd := &cobra.Command{
		Use:   "ca [--path]",
		Short: "Print the shim's CA certificate (PEM), making it on first use",
		Long: `Print the certificate of the shim's certificate authority in PEM on stdout
(with its path on stderr), or only its path with --path. The CA is made on
first use in <config dir>/clouddrive/shim/ (ca.pem, and its key ca-key.pem;
both mode 0600) and kept: trust it once in each client.

  rclone     --ca-cert "$(clouddrive shim ca --path)"
  acd_cli    REQUESTS_CA_BUNDLE="$(clouddrive shim ca --path)"
  Node       NODE_EXTRA_CA_CERTS="$(clouddrive shim ca --path)"
  system     Debian: cp the file to /usr/local/share/ca-certificates/clouddrive-shim.crt
             and run update-ca-certificates

--ca-cert and REQUESTS_CA_BUNDLE replace the client's trusted roots: for an
https:// server with a public certificate, clouddrive connect writes a bundle
of the system's roots and this CA and prints that instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := env.dirs()
			if err != nil {
				return err
			}
			ca, err := env.loadShimCA(d, &o)
			if err != nil {
				return err
			}
			if pathOnly {
				fmt.Fprintln(env.Stdout, ca.CertPath)
				return nil
			}
			o.infof(env, "# %s", ca.CertPath)
			_, err = env.Stdout.Write(ca.PEM())
			return err
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&pathOnly, "path", false, "print only the path of the certificate file")
	return cmd
}

func newShimCert(env *Env) *cobra.Command {
	var o common
	var certPath, keyPath string
	var days int
	cmd := &cobra.Command{
		Use:   "cert --cert FILE --key FILE",
		Short: "Write a certificate for the Amazon names, signed by the shim's CA",
		Long: `Write a certificate (with the CA after it) and its key, both PEM with mode
0600, for every Amazon name the shim answers (` + strings.Join(shim.LeafNames(), ", ") + `),
signed by the shim's CA. It is for the hosts-file set-up without the shim: point
those names at 127.0.0.1 in /etc/hosts and run the server on port 443 with
  clouddrive serve --addr 127.0.0.1:443 --tls-cert FILE --tls-key FILE
The server serves the Amazon paths as they are.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if certPath == "" || keyPath == "" {
				return usageErrorf("give both --cert FILE and --key FILE")
			}
			if days < 1 || days > 825 {
				return usageErrorf("--days must be between 1 and 825, not %d", days)
			}
			d, err := env.dirs()
			if err != nil {
				return err
			}
			ca, err := env.loadShimCA(d, &o)
			if err != nil {
				return err
			}
			if err := ca.WriteLeaf(certPath, keyPath, time.Duration(days)*24*time.Hour); err != nil {
				return err
			}
			o.infof(env, "wrote %s and %s, valid for %d days; clients trust %s", certPath, keyPath, days, ca.CertPath)
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().StringVar(&certPath, "cert", "", "certificate file to write (PEM: the certificate, then the CA)")
	cmd.Flags().StringVar(&keyPath, "key", "", "key file to write (PEM)")
	cmd.Flags().IntVar(&days, "days", 365, "validity in days")
	return cmd
}
