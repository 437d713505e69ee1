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
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/example/platform/internal/preflight"
	"github.com/example/platform/lib/config"
)

func main() {
	concurrency := flag.Int("concurrency", 6, "stacks deployed side by side")
	approval := flag.String("approval", "broadening", "cdk deploy --require-approval")
	verifyAfter := flag.Bool("verify", true, "verify the environment after the deploy (make verify)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deploy [-concurrency N] [-approval broadening|never|any-change] [-verify=false] ENV\n       deploy lookups ENV\n       deploy verify [-drill alarms] ENV\n       deploy drift ENV")
		flag.PrintDefaults()
	}
	flag.Parse()
	switch {
	case flag.NArg() == 2 && flag.Arg(0) == "lookups":
		if err := recordLookups(context.Background(), flag.Arg(1)); err != nil {
			fmt.Fprintf(os.Stderr, "lookups of %s: %v\n", flag.Arg(1), err)
			os.Exit(1)
		}
	case flag.NArg() >= 2 && flag.Arg(0) == "verify":
		verifyFlags := flag.NewFlagSet("verify", flag.ExitOnError)
		drill := verifyFlags.String("drill", "", "alarms: also set one alarm that no deployment watches to ALARM and confirm SNS delivered it")
		_ = verifyFlags.Parse(flag.Args()[1:])
		if verifyFlags.NArg() != 1 || (*drill != "" && *drill != "alarms") {
			flag.Usage()
			os.Exit(2)
		}
		if err := verifyEnvironment(context.Background(), verifyFlags.Arg(0), *drill == "alarms", false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case flag.NArg() == 2 && flag.Arg(0) == "drift":
		if err := verifyEnvironment(context.Background(), flag.Arg(1), false, true); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case flag.NArg() == 1:
		if err := deploy(context.Background(), flag.Arg(0), *concurrency, *approval, *verifyAfter); err != nil {
			if errors.As(err, new(notVerified)) {
				fmt.Fprintf(os.Stderr, "%s is deployed, but make verify failed:\n%v\n", flag.Arg(0), err)
			} else {
				fmt.Fprintf(os.Stderr, "%s cannot be deployed:\n%v\n", flag.Arg(0), err)
			}
			os.Exit(1)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

// recordLookups is `make lookups ENV=...`: it reads what validation needs
// of the environment's account and region (its zones, S3's prefix list)
// with the environment's credentials and records it in cdk.context.json.
func recordLookups(ctx context.Context, env string) error {
	cfg, awsCfg, err := environmentAccount(ctx, env, config.Peek)
	if err != nil {
		return err
	}
	// The lookups recorded so far, which the new ones join.
	repo, err := config.ReadRepository(".")
	if err != nil {
		return err
	}
	keys, err := lookup(ctx, cfg, ec2Lookups{ec2.NewFromConfig(awsCfg)}, repo.Lookups)
	if err != nil {
		return err
	}
	if err := writeLookups("cdk.context.json", repo.Lookups); err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintf(os.Stderr, ">> cdk.context.json: %s\n", k)
	}
	return nil
}

func deploy(ctx context.Context, env string, concurrency int, approval string, verifyAfter bool) error {
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
	if plan.Bootstrap {
		target := fmt.Sprintf("aws://%s/%s", cfg.Account, cfg.Region)
		if err := runCDK(ctx, "bootstrap", target); err != nil {
			return err
		}
	}
	for _, pass := range plan.Passes() {
		args := append([]string{"deploy", "--all", "-c", "env=" + env, "--concurrency", fmt.Sprint(concurrency), "--require-approval", approval}, pass...)
		if err := runCDK(ctx, args...); err != nil {
			return err
		}
	}
	if !verifyAfter {
		return nil
	}
	// CloudFormation can report a service complete whose deployment ECS
	// rolled back (aws/containers-roadmap#1369): the deploy is done when
	// the environment verifies.
	fmt.Fprintf(os.Stderr, ">> make verify ENV=%s\n", env)
	r, err := newVerifier(cfg, awsCfg).Verify(ctx, false)
	if err == nil {
		err = printReport(r)
	}
	if err != nil {
		return notVerified{err}
	}
	return nil
}

// notVerified is a deploy that finished but did not verify.
type notVerified struct{ error }

// verifyEnvironment is `make verify` (and `make drift`, driftOnly): the
// environment as committed, read with the credentials' access.
func verifyEnvironment(ctx context.Context, env string, drill, driftOnly bool) error {
	// Validated: what is deployed was, and its lookups are committed.
	cfg, awsCfg, err := environmentAccount(ctx, env, func(repo config.Repository, env string) (config.Config, error) {
		return config.Load(repo, env, config.Overrides{})
	})
	if err != nil {
		return err
	}
	v := newVerifier(cfg, awsCfg)
	var r report
	if driftOnly {
		r, err = v.Drift(ctx)
	} else {
		r, err = v.Verify(ctx, drill)
	}
	if err != nil {
		return err
	}
	return printReport(r)
}

// runCDK runs the pinned CLI (make puts node_modules/.bin first on PATH).
func runCDK(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "cdk", args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	fmt.Fprintln(os.Stderr, ">> cdk "+strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cdk %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// environmentAccount reads env as committed with read (config.Peek before
// the lookups exist, else validated) and the AWS configuration of its
// region, and checks that the credentials are for its account (never a
// placeholder).
func environmentAccount(ctx context.Context, env string, read func(config.Repository, string) (config.Config, error)) (config.Config, aws.Config, error) {
	repo, err := config.ReadRepository(".")
	if err != nil {
		return config.Config{}, aws.Config{}, err
	}
	cfg, err := read(repo, env)
	if err != nil {
		return cfg, aws.Config{}, err
	}
	if !cfg.RealAccount() {
		return cfg, aws.Config{}, fmt.Errorf("environments/%s.json names the placeholder account %s: set the real account first", env, cfg.Account)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return cfg, awsCfg, fmt.Errorf("AWS credentials: %w", err)
	}
	caller, err := newAWSAccount(awsCfg).CallerAccount(ctx)
	if err != nil {
		return cfg, awsCfg, err
	}
	if caller != cfg.Account {
		return cfg, awsCfg, fmt.Errorf("the credentials are for account %s, but %s is bound to account %s", caller, env, cfg.Account)
	}
	return cfg, awsCfg, nil
}
