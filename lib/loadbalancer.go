package lib

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// LoadBalancerStackProps configures the LoadBalancer stack.
type LoadBalancerStackProps struct {
	awscdk.StackProps
	Deployment   Deployment
	LoadBalancer config.LoadBalancer
	// ContainerPort is the port the targets (the application's tasks)
	// listen on.
	ContainerPort int
	// Progressive adds what ECS needs to shift traffic between two target
	// groups (Service.Rollout other than ROLLING): a second target group
	// and a production listener rule.
	Progressive bool
	Vpc         awsec2.IVpc
	// SecurityGroup is attached to the ALB.
	SecurityGroup awsec2.ISecurityGroup
}

// LoadBalancerStack owns the internet-facing ALB, its listeners, the target
// group the service registers with, and the access-log bucket.
type LoadBalancerStack struct {
	awscdk.Stack
	LoadBalancer elbv2.IApplicationLoadBalancer
	// TargetGroup is the concrete group because request-count scaling and
	// its metrics need to know the load balancer it is attached to.
	TargetGroup elbv2.ApplicationTargetGroup
	// BlockedRequests counts what the web ACL blocks, summed over five
	// minutes; nil without the firewall.
	BlockedRequests awscloudwatch.IMetric
	// GreenTargetGroup is where ECS starts a new deployment's tasks and
	// ProductionRule the listener rule whose weights it shifts between
	// TargetGroup and GreenTargetGroup; nil for rolling deployments.
	GreenTargetGroup elbv2.ApplicationTargetGroup
	ProductionRule   elbv2.ApplicationListenerRule
	// ProductionListener is the listener that serves users.
	ProductionListener elbv2.ApplicationListener
}

// NewLoadBalancerStack creates the ALB in the public subnets. With a
// certificate it serves HTTPS and redirects HTTP; without one HTTP forwards.
func NewLoadBalancerStack(scope constructs.Construct, id string, props *LoadBalancerStackProps) *LoadBalancerStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	dep, lb := props.Deployment, props.LoadBalancer

	logs := accessLogBucket(stack, dep, lb.AccessLogRetentionDays)
	alb := elbv2.NewApplicationLoadBalancer(stack, jsii.String("LoadBalancer"), &elbv2.ApplicationLoadBalancerProps{
		Vpc:                     props.Vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroup:           lockedSecurityGroup(stack, "LoadBalancerSecurityGroup", props.SecurityGroup),
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(dep.protected("LoadBalancer", lb.DeletionProtection)),
		IdleTimeout:             awscdk.Duration_Seconds(jsii.Number(float64(lb.IdleTimeoutSeconds))),
	})
	// The stack is bound to a region, so the bucket policy names that
	// region's log-delivery principal.
	alb.LogAccessLogs(logs, jsii.String("alb"))

	tg := newTargetGroup(stack, "TargetGroup", props)
	scheme, listener := addListeners(alb, tg, lb.CertificateArn)
	output(stack, "LoadBalancerUrl", "load_balancer_url: where the application is served",
		awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(scheme + "://"), alb.LoadBalancerDnsName()}))
	lbs := &LoadBalancerStack{Stack: stack, LoadBalancer: alb, TargetGroup: tg, ProductionListener: listener}
	if props.Progressive {
		// The green group has the same health check and deregistration
		// delay, so whichever group is live behaves the same. The rule
		// matches every request; ECS rewrites its forward action into
		// weights over both groups and shifts them. The listener's default
		// action still forwards to the first group, so nothing changes for
		// users while the rule is created.
		lbs.GreenTargetGroup = newTargetGroup(stack, "GreenTargetGroup", props)
		lbs.ProductionRule = elbv2.NewApplicationListenerRule(stack, jsii.String("ProductionRule"), &elbv2.ApplicationListenerRuleProps{
			Listener:   listener,
			Priority:   jsii.Number(100),
			Conditions: &[]elbv2.ListenerCondition{elbv2.ListenerCondition_PathPatterns(jsii.Strings("/*"))},
			// Both groups, weighted 100/0 as AWS's own sample sets them up;
			// ECS moves the weights. CloudFormation writes this action again
			// whenever it updates the rule (aws/aws-cdk#36649: it then resets
			// the weights), so the rule carries no tags (platform.go) and the
			// replacement guard refuses any change of it ("reroute").
			Action: elbv2.ListenerAction_WeightedForward(&[]*elbv2.WeightedTargetGroup{
				{TargetGroup: tg, Weight: jsii.Number(100)},
				{TargetGroup: lbs.GreenTargetGroup, Weight: jsii.Number(0)},
			}, nil),
		})
	}
	if lb.Firewall.Enabled {
		lbs.BlockedRequests = firewall(stack, dep, lb.Firewall, alb)
	}
	return lbs
}

// accessLogBucket receives the ALB's access logs and expires them after
// days.
func accessLogBucket(stack awscdk.Stack, dep Deployment, days int) awss3.Bucket {
	logs := awss3.NewBucket(stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		// ALB access logs support only SSE-S3.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Versioned (Control Tower CT.S3.PR.11): an overwritten or deleted
		// log object stays recoverable until its noncurrent version expires.
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                  awscdk.Duration_Days(jsii.Number(float64(days))),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
		RemovalPolicy:     dep.removalPolicy(),
		AutoDeleteObjects: jsii.Bool(!dep.RetainData),
	})
	suppress(logs, "AwsSolutions-S1",
		"This bucket receives the ALB's access logs; logging its own access would need another bucket for a log of logs.")
	return logs
}

// addListeners serves HTTPS with the certificate and redirects HTTP to it,
// or, without a certificate, forwards HTTP. It returns the URL scheme.
func addListeners(alb elbv2.ApplicationLoadBalancer, tg elbv2.ApplicationTargetGroup, certificateArn string) (string, elbv2.ApplicationListener) {
	if certificateArn != "" {
		https := alb.AddListener(jsii.String("Https"), &elbv2.BaseApplicationListenerProps{
			Port:                jsii.Number(HTTPSPort),
			Protocol:            elbv2.ApplicationProtocol_HTTPS,
			Certificates:        &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromArn(jsii.String(certificateArn))},
			SslPolicy:           elbv2.SslPolicy_RECOMMENDED_TLS,
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{tg},
			Open:                jsii.Bool(false),
		})
		alb.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
			Port:     jsii.Number(HTTPPort),
			Protocol: elbv2.ApplicationProtocol_HTTP,
			DefaultAction: elbv2.ListenerAction_Redirect(&elbv2.RedirectOptions{
				Protocol:  jsii.String("HTTPS"),
				Port:      jsii.String(fmt.Sprint(HTTPSPort)),
				Permanent: jsii.Bool(true),
			}),
			Open: jsii.Bool(false),
		})
		return "https", https
	}
	http := alb.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
		Port:                jsii.Number(HTTPPort),
		Protocol:            elbv2.ApplicationProtocol_HTTP,
		DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{tg},
		Open:                jsii.Bool(false),
	})
	return "http", http
}

// newTargetGroup is a group of the application's tasks, registered by IP
// (awsvpc), with the load balancer's health check.
func newTargetGroup(stack awscdk.Stack, id string, props *LoadBalancerStackProps) elbv2.ApplicationTargetGroup {
	lb := props.LoadBalancer
	return elbv2.NewApplicationTargetGroup(stack, jsii.String(id), &elbv2.ApplicationTargetGroupProps{
		Vpc:        props.Vpc,
		TargetType: elbv2.TargetType_IP,
		Protocol:   elbv2.ApplicationProtocol_HTTP,
		Port:       jsii.Number(float64(props.ContainerPort)),
		HealthCheck: &elbv2.HealthCheck{
			Path:                    jsii.String(lb.HealthCheckPath),
			HealthyHttpCodes:        jsii.String(lb.HealthyHTTPCodes),
			Interval:                awscdk.Duration_Seconds(jsii.Number(float64(lb.HealthCheckIntervalSeconds))),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(float64(min(5, lb.HealthCheckIntervalSeconds-1)))),
			HealthyThresholdCount:   jsii.Number(float64(lb.HealthyThreshold)),
			UnhealthyThresholdCount: jsii.Number(float64(lb.UnhealthyThreshold)),
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(float64(lb.DeregistrationDelaySeconds))),
	})
}

// firewall puts a regional AWS WAF web ACL in front of the ALB: a rate
// limit per client IP, then the AWS managed rule groups (each blocking, or
// counting only where configured), with logs to a log group whose name has
// the aws-waf-logs- prefix WAF requires, and the authorization and cookie
// headers redacted. It returns the metric of blocked requests.
func firewall(stack awscdk.Stack, dep Deployment, fw config.Firewall, alb elbv2.ApplicationLoadBalancer) awscloudwatch.IMetric {
	name := dep.Name("waf")
	visibility := func(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true), MetricName: jsii.String(metric), SampledRequestsEnabled: jsii.Bool(true),
		}
	}
	rules := []any{&awswafv2.CfnWebACL_RuleProperty{
		Name:     jsii.String("RateLimitPerIp"),
		Priority: jsii.Number(0),
		Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}},
		Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
			Limit: jsii.Number(float64(fw.RateLimitPer5Minutes)), AggregateKeyType: jsii.String("IP"), EvaluationWindowSec: jsii.Number(300),
		}},
		VisibilityConfig: visibility("RateLimitPerIp"),
	}}
	for i, group := range config.ManagedRuleGroups {
		override := &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}}
		if slices.Contains(fw.CountOnly, group) {
			override = &awswafv2.CfnWebACL_OverrideActionProperty{Count: map[string]any{}}
		}
		// AWS names its managed rule groups AWSManagedRules<short name>.
		awsName := "AWSManagedRules" + group
		rules = append(rules, &awswafv2.CfnWebACL_RuleProperty{
			Name:           jsii.String(awsName),
			Priority:       jsii.Number(float64(i + 1)),
			OverrideAction: override,
			Statement: &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{
				VendorName: jsii.String("AWS"), Name: jsii.String(awsName),
			}},
			VisibilityConfig: visibility(awsName),
		})
	}
	acl := awswafv2.NewCfnWebACL(stack, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(name),
		Description:      jsii.String(dep.Title() + ": managed rule groups and a rate limit in front of the ALB"),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		Rules:            &rules,
		VisibilityConfig: visibility(name),
	})
	// The Ref to the ALB orders the association after it. Associating
	// right after the ALB is created is reported to fail now and then as
	// "not available"; a retried deploy then succeeds.
	awswafv2.NewCfnWebACLAssociation(stack, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: alb.LoadBalancerArn(),
		WebAclArn:   acl.AttrArn(),
	})

	logName := "aws-waf-logs-" + dep.Name()
	logs := newLogGroup(stack, "FirewallLogs", dep, fw.LogRetentionDays, logName)
	logging := awswafv2.NewCfnLoggingConfiguration(stack, jsii.String("WebAclLogging"), &awswafv2.CfnLoggingConfigurationProps{
		ResourceArn: acl.AttrArn(),
		// The log group's ARN without the ":*" that Fn::GetAtt appends,
		// the form WAF documents.
		LogDestinationConfigs: &[]any{stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("logs"), Resource: jsii.String("log-group"), ResourceName: jsii.String(logName),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})},
		RedactedFields: &[]any{
			&awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{SingleHeader: map[string]any{"Name": "authorization"}},
			&awswafv2.CfnLoggingConfiguration_FieldToMatchProperty{SingleHeader: map[string]any{"Name": "cookie"}},
		},
	})
	logging.Node().AddDependency(logs)

	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/WAFV2"),
		MetricName:    jsii.String("BlockedRequests"),
		DimensionsMap: &map[string]*string{"WebACL": jsii.String(name), "Region": stack.Region(), "Rule": jsii.String("ALL")},
		Statistic:     jsii.String("Sum"),
		Period:        awscdk.Duration_Minutes(jsii.Number(5)),
	})
}
