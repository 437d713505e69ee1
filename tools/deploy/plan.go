package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/example/platform/lib/config"
)

// Account is what the deploy reads of, and sets in, the AWS account it
// deploys to.
type Account interface {
	// CallerAccount is the account of the credentials.
	CallerAccount(ctx context.Context) (string, error)
	// EnsureServiceLinkedRole creates the service-linked role of an AWS
	// service (ecs.amazonaws.com) unless it exists; it reports whether it
	// created it.
	EnsureServiceLinkedRole(ctx context.Context, service string) (bool, error)
	// Stack describes a stack by name; found is false if it does not exist.
	Stack(ctx context.Context, name string) (s StackState, found bool, err error)
	// DisableTerminationProtection turns a stack's termination protection off.
	DisableTerminationProtection(ctx context.Context, name string) error
	// ImageExists reports whether a repository holds an image with a tag.
	ImageExists(ctx context.Context, repository, tag string) (bool, error)
}

// StackState is what the deploy needs to know of a stack.
type StackState struct {
	Status                string
	TerminationProtection bool
	// Outputs maps output keys to values.
	Outputs map[string]string
}

// Plan is what a deploy of one environment does.
type Plan struct {
	// Creating are the stacks the deploy creates: its first pass creates
	// them without termination and deletion protection, the second turns
	// those on. Empty: one pass.
	Creating []string
	// Bootstrap is set where the account and region have no CDK toolkit
	// stack yet: `cdk bootstrap` runs first.
	Bootstrap bool
	// Notes say what the plan did or found on the way.
	Notes []string
}

// toolkitStack is the CDK's bootstrap stack (cdk bootstrap's default
// name): the asset bucket and repository and the deploy roles.
const toolkitStack = "CDKToolkit"

// Passes are the context arguments of each `cdk deploy --all` the plan
// runs, in order.
func (p Plan) Passes() [][]string {
	if len(p.Creating) == 0 {
		return [][]string{nil}
	}
	return [][]string{{"-c", config.FirstCreateKey + "=" + strings.Join(p.Creating, ",")}, nil}
}

// ecsService is the service whose service-linked role the cluster's
// capacity provider needs: in an account where ECS was never used,
// CreateCapacityProvider fails with "ECS Service Linked Role does not
// exist" (ECS Developer Guide, using-service-linked-roles).
const ecsService = "ecs.amazonaws.com"

// MakePlan checks the account against cfg and decides the passes: the
// credentials are for cfg's account; the ECS service-linked role exists;
// no stack is mid-operation or stuck; a stack that failed its first create
// (ROLLBACK_COMPLETE, which holds nothing) is retried, with its termination
// protection turned off so that the CLI can delete it; and the release image
// cfg names is in the platform's repository. It returns every problem at
// once.
func MakePlan(ctx context.Context, cfg config.Config, a Account) (Plan, error) {
	var p Plan
	caller, err := a.CallerAccount(ctx)
	if err != nil {
		return p, fmt.Errorf("reading the credentials' account: %w", err)
	}
	if caller != cfg.Account {
		return p, fmt.Errorf("the credentials are for account %s, but %s is bound to account %s (environments/%s.json)", caller, cfg.Environment, cfg.Account, cfg.Environment)
	}
	created, err := a.EnsureServiceLinkedRole(ctx, ecsService)
	if err != nil {
		return p, fmt.Errorf("the ECS service-linked role, which the cluster's capacity provider needs, could not be ensured (%w): "+
			"run `aws iam create-service-linked-role --aws-service-name %s` with an identity that may", err, ecsService)
	}
	if created {
		p.Notes = append(p.Notes, "created the ECS service-linked role AWSServiceRoleForECS (this account had never used ECS)")
	}
	var errs []error
	switch toolkit, found, err := a.Stack(ctx, toolkitStack); {
	case err != nil:
		errs = append(errs, fmt.Errorf("reading the CDK toolkit stack: %w", err))
	case !found || toolkit.Status == "REVIEW_IN_PROGRESS" || toolkit.Status == "ROLLBACK_COMPLETE":
		p.Bootstrap = true
		p.Notes = append(p.Notes, fmt.Sprintf("account %s has no CDK toolkit stack in %s: cdk bootstrap runs first", cfg.Account, cfg.Region))
	}
	states := map[string]StackState{}
	for _, id := range config.StackIDs {
		name := cfg.StackName(id)
		s, found, err := a.Stack(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading stack %s: %w", name, err))
			continue
		}
		if !found {
			p.Creating = append(p.Creating, id)
			continue
		}
		states[id] = s
		switch st := s.Status; {
		case st == "REVIEW_IN_PROGRESS":
			// A change set was created and never executed: nothing exists.
			p.Creating = append(p.Creating, id)
		case st == "ROLLBACK_COMPLETE":
			// A failed first create: everything it created is gone (the
			// retained resources are RetainExceptOnCreate), and the CLI
			// deletes the stack before it creates it again, which
			// termination protection would refuse.
			p.Creating = append(p.Creating, id)
			if s.TerminationProtection {
				if err := a.DisableTerminationProtection(ctx, name); err != nil {
					errs = append(errs, fmt.Errorf("%s failed its first create (ROLLBACK_COMPLETE) and is termination-protected, so it cannot be retried: %w; "+
						"run `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name %s`", name, err, name))
					continue
				}
				p.Notes = append(p.Notes, fmt.Sprintf("%s failed its first create and holds nothing: turned its termination protection off so the CLI can delete and recreate it", name))
			}
		case st == "ROLLBACK_FAILED":
			errs = append(errs, fmt.Errorf("%s failed its first create and its rollback failed (ROLLBACK_FAILED): some resources remain, typically with deletion protection; "+
				"`aws cloudformation describe-stack-events --stack-name %s` names them; turn their protection off, delete the stack, then deploy again", name, name))
		case st == "UPDATE_ROLLBACK_FAILED":
			errs = append(errs, fmt.Errorf("%s is UPDATE_ROLLBACK_FAILED: fix what the events name, then `aws cloudformation continue-update-rollback --stack-name %s`", name, name))
		case strings.HasSuffix(st, "_IN_PROGRESS"):
			errs = append(errs, fmt.Errorf("%s is %s: another operation is running on it; wait until it ends", name, st))
		case strings.HasPrefix(st, "DELETE_"):
			errs = append(errs, fmt.Errorf("%s is %s; wait until it is gone, or finish deleting it", name, st))
		}
	}
	if tag := cfg.Service.ImageTag; tag != "" {
		errs = append(errs, releaseImageExists(ctx, cfg, a, states["Registry"], tag))
	}
	return p, errors.Join(errs...)
}

// releaseImageExists checks that the release the Service stack will run is
// in the platform's repository: otherwise its tasks cannot pull, the
// circuit breaker trips and the deploy fails halfway.
func releaseImageExists(ctx context.Context, cfg config.Config, a Account, registry StackState, tag string) error {
	url := registry.Outputs["RepositoryUrl"]
	if url == "" {
		return fmt.Errorf("Service.ImageTag is %s, but the Registry stack (%s) does not exist yet, so the repository cannot hold the image: "+
			"create it first with `npx cdk deploy Registry --exclusively -c env=%s`, push %s to it, then deploy; or deploy the placeholder first (Service.AllowPlaceholderImage)",
			tag, cfg.StackName("Registry"), cfg.Environment, tag)
	}
	_, repository, _ := strings.Cut(url, "/")
	found, err := a.ImageExists(ctx, repository, tag)
	if err != nil {
		return fmt.Errorf("looking for %s:%s: %w", url, tag, err)
	}
	if !found {
		return fmt.Errorf("Service.ImageTag is %s, but %s holds no image tagged %s: the tasks could not pull it; push it first: "+
			"`docker build -t %s:%s . && docker push %s:%s`", tag, url, tag, url, tag, url, tag)
	}
	return nil
}
