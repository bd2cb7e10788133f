package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/auth"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/meta"
	"github.com/clouddrive/clouddrive/internal/webhook"
)

// newAdminWebhook returns `admin webhook`: add, list, delete, deliveries,
// replay.
func newAdminWebhook(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Manage webhook subscriptions and deliveries: add, list, delete, deliveries, replay"}
	var data string
	hooks := func(m meta.Store) *webhook.Service {
		return &webhook.Service{Meta: m, Now: time.Now, NewID: drive.NewID}
	}

	var appID, url, secret, user string
	var events []string
	add := &cobra.Command{
		Use:   "add --app ID --url URL [--secret S] [--events TYPE,...] [--user NAME]",
		Short: "Subscribe an app to node events of one user, or of every user who granted it",
		Long: `Subscribe app ID (a client id or app name) to node events: those of user NAME
with --user, otherwise those of every user who granted the app (holds a token
of it that is neither revoked nor expired when the change happens). Prints the
subscription id and the secret that signs deliveries (generated unless
--secret is given). Event types: ` + strings.Join(acd.WebhookEventTypes(), ", ") + `;
without --events every type is sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				clientID, err := resolveApp(ctx, m, appID)
				if err != nil {
					return err
				}
				in := webhook.New{AppID: clientID, URL: url, Secret: secret, Events: events}
				if user != "" {
					u, err := userByName(ctx, m, user)
					if err != nil {
						return err
					}
					in.UserID = u.ID
				}
				w, err := hooks(m).Create(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "id: %s\nsecret: %s\n", w.ID, w.Secret)
				if secret == "" {
					fmt.Fprintln(cmd.ErrOrStderr(), "The secret is shown only once; give it to the receiver now.")
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&appID, "app", "", "client id or name of the subscribing app")
	add.Flags().StringVar(&url, "url", "", "http(s) URL that receives the events")
	add.Flags().StringVar(&secret, "secret", "", "signing secret (16-256 bytes); default: generated")
	add.Flags().StringSliceVar(&events, "events", nil, "event types to send, comma-separated; default: all")
	add.Flags().StringVar(&user, "user", "", "subscribe for this user only")
	_ = add.MarkFlagRequired("app")
	_ = add.MarkFlagRequired("url")

	list := &cobra.Command{
		Use:   "list",
		Short: "List webhook subscriptions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				ws, err := hooks(m).List(ctx, "", "")
				if err != nil {
					return err
				}
				names, err := userNames(ctx, m)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tAPP\tUSER\tEVENTS\tURL\tCREATED")
				for _, w := range ws {
					who, evs := "(all who granted)", "all"
					if w.UserID != "" {
						who = names[w.UserID]
					}
					if len(w.Events) > 0 {
						evs = strings.Join(w.Events, ",")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, w.AppID, who, evs, w.URL, w.CreatedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a subscription and its deliveries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				if err := hooks(m).Delete(ctx, "", "", args[0]); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "deleted webhook %s\n", args[0])
				return nil
			})
		},
	}

	var status, sub string
	var limit int
	deliveries := &cobra.Command{
		Use:   "deliveries [--status pending|delivered|dead] [--sub ID] [--limit N]",
		Short: "List webhook deliveries, newest first",
		Long: `List webhook deliveries, newest first: one per event and subscription, with its
state, the attempts made, when the next one is due (pending) and how the last
one ended. Pending deliveries are retried 5 minutes, 1 hour and 12 hours
after a failed attempt; after the fourth failure they are dead. Resend one
with 'clouddrive admin webhook replay ID'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				ds, err := hooks(m).Deliveries(ctx, meta.DeliveryFilter{Status: status, WebhookID: sub, Limit: limit})
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEVENT\tTYPE\tWEBHOOK\tSTATUS\tATTEMPTS\tNEXT\tLAST")
				for _, d := range ds {
					next, last := "-", "-"
					if d.Status == meta.DeliveryPending {
						next = d.NextAt.UTC().Format(time.RFC3339)
					}
					if !d.LastAttemptAt.IsZero() {
						last = d.LastAttemptAt.UTC().Format(time.RFC3339)
						switch {
						case d.LastError != "":
							last += " " + d.LastError
						case d.LastStatus != 0:
							last += fmt.Sprintf(" HTTP %d", d.LastStatus)
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.EventID, d.EventType, d.WebhookID, d.Status, d.Attempts, next, last)
				}
				return tw.Flush()
			})
		},
	}
	deliveries.Flags().StringVar(&status, "status", "", "only deliveries in this state: pending, delivered or dead")
	deliveries.Flags().StringVar(&sub, "sub", "", "only deliveries of this subscription")
	deliveries.Flags().IntVar(&limit, "limit", 100, "at most this many")

	replay := &cobra.Command{
		Use:   "replay DELIVERY_ID",
		Short: "Send a delivery again (same event id and body), with a fresh retry schedule",
		Long: `Make a delivery pending again, due now, with no attempts counted: a running
server sends it within its poll interval, with the same event id and body as
before (receivers deduplicate on the id).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withMeta(cmd, data, func(_ app.Config, m meta.Store) error {
				d, err := hooks(m).Replay(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "delivery %s (event %s, %s) queued again\n", d.ID, d.EventID, d.EventType)
				return nil
			})
		},
	}

	for _, c := range []*cobra.Command{add, list, del, deliveries, replay} {
		dataFlag(c, &data)
		cmd.AddCommand(c)
	}
	return cmd
}

// resolveApp returns the client id of the app named by id or name; the
// admin tokens' client id is accepted too.
func resolveApp(ctx context.Context, m meta.Store, s string) (string, error) {
	if s == auth.AdminClientID {
		return s, nil
	}
	var id string
	err := m.View(ctx, func(tx meta.Tx) error {
		a, err := tx.App(ctx, s)
		if drive.Is(drive.NotFound, err) {
			a, err = tx.AppByName(ctx, s)
		}
		if err != nil {
			return err
		}
		id = a.ClientID
		return nil
	})
	if drive.Is(drive.NotFound, err) {
		return "", &drive.Error{Op: "admin.webhook", Kind: drive.NotFound, Message: "no app with client id or name " + s, Err: err}
	}
	return id, err
}

// userNames maps user ids to names.
func userNames(ctx context.Context, m meta.Store) (map[string]string, error) {
	out := map[string]string{}
	err := m.View(ctx, func(tx meta.Tx) error {
		us, err := tx.Users(ctx)
		for _, u := range us {
			out[u.ID] = u.Name
		}
		return err
	})
	return out, err
}
