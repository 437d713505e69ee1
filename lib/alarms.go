package lib

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
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

func minutes(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }

// stat is a metric statistic over a period of the given minutes.
func stat(s string, period float64) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String(s), Period: minutes(period)}
}

// targetGroups are the groups the service's tasks register with: blue
// alone, or blue and green during progressive rollouts (green is nil
// otherwise).
func targetGroups(blue, green elbv2.ApplicationTargetGroup) []elbv2.ApplicationTargetGroup {
	if green == nil {
		return []elbv2.ApplicationTargetGroup{blue}
	}
	return []elbv2.ApplicationTargetGroup{blue, green}
}

// acrossGroups is one target group's metric with opts, or, where a
// progressive rollout shifts traffic between two groups, the SUM or MAX
// over both, so that an alarm watches whichever group is live, the new
// tasks included.
func acrossGroups(groups []elbv2.ApplicationTargetGroup, fn, label string, opts *awscloudwatch.MetricOptions,
	metric func(elbv2.IApplicationTargetGroupMetrics, *awscloudwatch.MetricOptions) awscloudwatch.IMetric) awscloudwatch.IMetric {
	if len(groups) == 1 {
		return metric(groups[0].Metrics(), opts)
	}
	using := map[string]awscloudwatch.IMetric{}
	var ids []string
	for i, g := range groups {
		id := fmt.Sprintf("g%d", i)
		using[id] = metric(g.Metrics(), opts)
		ids = append(ids, "FILL("+id+", 0)")
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fn + "([" + strings.Join(ids, ", ") + "])"),
		UsingMetrics: &using,
		Label:        jsii.String(label),
		Period:       opts.Period,
	})
}
