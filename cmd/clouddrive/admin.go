package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
)

func newAdmin(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Administer users, apps, tokens, webhooks and the stores (works while the server runs)"}
	var data string
	var ttl time.Duration
	token := &cobra.Command{
		Use:   "token USER",
		Short: "Print a new bearer access token for USER, creating the user (with a root folder) if absent",
		Long: `Print a new bearer access token for USER as the only line on stdout. The user is
created, with an empty root folder, if it does not exist. The token has the
scopes clouddrive:read_all and clouddrive:write.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := storeConfig(cmd, data)
			m, err := app.OpenMeta(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer m.Close()
			tok, err := app.AdminToken(cmd.Context(), cfg, m, args[0], ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, tok)
			return nil
		},
	}
	dataFlag(token, &data)
	token.Flags().DurationVar(&ttl, "ttl", 30*24*time.Hour, "token lifetime; 0 never expires")
	admin.AddCommand(token, newAdminUser(stdout), newAdminApp(stdout), newAdminWebhook(stdout), newAdminMedia(stdout))
	admin.AddCommand(newAdminOps(stdout)...)
	return admin
}
