package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/client"
)

// Env is what the commands need from the process: streams, environment
// and, for tests, the HTTP client. Fields left nil get the process's own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads environment variables (CLOUDDRIVE_CONFIG_DIR,
	// CLOUDDRIVE_CACHE_DIR, CLOUDDRIVE_SERVER); nil reads none.
	Getenv func(string) string
	// HTTPClient carries every API request; nil uses a new client.
	HTTPClient *http.Client
	// IsTerminal says whether w is a terminal, which enables progress
	// bars; nil checks *os.File values with isatty.
	IsTerminal func(w io.Writer) bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Retry overrides the SDK's retry policy (tests).
	Retry *client.Retry
	// OpenURL shows a login page to the user; nil opens the platform's
	// browser (tests drive the page themselves).
	OpenURL func(url string) error
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) isTerminal(w io.Writer) bool {
	if e.IsTerminal != nil {
		return e.IsTerminal(w)
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Exit codes. They are part of the CLI's interface: scripts may rely on
// them.
const (
	ExitOK          = 0
	ExitFailure     = 1   // anything not listed below
	ExitUsage       = 2   // bad arguments or flags
	ExitNotFound    = 3   // a remote or local path or node does not exist
	ExitConflict    = 4   // the name or content exists already (see --overwrite)
	ExitAuth        = 5   // not logged in, or the server rejected the token
	ExitInterrupted = 130 // interrupted (Ctrl-C); run the command again to resume
)

const exitCodesHelp = `Exit codes:
  0    success
  1    failure (network, server, local I/O, quota, restore or purge of a
       node that is not in the trash, ...)
  2    usage: unknown command, bad arguments or flags
  3    not found: a remote path or node, or a local file, does not exist
  4    conflict: the name (or content) exists already; see --overwrite
  5    login needed: not logged in, or the token was rejected or expired
  130  interrupted; running the same command again resumes it`

// usageError is a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// hinted attaches what to do next to an error.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

// ExitCode maps an error returned by a command to the process exit code.
// A joined error gets the code its parts share, or 1 if they differ.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		code := -1
		for _, e := range j.Unwrap() {
			c := ExitCode(e)
			if code >= 0 && c != code {
				return ExitFailure
			}
			code = c
		}
		if code >= 0 {
			return code
		}
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, errNotLoggedIn), errors.Is(err, client.ErrUnauthorized):
		return ExitAuth
	case errors.Is(err, client.ErrNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, errNoSuchPath):
		return ExitNotFound
	case errors.Is(err, client.ErrConflict), errors.Is(err, errExists):
		return ExitConflict
	}
	return ExitFailure
}

// errNoSuchPath is a remote path that does not resolve.
var errNoSuchPath = errors.New("no such remote path")

// errExists is a destination that exists with other content.
var errExists = errors.New("exists")

// hint returns the advice for an error, or "".
func hint(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return ""
	case errors.Is(err, context.Canceled):
		return "interrupted: run the same command again to carry on (partial downloads are kept as NAME" + client.IncompleteSuffix + ")"
	case errors.Is(err, errNotLoggedIn):
		return "log in first: clouddrive login --server URL --token TOKEN (get a token on the server with: clouddrive admin token USER)"
	case errors.Is(err, client.ErrUnauthorized):
		return "the server rejected the token (expired or revoked): get a new one with `clouddrive admin token USER` on the server, then run clouddrive login --server URL --token TOKEN"
	case errors.Is(err, client.ErrQuotaExceeded):
		return "the account is full: free space with `clouddrive trash` and `clouddrive purge`, or ask the administrator for more quota"
	case errors.Is(err, client.ErrRateLimited):
		return "the server is throttling requests: try again later, or with fewer parallel transfers (-j)"
	case errors.Is(err, client.ErrUnavailable):
		return "the server kept failing: try again later; the logref identifies the failure in the server's log"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "no server answers at that address: check the URL given to clouddrive login, and that the server runs"
	case errors.Is(err, fs.ErrNotExist):
		return "the local file or directory does not exist: check the path"
	case errors.Is(err, errNoSuchPath), errors.Is(err, client.ErrNotFound):
		return "check the path with `clouddrive ls`; if it was changed by another client, run `clouddrive sync` first"
	case errors.Is(err, errExists), errors.Is(err, client.ErrConflict):
		return "the name is taken: choose another name, move the other node away, or pass --overwrite where supported"
	case errors.Is(err, client.ErrChecksum):
		return "the bytes received differ from the server's MD5: run the command again"
	case errors.Is(err, client.ErrForbidden):
		return "the token may only read (log in again with --browser or --device for write access), or the node cannot be changed (the root folder, another app's properties)"
	case errors.Is(err, client.ErrInvalid):
		return "the server's message above says which name or value it refused: correct it and run the command again"
	}
	return ""
}

// PrintError writes err, and what to do next, for a person to read.
func PrintError(w io.Writer, err error) {
	if err == nil {
		return
	}
	msgs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		msgs = j.Unwrap()
	}
	hints := map[string]bool{}
	for _, e := range msgs {
		fmt.Fprintln(w, "clouddrive:", message(e))
	}
	for _, e := range msgs {
		if h := hint(e); h != "" && !hints[h] {
			hints[h] = true
			fmt.Fprintln(w, "  hint:", h)
		}
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(w, "  run with --help for usage")
	}
}

// Main runs the client commands as the clouddrive binary does (args
// without the program name) and returns the exit code; errors go to
// env.Stderr. Tests use it to run the CLI in-process.
func Main(ctx context.Context, env *Env, args []string) int {
	root := &cobra.Command{Use: "clouddrive", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.AddCommand(Commands(env)...)
	RootFlags(root)
	root.SetArgs(args)
	err := CommandLineError(root.ExecuteContext(ctx))
	PrintError(env.Stderr, err)
	return ExitCode(err)
}

// RootFlags prepares the root command of the binary: the client
// commands' -q and -v are accepted before the command name too
// (clouddrive -v ls /), and a bad flag of the root, or of a command that
// does not handle its own, is a usage error (exit code 2), as are
// argument errors of every command below it.
func RootFlags(root *cobra.Command) {
	var quiet, verbose bool
	root.Flags().BoolVarP(&quiet, "quiet", "q", false, "client commands: print nothing but results and errors (may come before the command name)")
	root.Flags().BoolVarP(&verbose, "verbose", "v", false, "client commands: log retries and each file transferred (may come before the command name)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range root.Commands() {
		markUsageErrors(c)
	}
}

// CommandLineError returns err, made a usage error (exit code 2) when
// cobra reports an unknown command.
func CommandLineError(err error) error {
	var ue usageError
	if err != nil && !errors.As(err, &ue) && strings.HasPrefix(err.Error(), "unknown command") {
		return usageError{err}
	}
	return err
}

// Commands returns the client commands, to be added to the root command.
func Commands(env *Env) []*cobra.Command {
	cmds := []*cobra.Command{
		newLogin(env), newLogout(env), newSync(env),
		newLs(env), newTree(env), newFind(env), newStat(env),
		newUpload(env), newDownload(env), newCat(env),
		newMkdir(env), newMv(env), newRename(env),
		newTrash(env), newRestore(env), newPurge(env),
		newUsage(env), newQuota(env), newProps(env), newLink(env), newMount(env),
		newConnect(env), newShim(env),
		newExitCodes(),
	}
	for _, c := range cmds {
		markUsageErrors(c)
	}
	return cmds
}

// markUsageErrors makes argument and flag errors of c and its
// subcommands usage errors (exit code 2), and an unknown subcommand of a
// group (clouddrive props nosuch) too, which cobra would answer with the
// group's help and exit code 0.
func markUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if c.Run == nil && c.RunE == nil && c.HasSubCommands() {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}
	}
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

func newExitCodes() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit codes of the client commands",
		Long:  "The client commands (login, ls, upload, ...) exit with these codes:\n\n" + exitCodesHelp,
	}
}

// common holds the flags every client command has.
type common struct {
	quiet   bool
	verbose bool
	sdk     []client.Option // extra SDK options of the command (upload's resumable-upload flags)
}

func (o *common) register(c *cobra.Command) {
	c.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing but results and errors (for scripts)")
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "log retries, resumed downloads and each file transferred or skipped to stderr")
	c.Long += "\n\n" + exitCodesHelp
}

func (o *common) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	if o.quiet {
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// infof prints a progress or summary message to stderr unless quiet.
func (o *common) infof(env *Env, format string, args ...any) {
	if !o.quiet {
		fmt.Fprintf(env.Stderr, format+"\n", args...)
	}
}
