package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/clouddrive/clouddrive/internal/cli"
)

// clientCommands returns the client commands (login, ls, upload, ...)
// from internal/cli, wired to the process.
//
// main exits with status 1 on any error; the client commands promise the
// exit codes documented in `clouddrive help exit-codes`, so their errors
// are reported and turned into an exit status here, through exit.
func clientCommands(stdout, stderr io.Writer) []*cobra.Command {
	env := &cli.Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	cmds := cli.Commands(env)
	for _, c := range cmds {
		exitWithCode(c, stderr, os.Exit)
	}
	return cmds
}

// exitWithCode makes c and its subcommands print their errors with
// cli.PrintError and exit with cli.ExitCode, for usage errors (bad flags
// or arguments) as well as for failures.
func exitWithCode(c *cobra.Command, stderr io.Writer, exit func(int)) {
	fail := func(err error) error {
		if err != nil {
			cli.PrintError(stderr, err)
			exit(cli.ExitCode(err))
		}
		return err
	}
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error { return fail(run(cmd, args)) }
	}
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error { return fail(args(cmd, a)) }
	}
	flagErr := c.FlagErrorFunc()
	c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return fail(flagErr(cmd, err)) })
	for _, sub := range c.Commands() {
		exitWithCode(sub, stderr, exit)
	}
}
