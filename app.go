// Command platform synthesizes the CloudFormation stacks of one environment
// of the platform: the environment's committed file under environments/ on
// top of its preset. Choose it with `cdk synth -c env=NAME` (default dev).
package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/internal/cdkcontext"
	"github.com/example/platform/internal/jsiinode"
	"github.com/example/platform/internal/preflight"
	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
)

func main() {
	if (len(os.Args) == 3 || len(os.Args) == 4) && os.Args[1] == "deployable" {
		tag := ""
		if len(os.Args) == 4 {
			tag = os.Args[3]
		}
		// It needs no Node: the runtime's temporary copy goes at once.
		jsii.Close()
		deployable(os.Args[2], tag)
		return
	}
	// An invalid configuration is reported before the jsii runtime starts
	// Node, in milliseconds; build checks it again from the App's context.
	repo, err := config.ReadRepository(".")
	if err == nil {
		var ctx map[string]any
		if ctx, err = cliContext(); err == nil {
			_, err = config.FromContext(ctx, repo)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		// The runtime's temporary copy goes too (Node has not started).
		jsii.Close()
		os.Exit(1)
	}
	// cdk.json runs the app from the repository root; a valid
	// configuration only, so that a rejected one is not read twice.
	jsiinode.Exec(".")
	app := awscdk.NewApp(nil)
	if _, err = build(app, repo); err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}

// build reads the app's context once, validates the configuration it
// selects from the committed state of repo and only then creates the
// platform's stacks in app. With an invalid configuration it creates
// nothing and returns every problem.
func build(app awscdk.App, repo config.Repository) (*lib.Platform, error) {
	ctx, _ := cdkcontext.Plain(app.Node().GetAllContext(nil)).(map[string]any)
	cfg, err := config.FromContext(ctx, repo)
	if err != nil {
		return nil, err
	}
	creating, err := config.FirstCreate(ctx)
	if err != nil {
		return nil, err
	}
	return lib.NewPlatform(app, cfg, creating...), nil
}

// deployable is `bin/platform deployable ENV [TAG]`, which `make
// deploy-image` runs first (make deploy runs the same checks in bin/deploy):
// it exits non-zero, naming the file and field, while ENV as committed
// cannot be deployed (an invalid value, a placeholder account, the
// placeholder image without Docker to build it), before the CDK asks for
// credentials. It needs no Node process.
func deployable(env, tag string) {
	repo, err := config.ReadRepository(".")
	if err == nil {
		_, err = preflight.Static(repo, env, tag, preflight.RunQuietly)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s cannot be deployed as committed:\n%v\n", env, err)
		os.Exit(1)
	}
}

// cliContext is the context the CDK CLI hands the app, as the App reads it:
// the JSON in CDK_CONTEXT_JSON, and what did not fit there in the file that
// CONTEXT_OVERFLOW_LOCATION_ENV names.
func cliContext() (map[string]any, error) {
	ctx := map[string]any{}
	if raw := os.Getenv("CDK_CONTEXT_JSON"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
			return nil, fmt.Errorf("CDK_CONTEXT_JSON: %w", err)
		}
	}
	if path := os.Getenv("CONTEXT_OVERFLOW_LOCATION_ENV"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		overflow := map[string]any{}
		if err := json.Unmarshal(raw, &overflow); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		maps.Copy(ctx, overflow)
	}
	return ctx, nil
}
