package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/oauth"
)

// withMeta opens the metadata store selected by cmd's --data, --db and
// --blobs flags, runs fn and closes the store.
func withMeta(cmd *cobra.Command, data string, fn func(cfg app.Config, m meta.Store) error) error {
	cfg := storeConfig(cmd, data)
	m, err := app.OpenMeta(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(cfg, m)
}

// newAdminUser returns `admin user`: add, passwd, list, disable, enable,
// delete.
func newAdminUser(stdout io.Writer) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage users: add, passwd, list, disable, enable, delete, quota"}

	var data, pwFile string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a user with a password (prompted without echo, or --password-file)",
		Long: `Create user NAME, with an empty root folder, and set their password. The
password is read from the terminal without echo (asked twice), or from the
first line of --password-file (- reads standard input). It is stored as an
argon2id hash.

Password policy: ` + auth.PasswordPolicy + `.
A password that does not meet it is refused at once, before it is asked a
second time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			return withMeta(cmd, data, func(cfg app.Config, m meta.Store) error {
				if _, err := userByName(ctx, m, name); err == nil {
					return fmt.Errorf("user %s already exists (set a password with `clouddrive admin user passwd %s`)", name, name)
				} else if !drive.Is(drive.NotFound, err) {
					return err
				}
				hash, err := readNewPassword(cmd, pwFile)
				if err != nil {
					return err
				}
				u, err := app.NewNodes(cfg, m, nil).EnsureUser(ctx, name)
				if err != nil {
					return err
				}
				if err := m.Update(ctx, func(tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, hash) }); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "created user %s (id %s)\n", u.Name, u.ID)
				return nil
			})
		},
	}
	passwordFileFlag(add, &pwFile)

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set the password of an existing user",
		Long: `Set the password of user NAME, read as for add: from the terminal (asked
twice), or from --password-file.

Password policy: ` + auth.PasswordPolicy + `.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				u, err := userByName(ctx, m, name)
				if err != nil {
					return err
				}
				hash, err := readNewPassword(cmd, pwFile)
				if err != nil {
					return err
				}
				if err := m.Update(ctx, func(tx meta.Tx) error { return tx.SetUserPassword(ctx, u.ID, hash) }); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "password of %s changed\n", u.Name)
				return nil
			})
		},
	}
	passwordFileFlag(passwd, &pwFile)

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				type row struct {
					u   *drive.User
					pwd bool
				}
				var rows []row
				err := m.View(ctx, func(tx meta.Tx) error {
					users, err := tx.Users(ctx)
					if err != nil {
						return err
					}
					for _, u := range users {
						h, err := tx.UserPassword(ctx, u.ID)
						if err != nil {
							return err
						}
						rows = append(rows, row{u, h != ""})
					}
					return nil
				})
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tID\tSTATUS\tPASSWORD\tQUOTA\tCREATED")
				for _, r := range rows {
					status, pwd, quota := "active", "no", "unlimited"
					if r.u.Disabled {
						status = "disabled"
					}
					if r.pwd {
						pwd = "yes"
					}
					if r.u.Quota > 0 {
						quota = fmt.Sprint(r.u.Quota)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.u.Name, r.u.ID, status, pwd, quota,
						r.u.CreatedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}

	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx, name := cmd.Context(), args[0]
				return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
					err := m.Update(ctx, func(tx meta.Tx) error {
						u, err := tx.UserByName(ctx, name)
						if err != nil {
							return err
						}
						u.Disabled = disabled
						return tx.UpdateUser(ctx, u)
					})
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "user %s %sd\n", name, use)
					return nil
				})
			},
		}
	}
	disable := setDisabled("disable", "Disable a user: they cannot sign in and their tokens stop working", true)
	enable := setDisabled("enable", "Enable a disabled user again (their unexpired tokens work again)", false)

	var yes bool
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user and all their files, tokens and grants",
		Long: `Delete user NAME with every node, property, change and token. Their blobs
are removed by the server's garbage collector once unreferenced. Asks you to
type the user name to confirm, unless --yes is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				if _, err := userByName(ctx, m, name); err != nil {
					return err
				}
				if !yes {
					fmt.Fprintf(cmd.ErrOrStderr(), "This deletes user %s and all their files; it cannot be undone.\nType the user name to confirm: ", name)
					line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
					if err != nil && !errors.Is(err, io.EOF) {
						return err
					}
					if strings.TrimSpace(line) != name {
						return errors.New("confirmation did not match; nothing was deleted")
					}
				}
				err := m.Update(ctx, func(tx meta.Tx) error {
					u, err := tx.UserByName(ctx, name)
					if err != nil {
						return err
					}
					return tx.DeleteUser(ctx, u.ID)
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "deleted user %s\n", name)
				return nil
			})
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")

	quota := &cobra.Command{
		Use:   "quota NAME [SIZE]",
		Short: "Show or set a user's storage quota (e.g. 10GiB, 500MB; 0 is unlimited)",
		Long: `Show user NAME's quota and usage, or set the quota to SIZE: a byte count or a
number with a unit (KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in
powers of 1024). 0 means unlimited. Uploads that would exceed the quota get
403 QUOTA_EXCEEDED and store nothing; a lower quota than the current usage
blocks further uploads but deletes nothing.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, name := cmd.Context(), args[0]
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				var u *drive.User
				var usage drive.Usage
				err := m.Update(ctx, func(tx meta.Tx) error {
					var err error
					if u, err = tx.UserByName(ctx, name); err != nil {
						return err
					}
					if len(args) == 2 {
						q, err := bytesize.Parse(args[1])
						if err != nil {
							return err
						}
						u.Quota = q
						if err := tx.UpdateUser(ctx, u); err != nil {
							return err
						}
					}
					usage, err = tx.Usage(ctx, u.ID)
					return err
				})
				if err != nil {
					return err
				}
				q := "unlimited"
				if u.Quota > 0 {
					q = fmt.Sprintf("%d bytes", u.Quota)
				}
				fmt.Fprintf(stdout, "user %s: quota %s, used %d bytes in %d files\n", name, q, usage.Total().Bytes, usage.Total().Count)
				return nil
			})
		},
	}

	for _, c := range []*cobra.Command{add, passwd, list, disable, enable, del, quota} {
		dataFlag(c, &data)
		user.AddCommand(c)
	}
	return user
}

func passwordFileFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "password-file", "", "read the password from the first line of this file (- for standard input) instead of prompting")
}

func userByName(ctx context.Context, m meta.Store, name string) (*drive.User, error) {
	var u *drive.User
	err := m.View(ctx, func(tx meta.Tx) error {
		var err error
		u, err = tx.UserByName(ctx, name)
		return err
	})
	if drive.Is(drive.NotFound, err) {
		return nil, &drive.Error{Op: "admin.user", Kind: drive.NotFound, Message: "no user named " + name, Err: err}
	}
	return u, err
}

// readNewPassword reads a password from file (or standard input for "-"),
// or prompts twice on the terminal without echo; it checks the password
// policy and returns the argon2id hash.
func readNewPassword(cmd *cobra.Command, file string) (string, error) {
	var pw string
	switch file {
	case "":
		in, ok := cmd.InOrStdin().(*os.File)
		if !ok || !term.IsTerminal(int(in.Fd())) {
			return "", errors.New("standard input is not a terminal; give the password with --password-file")
		}
		prompt := func(p string) (string, error) {
			fmt.Fprint(cmd.ErrOrStderr(), p)
			b, err := term.ReadPassword(int(in.Fd()))
			fmt.Fprintln(cmd.ErrOrStderr())
			return string(b), err
		}
		var err error
		fmt.Fprintf(cmd.ErrOrStderr(), "Passwords are %s.\n", auth.PasswordPolicy)
		if pw, err = prompt("Password: "); err != nil {
			return "", err
		}
		if err := checkPassword(pw); err != nil {
			return "", err
		}
		again, err := prompt("Repeat password: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the passwords differ")
		}
	default:
		var r io.Reader
		if file == "-" {
			r = cmd.InOrStdin()
		} else {
			f, err := os.Open(file)
			if err != nil {
				return "", err
			}
			defer f.Close()
			r = f
		}
		line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	}
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	return auth.HashPassword(pw)
}

// checkPassword applies the password policy, in words for the person
// typing.
func checkPassword(pw string) error {
	if err := auth.CheckPasswordPolicy(pw); err != nil {
		msg := err.Error()
		if de := drive.AsError(err); de != nil && de.Message != "" {
			msg = de.Message
		}
		return &drive.Error{Kind: drive.Invalid, Message: fmt.Sprintf("%s; nothing was changed (passwords are %s)", msg, auth.PasswordPolicy)}
	}
	return nil
}

// newAdminApp returns `admin app`: add, list, delete.
func newAdminApp(stdout io.Writer) *cobra.Command {
	appCmd := &cobra.Command{Use: "app", Short: "Manage OAuth client applications: add, list, delete"}
	var data string
	var uris []string
	var public bool
	apps := func(m meta.Store) *oauth.Apps { return &oauth.Apps{Meta: m, Now: time.Now} }

	add := &cobra.Command{
		Use:   "add NAME --redirect-uri URI [--redirect-uri URI ...] [--public]",
		Short: "Register an app; prints its client id and (unless --public) its client secret",
		Long: `Register an OAuth client application and print its client_id and
client_secret. The secret is shown only now; the server keeps a hash.
--public registers a client without a secret (a native or browser app), which
must then use PKCE; its http loopback redirect URIs accept any port.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				a := apps(m)
				if err := a.Seed(ctx); err != nil {
					return err
				}
				created, secret, err := a.Create(ctx, args[0], uris, public)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "client_id: %s\n", created.ClientID)
				if secret != "" {
					fmt.Fprintf(stdout, "client_secret: %s\n", secret)
					fmt.Fprintln(cmd.ErrOrStderr(), "The client secret is shown only once; store it now.")
				}
				return nil
			})
		},
	}
	add.Flags().StringArrayVar(&uris, "redirect-uri", nil, "a redirect URI (repeat for several)")
	add.Flags().BoolVar(&public, "public", false, "a public client: no secret, PKCE required")
	_ = add.MarkFlagRequired("redirect-uri")

	list := &cobra.Command{
		Use:   "list",
		Short: "List registered apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				a := apps(m)
				if err := a.Seed(ctx); err != nil {
					return err
				}
				all, err := a.List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCLIENT ID\tTYPE\tREDIRECT URIS")
				for _, x := range all {
					typ := "confidential"
					if x.Public {
						typ = "public"
					}
					if x.FirstParty {
						typ += ", first-party"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, x.ClientID, typ, strings.Join(x.RedirectURIs, " "))
				}
				return tw.Flush()
			})
		},
	}

	del := &cobra.Command{
		Use:   "delete NAME|CLIENT_ID",
		Short: "Delete an app and revoke every token issued to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				gone, err := apps(m).Delete(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "deleted app %s (%s)\n", gone.Name, gone.ClientID)
				return nil
			})
		},
	}

	for _, c := range []*cobra.Command{add, list, del} {
		dataFlag(c, &data)
		appCmd.AddCommand(c)
	}
	return appCmd
}
