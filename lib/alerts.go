package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlertsStackProps configures the Alerts stack.
type AlertsStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	// AlarmEmails are subscribed to the topic.
	AlarmEmails []string
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
	d := props.Deployment

	// CloudWatch can publish to an encrypted topic only with a customer
	// managed key whose policy lets it use the key.
	key := newKey(stack, "TopicKey", d, "alarm topic")
	key.AddToResourcePolicy(alarmsMayPublish(stack, jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"), jsii.Strings("*")), nil)

	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(d.Title() + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// EnforceSSL writes a topic policy, and any topic policy replaces the
	// default one that let the account's services publish: CloudWatch
	// needs its own Allow, limited to this account's alarms in this region.
	topic.AddToResourcePolicy(alarmsMayPublish(stack, jsii.Strings("sns:Publish"), jsii.Strings(*topic.TopicArn())))
	for _, email := range props.AlarmEmails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}

	output(stack, "AlarmTopicArn", "alarm_topic_arn: subscribe on-call tools here", topic.TopicArn())
	return &AlertsStack{Stack: stack, Topic: topic}
}

// alarmsMayPublish lets CloudWatch take actions on resources for the
// alarms of this stack's account and region only (the confused-deputy
// conditions SNS and KMS document for CloudWatch).
func alarmsMayPublish(stack awscdk.Stack, actions, resources *[]*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    actions,
		Resources:  resources,
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnLike": map[string]any{"aws:SourceArn": stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("cloudwatch"), Resource: jsii.String("alarm"), ResourceName: jsii.String("*"),
				ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
			})},
		},
	})
}
