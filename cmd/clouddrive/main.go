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
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/app"
	"github.com/clouddrive/clouddrive/internal/cli"
	"github.com/clouddrive/clouddrive/internal/drive"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, newRoot(os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs root and returns the exit status. The client commands exit
// with the codes of `clouddrive help exit-codes` themselves (client.go);
// what reaches here is 2 for a command line that does not parse (an
// unknown command, a bad flag or argument of any command) and 1 for any
// other failure of serve, admin, bench and version.
func execute(ctx context.Context, root *cobra.Command, stderr io.Writer) int {
	err := cli.CommandLineError(root.ExecuteContext(ctx))
	if err == nil {
		return cli.ExitOK
	}
	if cli.ExitCode(err) == cli.ExitUsage {
		cli.PrintError(stderr, err)
		return cli.ExitUsage
	}
	fmt.Fprintln(stderr, "clouddrive:", userMessage(err))
	return cli.ExitFailure
}

// userMessage is err's text without the operation names of the domain's
// errors ("auth.CheckPasswordPolicy: "): an error of a kind other than
// internal carries a message meant for people, which is shown alone.
func userMessage(err error) string {
	msg := err.Error()
	if de := drive.AsError(err); de != nil && de.Kind != drive.Internal && de.Message != "" {
		msg = strings.Replace(msg, de.Error(), de.Message, 1)
	}
	return msg
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
	cli.RootFlags(root) // -q/-v before the command name; usage errors exit 2
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
