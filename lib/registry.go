package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// RegistryStackProps configures the Registry stack.
type RegistryStackProps struct {
	awscdk.StackProps
	Config config.Config
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
	cfg := props.Config
	r := cfg.Registry

	mutability := awsecr.TagMutability_MUTABLE
	if r.ImmutableTags {
		mutability = awsecr.TagMutability_IMMUTABLE
	}
	repo := awsecr.NewRepository(stack, jsii.String("Repository"), &awsecr.RepositoryProps{
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: mutability,
		Encryption:         awsecr.RepositoryEncryption_AES_256(),
		LifecycleRules: &[]*awsecr.LifecycleRule{
			{
				RulePriority: jsii.Number(1),
				Description:  jsii.String("Expire untagged images"),
				TagStatus:    awsecr.TagStatus_UNTAGGED,
				MaxImageAge:  awscdk.Duration_Days(jsii.Number(float64(r.UntaggedExpiryDays))),
			},
			{
				RulePriority:   jsii.Number(2),
				Description:    jsii.String("Keep the newest tagged images"),
				TagStatus:      awsecr.TagStatus_TAGGED,
				TagPatternList: jsii.Strings("*"),
				MaxImageCount:  jsii.Number(float64(r.KeepImages)),
			},
		},
		RemovalPolicy: removalPolicy(cfg),
		// Where the repository is destroyed with its stack, its images go
		// too; otherwise CloudFormation cannot delete a non-empty repository.
		EmptyOnDelete: jsii.Bool(!cfg.RetainData),
	})

	output(stack, "RepositoryUrl", "repository_url: push the application image here", repo.RepositoryUri())
	return &RegistryStack{Stack: stack, Repository: repo}
}
