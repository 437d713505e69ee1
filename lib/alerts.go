package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// AlertsStackProps configures the Alerts stack.
type AlertsStackProps struct {
	awscdk.StackProps
	Config config.Config
}

// AlertsStack owns the encrypted SNS topic every alarm notifies. It is a
// stack of its own, deployed early, because the Service stack's deployment
// alarms notify it and the Monitoring stack, which watches the service,
// comes after the Service stack.
type AlertsStack struct {
	awscdk.Stack
	Topic awssns.ITopic
}

// NewAlertsStack creates the alarm topic, its key and the e-mail
// subscriptions.
func NewAlertsStack(scope constructs.Construct, id string, props *AlertsStackProps) *AlertsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config

	// CloudWatch can publish to an encrypted topic only with a customer
	// managed key whose policy lets it use the key.
	key := newKey(stack, "TopicKey", cfg, "alarm topic")
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: alarmsOfThisAccount(stack),
	}), nil)

	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(cfg.AppName + " " + cfg.Environment + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// EnforceSSL writes a topic policy, and any topic policy replaces the
	// default one that let the account's services publish: CloudWatch
	// needs its own Allow, limited to this account's alarms in this region.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: alarmsOfThisAccount(stack),
	}))
	for _, email := range cfg.Monitoring.AlarmEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}

	output(stack, "AlarmTopicArn", "alarm_topic_arn: subscribe on-call tools here", topic.TopicArn())
	return &AlertsStack{Stack: stack, Topic: topic}
}

// alarmsOfThisAccount limits a service-principal grant to CloudWatch alarms
// of this stack's account and region (the confused-deputy conditions SNS
// and KMS document for CloudWatch).
func alarmsOfThisAccount(stack awscdk.Stack) *map[string]any {
	return &map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
	}
}

// alarm describes one CloudWatch alarm.
type alarm struct {
	id string
	// name is a physical alarm name; only alarms referred to by name (ECS
	// deployment alarms) need one.
	name        string
	description string
	metric      awscloudwatch.IMetric
	threshold   float64
	comparison  awscloudwatch.ComparisonOperator
	// periods is how many evaluation periods are looked at, and
	// datapoints how many of them must breach.
	periods, datapoints int
	// missing is how missing data counts; alarms on traffic treat it as
	// not breaching, alarms on presence (running tasks) as breaching.
	missing awscloudwatch.TreatMissingData
}

// newAlarm creates the alarm in scope and has it notify topic on ALARM and
// on OK.
func newAlarm(scope constructs.Construct, topic awssns.ITopic, a alarm) awscloudwatch.Alarm {
	if a.periods == 0 {
		a.periods, a.datapoints = 3, 2
	}
	if a.missing == "" {
		a.missing = awscloudwatch.TreatMissingData_NOT_BREACHING
	}
	var name *string
	if a.name != "" {
		name = jsii.String(a.name)
	}
	al := awscloudwatch.NewAlarm(scope, jsii.String(a.id), &awscloudwatch.AlarmProps{
		AlarmName:          name,
		AlarmDescription:   jsii.String(a.description),
		Metric:             a.metric,
		Threshold:          jsii.Number(a.threshold),
		ComparisonOperator: a.comparison,
		EvaluationPeriods:  jsii.Number(float64(a.periods)),
		DatapointsToAlarm:  jsii.Number(float64(a.datapoints)),
		TreatMissingData:   a.missing,
	})
	action := awscloudwatchactions.NewSnsAction(topic)
	al.AddAlarmAction(action)
	al.AddOkAction(action)
	return al
}
