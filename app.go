// Command platform synthesizes the CloudFormation stacks of one environment
// of the platform: the environment's committed file under environments/ on
// top of its preset. Choose it with `cdk synth -c env=NAME` (default dev).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
)

func main() {
	app := awscdk.NewApp(nil)
	if _, err := build(app, config.Dir); err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}

// build reads the app's context once, validates the configuration it
// selects from the environment files in dir and only then creates the
// platform's stacks in app. With an invalid configuration it creates
// nothing and returns every problem.
func build(app awscdk.App, dir string) (*lib.Platform, error) {
	ctx, _ := app.Node().GetAllContext(nil).(map[string]any)
	cfg, err := config.FromContext(ctx, dir)
	if err != nil {
		return nil, err
	}
	return lib.NewPlatform(app, cfg), nil
}
