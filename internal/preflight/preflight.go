// Package preflight holds what a deploy checks before the CDK starts:
// the committed configuration can be deployed, and what the deploy needs
// on the machine it runs on is there.
package preflight

import (
	"fmt"
	"os/exec"

	"github.com/example/platform/lib/config"
)

// PlaceholderDir is the build context of the placeholder image
// (lib.PlaceholderDir; a test keeps the two equal).
const PlaceholderDir = "lib/placeholder"

// Static returns the configuration environment env deploys as committed
// in repo (with tag as its image, if set), or why it cannot be deployed:
// any problem validation finds, a placeholder account, or the placeholder
// image without Docker to build it. run runs a command quietly.
func Static(repo config.Repository, env, tag string, run func(name string, args ...string) error) (config.Config, error) {
	if err := config.Deployable(repo, env); err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(repo, env, config.Overrides{ImageTag: tag})
	if err != nil {
		return config.Config{}, err
	}
	return cfg, PlaceholderCanBeBuilt(cfg, run)
}

// PlaceholderCanBeBuilt refuses a deploy that runs the placeholder image
// where Docker cannot build it: `cdk deploy` builds the image asset before
// it deploys the Service stack, and without Docker it fails halfway
// through the stacks.
func PlaceholderCanBeBuilt(cfg config.Config, run func(name string, args ...string) error) error {
	if cfg.Service.ImageTag != "" {
		return nil
	}
	if err := run("docker", "info"); err != nil {
		return fmt.Errorf("Service.ImageTag is empty, so the service runs the placeholder image, which cdk deploy builds with Docker (%s) "+
			"and pushes into the account's CDK asset repository, but `docker info` failed (%v): install and start Docker, "+
			"or set Service.ImageTag to a release pushed to the platform's repository", PlaceholderDir, err)
	}
	return nil
}

// RunQuietly runs a command and reports only whether it succeeded.
func RunQuietly(name string, args ...string) error { return exec.Command(name, args...).Run() }
