// Command clouddrive is a self-hosted server that speaks the Amazon Cloud
// Drive REST API, its admin commands, and the command-line client.
//
//	clouddrive serve [--config FILE] [--addr HOST:PORT] [--data DIR] [--public-url URL]
//	clouddrive admin user|app|token|webhook|gc|backup|restore|migrate ...
//	clouddrive login|ls|upload|download|mount|... (package internal/cli)
//
// Subcommands live one group per file: serve.go (with config.go, tls.go),
// admin*.go, bench.go, version.go; client.go mounts the client commands.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clouddrive:", err)
		os.Exit(1)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "clouddrive",
		Short: "A self-hosted server for the Amazon Cloud Drive API",
		Long: `clouddrive is a self-hosted server that speaks the Amazon Cloud Drive REST API,
so existing ACD clients (rclone's acd backend, go-acd, acd_cli) work against it.

Start a server with no configuration:   clouddrive serve
Add a user, then open <server>/ui/:     clouddrive admin user add alice
Get a bearer token for a user:          clouddrive admin token alice
Use the drive from this machine:        clouddrive login --server http://127.0.0.1:8080 --browser
                                        clouddrive ls /   (upload, download, mount, ...)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Commands that open the stores (admin ..., bench) read settings
	// from the config file and environment too; serve does so itself,
	// to print them with --print-config.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Flags().Lookup("config") == nil || cmd.Flags().Lookup("print-config") != nil {
			return nil
		}
		_, err := applySettings(cmd, os.Getenv)
		return err
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServe(stdout, stderr), newAdmin(stdout), newVersion(stdout), newBench(stdout, stderr))
	root.AddCommand(clientCommands(stdout, stderr)...)
	return root
}

func dataFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "data", app.DefaultDataDir(), "data directory: meta.db (SQLite) and blobs/")
	storeFlags(cmd) // --db and --blobs (admin_ops.go)
	settingsFlags(cmd)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}
