package lib

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

var nonAlphanumeric = regexp.MustCompile(`[^A-Za-z0-9]`)

// giveFunctionsLogGroups sends every Lambda function the CDK creates on its
// own (custom-resource providers such as the default-security-group
// restriction and the bucket auto-delete) to a log group with a retention,
// instead of the never-expiring group Lambda would create on first run.
func giveFunctionsLogGroups(stacks []awscdk.Stack, d Deployment, days int) {
	for _, stack := range stacks {
		for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			// The jsii runtime hands back each construct as a proxy of its
			// own class, so a type assertion (no round trip to Node) skips
			// everything that is not a CloudFormation resource.
			fn, ok := c.(awscdk.CfnResource)
			if !ok || *fn.CfnResourceType() != "AWS::Lambda::Function" {
				continue
			}
			// Functions of this app are given theirs where they are made.
			if own, ok := c.(awslambda.CfnFunction); ok && own.LoggingConfig() != nil {
				continue
			}
			// Named after the provider, which is unique in its stack.
			id := nonAlphanumeric.ReplaceAllString(strings.TrimPrefix(*fn.Node().Scope().Node().Id(), "Custom::"), "") + "Logs"
			group := newLogGroup(stack, id, d, days, "")
			fn.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), group.LogGroupName())
		}
	}
}
