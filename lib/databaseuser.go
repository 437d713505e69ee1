package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/internal/gobuild"
)

// DatabaseUserType is the custom resource that makes the application's
// PostgreSQL user exist.
const DatabaseUserType = "Custom::DatabaseUser"

// databaseUserFunction is the Go function behind DatabaseUserType
// (lambda/databaseuser); the SQL it runs is internal/dbusers.
var databaseUserFunction = gobuild.Function{Command: "lambda/databaseuser", Imports: []string{"internal/dbusers"}}

// newDatabaseUser creates the application's user with a custom resource:
// a Go function in the private subnets, behind the rotation security group
// (which reaches PostgreSQL and Secrets Manager), logs in as the master
// user over TLS and runs internal/dbusers.Ensure. The resource runs again
// when the user's name or the SQL that defines it changes (Definition is
// the hash of internal/dbusers), and its delete does nothing: the user
// stays with the data.
//
// The CDK's provider framework answers CloudFormation: its function runs
// outside the VPC because the response goes to a pre-signed S3 URL, which
// prod's closed network does not reach, and it only invokes this function.
func newDatabaseUser(stack awscdk.Stack, props *DatabaseStackProps, instance awsrds.IDatabaseInstance, master, app awssecretsmanager.ISecret, group awsec2.ISecurityGroup) awscdk.CustomResource {
	root, err := gobuild.ModuleRoot()
	if err != nil {
		panic(err)
	}
	definition, err := gobuild.Function{Command: "internal/dbusers"}.PackageHash(root)
	if err != nil {
		panic(err)
	}
	fn := awslambda.NewFunction(stack, jsii.String("DatabaseUserFunction"), &awslambda.FunctionProps{
		Description:  jsii.String(props.Deployment.Title() + ": creates the application's PostgreSQL user (" + DatabaseUserType + ")"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         goFunctionCode(databaseUserFunction),
		MemorySize:   jsii.Number(256),
		// connect_timeout is 10 s; creating two roles and a schema takes
		// well under a second.
		Timeout:        awscdk.Duration_Minutes(jsii.Number(2)),
		Vpc:            props.Vpc,
		VpcSubnets:     privateSubnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{group},
		LogGroup:       newLogGroup(stack, "DatabaseUserLogs", props.Deployment, props.FunctionLogRetentionDays, ""),
	})
	// Written out rather than granted through the secrets: a grant on a
	// secret of the Secrets stack would add this role to that stack's key
	// policy, and the stacks would depend on each other both ways.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		Resources: &[]*string{master.SecretArn(), app.SecretArn()},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  &[]*string{props.Key.KeyArn()},
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + props.Deployment.Region + ".amazonaws.com"}},
	}))
	suppress(fn.Role(), "AwsSolutions-IAM4",
		"AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are the AWS-maintained policies for a function's logs and its network interfaces in the VPC.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")

	provider := customresources.NewProvider(stack, jsii.String("DatabaseUserProvider"), &customresources.ProviderProps{
		OnEventHandler: fn,
		LogGroup:       newLogGroup(stack, "DatabaseUserProviderLogs", props.Deployment, props.FunctionLogRetentionDays, ""),
	})
	fnResource, ok := fn.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		panic("the database-user function has no CloudFormation resource")
	}
	framework := provider.Node().FindChild(jsii.String("framework-onEvent")).Node().FindChild(jsii.String("ServiceRole"))
	suppress(framework.Node().DefaultChild(), "AwsSolutions-IAM4",
		"The CDK's provider framework function only writes its logs (AWSLambdaBasicExecutionRole) and invokes the database-user function.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	suppress(defaultPolicy(framework), "AwsSolutions-IAM5",
		"lambda:InvokeFunction on the database-user function and its versions (ARN:*), as the CDK's provider framework grants it.",
		"Resource::<"+*stack.GetLogicalId(fnResource)+".Arn>:*")
	user := awscdk.NewCustomResource(stack, jsii.String("DatabaseUser"), &awscdk.CustomResourceProps{
		ServiceToken: provider.ServiceToken(),
		ResourceType: jsii.String(DatabaseUserType),
		Properties: &map[string]any{
			"MasterSecretArn": master.SecretArn(),
			"AppSecretArn":    app.SecretArn(),
			"UserName":        props.Database.AppUsername,
			"Definition":      definition,
		},
	})
	// The secrets hold the host once they are attached (the ARNs above
	// are the attachments'), which is after the instance exists.
	user.Node().AddDependency(instance)
	return user
}
