// Command platform synthesizes the CloudFormation stacks of one environment
// of the platform. Choose the environment with `cdk synth -c env=NAME`.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
)

func main() {
	app := awscdk.NewApp(nil)
	if _, err := build(app); err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}

// build reads the app's context once, validates the configuration it
// selects and only then creates the platform's stacks in app. With an
// invalid configuration it creates nothing and returns every problem.
func build(app awscdk.App) (*lib.Platform, error) {
	cfg, err := config.Load(contextString(app, "env"), config.Overrides{
		Account:        contextString(app, "account"),
		CertificateArn: contextString(app, "certificateArn"),
		ImageTag:       contextString(app, "imageTag"),
		AmiID:          contextString(app, "amiId"),
		AlarmEmails:    contextList(app, "alarmEmails"),
	})
	if err != nil {
		return nil, err
	}
	return lib.NewPlatform(app, cfg), nil
}

// contextString reads a -c KEY=VALUE context value, or "" when it is unset.
func contextString(app awscdk.App, key string) string {
	v, ok := app.Node().TryGetContext(jsii.String(key)).(string)
	if !ok {
		return ""
	}
	return v
}

// contextList reads a comma-separated -c KEY=A,B context value.
func contextList(app awscdk.App, key string) []string {
	v := contextString(app, key)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
