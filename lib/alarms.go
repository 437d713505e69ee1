package lib

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

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
