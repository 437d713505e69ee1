// Command deploy is `make deploy ENV=...`: it checks what can be checked
// before CloudFormation starts (the committed configuration, Docker for the
// placeholder image, then in the account: the credentials' account, the
// ECS service-linked role, every stack's state, the release image), and
// deploys every stack of the environment as committed. When the deploy
// creates stacks it runs twice: the first pass creates them without
// termination and deletion protection (-c firstCreate), so that a create
// that fails rolls back cleanly and the next deploy retries it; the second
// turns the protections on.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/example/platform/internal/preflight"
	"github.com/example/platform/lib/config"
)

func main() {
	concurrency := flag.Int("concurrency", 6, "stacks deployed side by side")
	approval := flag.String("approval", "broadening", "cdk deploy --require-approval")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deploy [-concurrency N] [-approval broadening|never|any-change] ENV")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	env := flag.Arg(0)
	if err := deploy(context.Background(), env, *concurrency, *approval); err != nil {
		fmt.Fprintf(os.Stderr, "%s cannot be deployed:\n%v\n", env, err)
		os.Exit(1)
	}
}

func deploy(ctx context.Context, env string, concurrency int, approval string) error {
	repo, err := config.ReadRepository(".")
	if err != nil {
		return err
	}
	cfg, err := preflight.Static(repo, env, "", preflight.RunQuietly)
	if err != nil {
		return err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	plan, err := MakePlan(ctx, cfg, newAWSAccount(awsCfg))
	for _, n := range plan.Notes {
		fmt.Fprintln(os.Stderr, ">> "+n)
	}
	if err != nil {
		return err
	}
	if len(plan.Creating) > 0 {
		fmt.Fprintf(os.Stderr, ">> Creating %s: first without termination and deletion protection, then a second pass turns them on.\n", strings.Join(plan.Creating, ", "))
	}
	for _, pass := range plan.Passes() {
		args := append([]string{"deploy", "--all", "-c", "env=" + env, "--concurrency", fmt.Sprint(concurrency), "--require-approval", approval}, pass...)
		cmd := exec.CommandContext(ctx, "cdk", args...)
		cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
		fmt.Fprintln(os.Stderr, ">> cdk "+strings.Join(args, " "))
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("cdk %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}
