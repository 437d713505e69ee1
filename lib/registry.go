package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// RegistryStackProps configures the Registry stack.
type RegistryStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Registry   config.Registry
}

// RegistryStack owns the application's ECR repository.
type RegistryStack struct {
	awscdk.Stack
	Repository awsecr.IRepository
}

// NewRegistryStack creates the repository with scan on push and lifecycle
// rules. It depends on nothing, so images can be pushed before the rest of
// the platform exists.
func NewRegistryStack(scope constructs.Construct, id string, props *RegistryStackProps) *RegistryStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	d, r := props.Deployment, props.Registry

	mutability := awsecr.TagMutability_MUTABLE
	if r.ImmutableTags {
		mutability = awsecr.TagMutability_IMMUTABLE
	}
	repo := awsecr.NewRepository(stack, jsii.String("Repository"), &awsecr.RepositoryProps{
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: mutability,
		Encryption:         awsecr.RepositoryEncryption_AES_256(),
		LifecycleRules:     lifecycleRules(r),
		RemovalPolicy:      d.removalPolicy(),
		// Where the repository is destroyed with its stack, its images go
		// too; otherwise CloudFormation cannot delete a non-empty repository.
		EmptyOnDelete: jsii.Bool(!d.RetainData),
	})

	output(stack, "RepositoryUrl", "repository_url: push the application image here", repo.RepositoryUri())
	// The Service stack imports the repository's name and ARN only while
	// it runs a release; exported always, switching between a release and
	// the placeholder never removes an export another stack still imports.
	stack.ExportValue(repo.RepositoryArn(), nil)
	stack.ExportValue(repo.RepositoryName(), nil)
	return &RegistryStack{Stack: stack, Repository: repo}
}

// lifecycleRules expire only images no service can be running: untagged
// ones (tags are immutable and the service names a tag) and the older
// scratch images of each prefix in Registry.ScratchTagPrefixes, which
// Service.ImageTag may not use. Release images match no rule, so the image
// a task runs, or rolls back to, is never expired. ECR selects an image
// for a tag-prefix list only if it matches every prefix, hence one rule
// per prefix.
func lifecycleRules(r config.Registry) *[]*awsecr.LifecycleRule {
	rules := []*awsecr.LifecycleRule{{
		RulePriority: jsii.Number(1),
		Description:  jsii.String("Expire untagged images"),
		TagStatus:    awsecr.TagStatus_UNTAGGED,
		MaxImageAge:  awscdk.Duration_Days(jsii.Number(float64(r.UntaggedExpiryDays))),
	}}
	for i, prefix := range r.ScratchTagPrefixes {
		rules = append(rules, &awsecr.LifecycleRule{
			RulePriority:  jsii.Number(float64(i + 2)),
			Description:   jsii.String(fmt.Sprintf("Keep the newest %d scratch images tagged %s*", r.KeepImages, prefix)),
			TagStatus:     awsecr.TagStatus_TAGGED,
			TagPrefixList: jsii.Strings(prefix),
			MaxImageCount: jsii.Number(float64(r.KeepImages)),
		})
	}
	return &rules
}
