// Command shir installs, registers, updates and provisions nodes of the shir
// self-hosted integration runtime. Invoked as dmgcmd it behaves as `shir dmgcmd`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shirhq/shir/cmd/shir/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
