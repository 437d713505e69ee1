package lib

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// Deployment is what every stack of one environment shares: where it is
// deployed, what its physical names start with and whether its data
// outlives it. Each stack's props carry it beside the stack's own config
// section.
type Deployment struct {
	// App and Environment name the deployment: "webapp", "prod".
	App, Environment string
	// Account and Region bind every stack.
	Account, Region string
	// TerminationProtection protects every stack from deletion.
	TerminationProtection bool
	// RetainData keeps stateful resources when they leave the template or
	// their stack is deleted.
	RetainData bool
	// LogsKey encrypts every log group (newLogsKey, in the Network stack,
	// which every stack with a log group follows).
	LogsKey awskms.IKey
	// Creating names the stacks this deploy creates (config.FirstCreate):
	// they get no termination or deletion protection until the deploy's
	// second pass, so a create that fails rolls back cleanly and can be
	// retried.
	Creating []string
}

// protected is whether a protection configured as on applies to the
// stack with construct ID id: not while the deploy creates the stack.
func (d Deployment) protected(id string, on bool) bool {
	return on && !slices.ContainsFunc(d.Creating, func(c string) bool { return strings.EqualFold(c, id) })
}

// DeploymentOf takes the deployment-wide fields of a validated config.
func DeploymentOf(cfg config.Config) Deployment {
	return Deployment{
		App: cfg.AppName, Environment: cfg.Environment, Account: cfg.Account, Region: cfg.Region,
		TerminationProtection: cfg.TerminationProtection, RetainData: cfg.RetainData,
	}
}

// Name is a physical name of this deployment: "webapp-prod", or with parts
// "webapp-prod-db-rotation".
func (d Deployment) Name(parts ...string) string {
	return strings.Join(append([]string{d.App, d.Environment}, parts...), "-")
}

// Title names the deployment in descriptions: "webapp prod".
func (d Deployment) Title() string { return d.App + " " + d.Environment }

// privateSubnets are where the database, the cache, the container
// instances, the tasks, the rotation function and the endpoints run.
var privateSubnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}

// stackProps names a stack after the deployment and its layer, binds it to
// the deployment's account and region (lookups and ALB access logs need a
// concrete region) and protects it where configured.
func (d Deployment) stackProps(layer, purpose string) awscdk.StackProps {
	return awscdk.StackProps{
		StackName:             jsii.String(d.Name(layer)),
		Description:           jsii.String(fmt.Sprintf("%s (%s): %s", d.App, d.Environment, purpose)),
		Env:                   &awscdk.Environment{Account: jsii.String(d.Account), Region: jsii.String(d.Region)},
		TerminationProtection: jsii.Bool(d.protected(layer, d.TerminationProtection)),
	}
}

// removalPolicy is the policy of stateful resources. With RetainData it is
// DeletionPolicy RetainExceptOnCreate and UpdateReplacePolicy Retain: a
// resource that is replaced, leaves the template or goes with its stack is
// kept, but one whose creating deploy rolls back is deleted all the same
// (it holds nothing yet, and a kept one with a fixed name would make the
// retry fail with "already exists"). Without RetainData, Delete.
func (d Deployment) removalPolicy() awscdk.RemovalPolicy {
	if d.RetainData {
		return awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE
	}
	return awscdk.RemovalPolicy_DESTROY
}

// newKey creates a customer-managed KMS key with yearly rotation whose
// lifetime follows the deployment's policy for stateful resources; a
// deleted key waits the longest pending window before it is gone.
//
// Grants of the key are for AWS services only (Control Tower CT.KMS.PR.3):
// a grant lets its grantee use the key outside the key policy, and the
// services that use these keys (RDS, Secrets Manager, CloudWatch Logs, SNS)
// create theirs as AWS services.
func newKey(scope constructs.Construct, id string, d Deployment, purpose string) awskms.Key {
	key := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(d.Title() + ": " + purpose),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     d.removalPolicy(),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GrantsOnlyForAWSServices"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
	}), nil)
	return key
}

// newLogsKey is the key every log group of the deployment is encrypted
// with: CloudWatch Logs may use it only for this account's log groups in
// this region (CloudWatch Logs User Guide, encrypt-log-data-kms: the
// kms:EncryptionContext:aws:logs:arn condition).
func newLogsKey(scope constructs.Construct, d Deployment) awskms.Key {
	key := newKey(scope, "LogsKey", d, "CloudWatch Logs log groups")
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+d.Region+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", d.Region, d.Account),
		}},
	}), nil)
	return key
}

// retentionByDays maps the day counts config.RetentionDays allows to the
// CDK's enum; a test keeps the two lists in step.
var retentionByDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

func retention(days int) awslogs.RetentionDays {
	r, ok := retentionByDays[days]
	if !ok {
		// Validate rejects such values; reaching this is a programming error.
		panic(fmt.Sprintf("retention of %d days is not allowed by CloudWatch Logs", days))
	}
	return r
}

// newLogGroup creates a log group with an explicit retention whose lifetime
// follows the deployment's policy for stateful resources; name is a
// physical name, or "" to let CloudFormation choose one.
func newLogGroup(scope constructs.Construct, id string, d Deployment, days int, name string) awslogs.LogGroup {
	props := &awslogs.LogGroupProps{Retention: retention(days), RemovalPolicy: d.removalPolicy(), EncryptionKey: d.LogsKey}
	if name != "" {
		props.LogGroupName = jsii.String(name)
	}
	return awslogs.NewLogGroup(scope, jsii.String(id), props)
}

// output declares a stack output. CloudFormation output names must be
// alphanumeric, so vpc_id becomes VpcId; the description keeps the
// snake_case name that scripts and the README refer to.
func output(scope constructs.Construct, id, description string, value *string) {
	awscdk.NewCfnOutput(scope, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}

// lockedSecurityGroup is how a consumer stack refers to a security group of
// the Network stack: an immutable reference, so that L2 conveniences such as
// listener `open`, `connections.allowFrom` or target-group registration can
// never add a rule outside allowFlows (or a cross-stack rule that closes a
// dependency cycle).
func lockedSecurityGroup(scope constructs.Construct, id string, sg awsec2.ISecurityGroup) awsec2.ISecurityGroup {
	return awsec2.SecurityGroup_FromSecurityGroupId(scope, jsii.String(id), sg.SecurityGroupId(), &awsec2.SecurityGroupImportOptions{
		Mutable:          jsii.Bool(false),
		AllowAllOutbound: jsii.Bool(false),
	})
}
