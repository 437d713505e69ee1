package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newDeploymentAlarms creates the alarms ECS watches during a deployment.
// They live in the Service stack because the service refers to them by
// name and they must exist before it does.
func newDeploymentAlarms(scope constructs.Construct, props *ServiceStackProps) []awscloudwatch.IAlarm {
	topic, name := props.AlarmTopic, props.Deployment.Name
	groups := targetGroups(props.TargetGroup, props.GreenTargetGroup)
	errors := acrossGroups(groups, "SUM", "Target 5xx", stat("Sum", 1), func(m elbv2.IApplicationTargetGroupMetrics, o *awscloudwatch.MetricOptions) awscloudwatch.IMetric {
		return m.HttpCodeTarget(elbv2.HttpCodeTarget_TARGET_5XX_COUNT, o)
	})
	unhealthy := acrossGroups(groups, "MAX", "Unhealthy targets", stat("Maximum", 1), func(m elbv2.IApplicationTargetGroupMetrics, o *awscloudwatch.MetricOptions) awscloudwatch.IMetric {
		return m.UnhealthyHostCount(o)
	})
	return []awscloudwatch.IAlarm{
		newAlarm(scope, topic, alarm{
			id: "Target5xxAlarm", name: name("target-5xx"),
			description: fmt.Sprintf("Tasks answered at least %g requests with 5xx per minute; rolls a deployment back", props.Target5xxCount),
			metric:      errors,
			threshold:   props.Target5xxCount, comparison: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		}),
		newAlarm(scope, topic, alarm{
			id: "UnhealthyTargetsAlarm", name: name("unhealthy-targets"),
			description: fmt.Sprintf("At least %g tasks fail the load balancer health check; rolls a deployment back", props.UnhealthyTargets),
			metric:      unhealthy,
			threshold:   props.UnhealthyTargets, comparison: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		}),
	}
}

// redeployOnRotation makes a rotated database password reach the running
// tasks, which read their secrets only when they start. The rotation
// alternates users, so the tasks it replaces still log in (their user's
// password is only changed by the rotation after next) and a progressive
// rollout finds the old revision healthy, never a reason to roll back.
// When Secrets Manager moves this secret's AWSCURRENT label to a new
// version, a state machine calls ecs:UpdateService with forceNewDeployment
// on this service only. It needs no function code, and its role may update
// exactly this service.
func redeployOnRotation(scope constructs.Construct, props *ServiceStackProps, service awsecs.Ec2Service) {
	force := awsstepfunctionstasks.NewCallAwsService(scope, jsii.String("ForceNewDeployment"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service:      jsii.String("ecs"),
		Action:       jsii.String("updateService"),
		IamAction:    jsii.String("ecs:UpdateService"),
		IamResources: jsii.Strings(*service.ServiceArn()),
		Parameters: &map[string]any{
			"Cluster":            props.Cluster.ClusterName(),
			"Service":            service.ServiceName(),
			"ForceNewDeployment": true,
		},
		ResultSelector: &map[string]any{"deployment.$": "$.Service.Deployments[0].Id"},
	})
	machine := awsstepfunctions.NewStateMachine(scope, jsii.String("RedeployOnRotation"), &awsstepfunctions.StateMachineProps{
		Comment:          jsii.String("Forces a new deployment of the service after its database or Redis secret changed"),
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromChainable(force),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		Timeout:          awscdk.Duration_Minutes(jsii.Number(5)),
		TracingEnabled:   jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          newLogGroup(scope, "RedeployLogs", props.Deployment, props.FunctionLogRetentionDays, ""),
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	suppress(defaultPolicy(machine.Role()), "AwsSolutions-IAM5",
		"CloudWatch Logs delivery and X-Ray actions have no resource-level permissions; ecs:UpdateService is limited to this service's ARN.",
		"Resource::*")

	// Secrets Manager's native event needs no CloudTrail trail, unlike
	// "AWS Service Event via CloudTrail" (RotationSucceeded). Rotation ends
	// by moving AWSCURRENT to the new version, and so does a password set
	// by hand: either way the tasks must restart.
	awsevents.NewRule(scope, jsii.String("SecretRotated"), &awsevents.RuleProps{
		Description: jsii.String("Database or Redis credentials changed: restart the tasks so they read the new password"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.secretsmanager"),
			DetailType: jsii.Strings("Secret Label Updated"),
			Resources:  &[]*string{props.DatabaseCredentials.SecretArn(), props.RedisCredentials.SecretArn()},
			Detail:     &map[string]any{"labelUpdated": []string{"AWSCURRENT"}},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSfnStateMachine(machine, nil)},
	})
}
