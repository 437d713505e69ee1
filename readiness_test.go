package main

// Deploy readiness: the rules AWS enforces at deploy and run time, checked
// over every template of every synthesized configuration. cdk-nag, the
// validator and cfn-lint check a template's shape; these check what the
// services do with it: who a resource policy lets in, which events arrive,
// which versions can still be created, what survives a failed create.
// Each rule finds the resources it applies to by type, never by logical ID,
// cites the AWS documentation it encodes, and fails when it matched
// nothing, so a rule can never pass by looking at the wrong thing.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/iampolicy"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readinessRule is one behavioural rule. check reports problems with
// testify and returns how many resources it examined.
type readinessRule struct {
	name   string
	source string
	check  func(t checkT, w world) int
}

var readinessRules = []readinessRule{
	{"every alarm action can publish: alarm, topic policy, topic key",
		"https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services; " +
			"https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger",
		alarmActionsCanPublish},
	{"every ECS deployment alarm exists",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html",
		deploymentAlarmsExist},
	{"every event rule matches events that arrive without a trail, and its targets can be invoked",
		"https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html; " +
			"https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html",
		eventRulesFireAndInvoke},
	{"every pinned engine version is one AWS still creates, with its parameter-group family",
		"https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html (checked 2026-11-29); " +
			"AWS notice: RDS for PostgreSQL 14.14-14.17, 15.9-15.12, 16.5-16.8, 17.1-17.4 not creatable from 2026-05-01; " +
			"https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/supported-engine-versions.html; " +
			"https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html (AllowMajorVersionUpgrade, a new parameter group for a major upgrade)",
		engineVersionsAreCreatable},
	{"every retained resource is deleted when its creating deploy rolls back",
		"https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html (RetainExceptOnCreate)",
		retainedResourcesSurviveFailedCreate},
	{"every container health check probes the container's own port and the load balancer's path",
		"https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html; " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html (ip targets)",
		healthChecksProbeTheService},
	{"every container secret is readable by its task's execution role",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
		containerSecretsAreReadable},
	{"every awslogs container buffers bursts and every task runs where IMDS is blocked",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html (max-buffer-size); " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ec2-security-considerations.html (ECS_AWSVPC_BLOCK_IMDS)",
		logsAndMetadataAreSafe},
	{"every container image is pinned and can be pulled from where its instances can reach",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html; " +
			"https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html (the first pull through a cache rule over PrivateLink needs a NAT path); " +
			"https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html (the container-asset repository); " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html",
		imagesArePinnedAndPullable},
	{"every VPC endpoint of a closed network is a data perimeter: this account's principals only, and S3 only for the buckets the instances and the application need",
		"https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html; " +
			"https://github.com/aws-samples/data-perimeter-policy-examples (vpc_endpoint_policies); " +
			"https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html (minimum Amazon S3 bucket permissions)",
		endpointsAreAPerimeter},
	{"every web ACL is associated and logs where WAF can write, with credentials redacted",
		"https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html; " +
			"https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-loggingconfiguration.html",
		firewallsLogAndProtect},
	{"every repository's lifecycle rules keep the image the service runs",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html",
		lifecycleKeepsRunningImage},
	{"every service role trusts the service that assumes it",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services",
		serviceRolesAreTrusted},
	{"no placeholder value is left once a real account is configured",
		"DESIGN.md, Known traps: placeholders that make offline synth work must never reach a real account",
		noPlaceholdersInRealAccounts},
}

// TestDeployReadiness runs every rule over every synthesized configuration.
func TestDeployReadiness(t *testing.T) {
	worlds := map[string]world{}
	for _, name := range synthesized() {
		worlds[name] = newWorld(name)
	}
	for _, rule := range readinessRules {
		t.Run(rule.name, func(t *testing.T) {
			examined := 0
			for _, name := range synthesized() {
				t.Run(name, func(t *testing.T) { examined += rule.check(t, worlds[name]) })
			}
			assert.Positive(t, examined, "the rule matched no resource in any configuration; it checks nothing (source: %s)", rule.source)
			if t.Failed() {
				t.Logf("rule source: %s", rule.source)
			}
		})
	}
}

// TestRulesSurviveUnexpectedShapes feeds every rule (and every lifecycle
// transition's check) a world whose every
// resource property has another shape than CloudFormation gives it (lists
// for objects, objects for strings, strings for lists): each rule must
// report what it cannot read, never panic and stop the others.
func TestRulesSurviveUnexpectedShapes(t *testing.T) {
	good := newWorld("first-deploy")
	var garbled map[string]cfn.Template
	require.NoError(t, json.Unmarshal([]byte(cfn.JSON(good.Templates)), &garbled), "a deep copy")
	reshape := func(v any) any {
		switch v.(type) {
		case map[string]any:
			return []any{1}
		case []any:
			return "x"
		case string:
			return map[string]any{"k": 1}
		}
		return nil
	}
	for _, tpl := range garbled {
		for _, r := range cfn.Object(tpl["Resources"]) {
			props := cfn.Props(cfn.Object(r))
			for k, v := range props {
				props[k] = reshape(v)
			}
		}
	}
	w := good
	w.World = cfn.NewWorld(garbled)
	reported := 0
	for _, rule := range readinessRules {
		r, panicked := record(func(r *recorder) { rule.check(r, w) })
		assert.Nil(t, panicked, "%s panicked on an unexpected shape", rule.name)
		reported += len(r.errors)
	}
	for _, tr := range transitions {
		r, panicked := record(func(r *recorder) { tr.check(r, w) })
		assert.Nil(t, panicked, "transition %q panicked on an unexpected shape", tr.name)
		reported += len(r.errors)
	}
	assert.Positive(t, reported, "no rule reported the garbled templates")
}

// TestTemplatesHaveTheShapeChecksRead: every template of every
// configuration has the shape the readers expect (cfn.Check), so no check
// skips a resource it could not read.
func TestTemplatesHaveTheShapeChecksRead(t *testing.T) {
	for _, env := range synthesized() {
		for _, stack := range sortedKeys(envs[env].templates) {
			for _, err := range cfn.Check(envs[env].templates[stack]) {
				assert.Fail(t, "unexpected template shape", "%s/%s: %v", env, stack, err)
			}
		}
	}
}

// world is one synthesized configuration seen as a whole (cfn.World): its
// templates joined by their exports, and the configuration it came from.
type world struct {
	cfn.World
	name            string
	cfg             config.Config
	account, region string
}

func newWorld(name string) world {
	s := envs[name]
	return world{World: cfn.NewWorld(s.templates), name: name, cfg: s.cfg, account: s.cfg.Account, region: s.cfg.Region}
}

// roleAllows reports whether the policies attached to role allow req.
func (w world) roleAllows(role cfn.Ref, req iampolicy.Request) (bool, string) {
	return iampolicy.EvaluateAll(w.RolePolicies(role), req)
}

// alarmActionsCanPublish follows every alarm action to its SNS topic, the
// topic's policy and the topic's KMS key. An AWS::SNS::TopicPolicy replaces
// the topic's default policy, so CloudWatch needs an explicit Allow there;
// an SSE-KMS topic also needs the key to let CloudWatch use it.
func alarmActionsCanPublish(t checkT, w world) int {
	actions := 0
	w.Each("AWS::CloudWatch::Alarm", func(alarm cfn.Ref, props, _ map[string]any) {
		name := fmt.Sprint(props["AlarmName"])
		if props["AlarmName"] == nil {
			name = alarm.ID
		}
		ctx := map[string]string{
			"aws:SourceAccount":   w.account,
			"aws:SourceArn":       fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", w.region, w.account, name),
			"aws:SecureTransport": "true",
		}
		for _, key := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			for _, action := range cfn.List(props[key]) {
				actions++
				topic, ok := w.Resolve(alarm.Stack, action)
				if !assert.True(t, ok, "%s: %s %s names no topic of this app: %s", alarm, key, cfn.JSON(action), "nothing checks who may publish there") {
					continue
				}
				require.Equal(t, "AWS::SNS::Topic", w.Resource(topic)["Type"], "%s: %s target %s", alarm, key, topic)
				publish := iampolicy.Request{Service: "cloudwatch.amazonaws.com", Action: "sns:Publish", Resource: w.Covers(topic.Stack, topic), Context: ctx}
				policies := 0
				w.Each("AWS::SNS::TopicPolicy", func(p cfn.Ref, pp, _ map[string]any) {
					if p.Stack != topic.Stack || !slices.ContainsFunc(cfn.List(pp["Topics"]), func(v any) bool { r, ok := w.Resolve(p.Stack, v); return ok && r == topic }) {
						return
					}
					policies++
					ok, why := iampolicy.Evaluate(pp["PolicyDocument"], publish)
					assert.True(t, ok, "%s -> topic %s: policy %s does not let CloudWatch publish (%s)", alarm, topic, p.ID, why)
				})
				// Without a topic policy SNS's default policy lets the account's
				// services publish; with one, only what it allows.
				if policies == 0 {
					t.Logf("%s -> topic %s has SNS's default policy", alarm, topic)
				}
				keyArn, encrypted := w.Props(topic)["KmsMasterKeyId"]
				if !encrypted {
					continue
				}
				key, ok := w.Resolve(topic.Stack, keyArn)
				if !assert.True(t, ok, "%s -> topic %s is encrypted with %s, a key whose policy this app does not control (the AWS managed aws/sns key refuses CloudWatch)", alarm, topic, cfn.JSON(keyArn)) {
					continue
				}
				for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
					ok, why := iampolicy.Evaluate(w.Props(key)["KeyPolicy"], iampolicy.Request{Service: "cloudwatch.amazonaws.com", Action: action, Resource: func(v any) bool { return v == "*" }, Context: ctx})
					assert.True(t, ok, "%s -> topic %s -> key %s: CloudWatch may not %s (%s)", alarm, topic, key, action, why)
				}
			}
		}
	})
	return actions
}

// deploymentAlarmsExist checks that every alarm an ECS service watches
// during deployments is created by the app: ECS refers to them by name and
// would watch nothing.
func deploymentAlarmsExist(t checkT, w world) int {
	names := map[string]bool{}
	w.Each("AWS::CloudWatch::Alarm", func(_ cfn.Ref, props, _ map[string]any) {
		if n, ok := props["AlarmName"].(string); ok {
			names[n] = true
		}
	})
	n := 0
	w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, _ map[string]any) {
		dc, _ := props["DeploymentConfiguration"].(map[string]any)
		alarms, _ := dc["Alarms"].(map[string]any)
		for _, name := range cfn.List(alarms["AlarmNames"]) {
			n++
			s, ok := name.(string)
			if !ok {
				if r, resolved := w.Resolve(svc.Stack, name); resolved {
					s, _ = w.Props(r)["AlarmName"].(string)
				}
			}
			assert.True(t, names[s], "%s watches alarm %s, which this app does not create", svc, cfn.JSON(name))
		}
		assert.Equal(t, true, alarms["Enable"], "%s: deployment alarms are not enabled", svc)
	})
	return n
}

// nativeEvents are the detail-types services send to EventBridge without a
// CloudTrail trail (each service's EventBridge page). Detail-types ending
// in "via CloudTrail" need a trail with logging, which this app does not
// create.
var nativeEvents = map[string][]string{
	"aws.secretsmanager": {"Secret Label Updated"},
	"aws.ecs":            {"ECS Task State Change", "ECS Container Instance State Change", "ECS Service Action", "ECS Deployment State Change"},
}

// eventRulesFireAndInvoke checks every event pattern against the events
// that arrive without set-up and every target's role against the target.
func eventRulesFireAndInvoke(t checkT, w world) int {
	trails := w.Each("AWS::CloudTrail::Trail", func(cfn.Ref, map[string]any, map[string]any) {})
	return w.Each("AWS::Events::Rule", func(rule cfn.Ref, props, _ map[string]any) {
		pattern, _ := props["EventPattern"].(map[string]any)
		sources := iampolicy.Strings(pattern["source"])
		require.NotEmpty(t, sources, "%s: a pattern without a source matches events nobody checked", rule)
		for _, dt := range iampolicy.Strings(pattern["detail-type"]) {
			if strings.HasSuffix(dt, "via CloudTrail") {
				assert.Positive(t, trails, "%s matches %q, which EventBridge delivers only with a CloudTrail trail that logs; none is created", rule, dt)
				continue
			}
			for _, src := range sources {
				assert.Contains(t, nativeEvents[src], dt, "%s matches %q from %s, not a documented native event", rule, dt, src)
			}
		}
		if slices.Contains(sources, "aws.secretsmanager") {
			// Secret Label Updated carries the secret only in "resources";
			// its detail has name, labelUpdated and versionId. It is sent
			// for every label except AWSPENDING and AWSPREVIOUS; what the
			// tasks read is AWSCURRENT.
			detail, _ := pattern["detail"].(map[string]any)
			for key := range detail {
				assert.Contains(t, []string{"name", "labelUpdated", "versionId"}, key, "%s: Secret Label Updated has no detail.%s", rule, key)
			}
			assert.Equal(t, []string{"AWSCURRENT"}, iampolicy.Strings(detail["labelUpdated"]), "%s: the tasks read AWSCURRENT; other labels never reach them (and AWSPENDING sends no event)", rule)
			resources := cfn.List(pattern["resources"])
			assert.NotEmpty(t, resources, "%s: a Secrets Manager rule without resources fires for every secret", rule)
			for _, r := range resources {
				assert.True(t, w.isContainerSecret(rule.Stack, r), "%s: matches secret %s, which no container reads", rule, cfn.JSON(r))
			}
		}
		for _, tg := range cfn.List(props["Targets"]) {
			target := cfn.Object(tg)
			dest, ok := w.Resolve(rule.Stack, target["Arn"])
			if !assert.True(t, ok, "%s: target %s is not a resource of this app", rule, cfn.JSON(target["Arn"])) {
				continue
			}
			action := map[string]string{"AWS::StepFunctions::StateMachine": "states:StartExecution", "AWS::Lambda::Function": "lambda:InvokeFunction"}[fmt.Sprint(w.Resource(dest)["Type"])]
			require.NotEmpty(t, action, "%s: no rule here for a %s target", rule, w.Resource(dest)["Type"])
			role, ok := w.Resolve(rule.Stack, target["RoleArn"])
			if !assert.True(t, ok, "%s: target %s has no role EventBridge could assume", rule, dest) {
				continue
			}
			trusted, why := iampolicy.Evaluate(w.Props(role)["AssumeRolePolicyDocument"], w.assumedBy("events.amazonaws.com", "arn:aws:events:REGION:ACCOUNT:rule/name"))
			assert.True(t, trusted, "%s: role %s does not trust EventBridge (%s)", rule, role, why)
			may, why := w.roleAllows(role, iampolicy.Request{Action: action, Resource: w.Covers(role.Stack, dest)})
			assert.True(t, may, "%s: role %s may not %s on %s (%s)", rule, role, action, dest, why)
		}
	})
}

// isContainerSecret reports whether v (in stack) names a secret some
// container of this world reads, directly or through an attachment.
func (w world) isContainerSecret(stack string, v any) bool {
	s, ok := w.secretOf(stack, v)
	if !ok {
		return false
	}
	for _, secrets := range w.containerSecrets() {
		if slices.Contains(secrets, s) {
			return true
		}
	}
	return false
}

func engineVersionsAreCreatable(t checkT, w world) int {
	n := w.Each("AWS::RDS::DBInstance", func(db cfn.Ref, props, _ map[string]any) {
		v := fmt.Sprint(props["EngineVersion"])
		// The facts are lib/config/catalog.go's, which validation reads too
		// and TestCatalogMatchesAWSData compares with AWS's lists.
		major, minor, pinned := strings.Cut(v, ".")
		creatable, known := config.PostgresMinors()[major]
		if assert.True(t, known, "%s: PostgreSQL %s is not a major RDS creates in standard support", db, v) && pinned {
			m, err := strconv.Atoi(minor)
			assert.True(t, err == nil && creatable.Oldest > 0 && m >= creatable.Oldest && m <= creatable.Newest,
				"%s: PostgreSQL %s is a minor RDS does not create (known creatable: %s.%d-%s.%d); pin the major only", db, v, major, creatable.Oldest, major, creatable.Newest)
		}
		group, ok := w.Resolve(db.Stack, props["DBParameterGroupName"])
		if assert.True(t, ok, "%s has no parameter group of this app", db) {
			assert.Equal(t, "postgres"+major, w.Props(group)["Family"], "%s: the parameter group's family must follow the major version", db)
		}
		// "Major version upgrades must be allowed when specifying a value
		// for the EngineVersion parameter that's a different major version
		// than the DB instance's current version" (RDS ModifyDBInstance).
		assert.Equal(t, true, props["AllowMajorVersionUpgrade"], "%s: without AllowMajorVersionUpgrade RDS refuses the next major in EngineVersion", db)
	})
	n += w.Each("AWS::ElastiCache::ReplicationGroup", func(rg cfn.Ref, props, _ map[string]any) {
		v := fmt.Sprint(props["EngineVersion"])
		family, known := config.RedisFamilies()[v]
		assert.True(t, known, "%s: Redis OSS %s is not a version ElastiCache creates", rg, v)
		group, ok := w.Resolve(rg.Stack, props["CacheParameterGroupName"])
		if assert.True(t, ok, "%s has no parameter group of this app", rg) {
			assert.Equal(t, family, w.Props(group)["CacheParameterGroupFamily"], "%s: parameter-group family of Redis %s", rg, v)
		}
		if props["AuthToken"] != nil {
			assert.Equal(t, true, props["TransitEncryptionEnabled"], "%s: ElastiCache accepts an AUTH token only with in-transit encryption", rg)
		}
	})
	return n
}

// physicalName is the property that fixes a resource's name, per type.
var physicalName = map[string]string{
	"AWS::Logs::LogGroup": "LogGroupName", "AWS::RDS::DBInstance": "DBInstanceIdentifier",
	"AWS::RDS::DBSubnetGroup": "DBSubnetGroupName", "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
	"AWS::ElastiCache::SubnetGroup": "CacheSubnetGroupName", "AWS::SecretsManager::Secret": "Name",
	"AWS::ECR::Repository": "RepositoryName", "AWS::S3::Bucket": "BucketName", "AWS::KMS::Alias": "AliasName",
	"AWS::Lambda::Function": "FunctionName", "AWS::IAM::Role": "RoleName", "AWS::SNS::Topic": "TopicName",
	"AWS::ECS::Cluster": "ClusterName", "AWS::StepFunctions::StateMachine": "StateMachineName",
}

// retainedResourcesSurviveFailedCreate: Retain keeps a resource even when
// the deploy that created it rolls back; with a fixed name the retry then
// fails with "already exists", and with termination protection the
// ROLLBACK_COMPLETE stack cannot even be deleted. RetainExceptOnCreate
// keeps what a deploy once created and cleans up a failed create.
func retainedResourcesSurviveFailedCreate(t checkT, w world) int {
	n := 0
	w.Each("", func(r cfn.Ref, props, res map[string]any) {
		policy := res["DeletionPolicy"]
		if policy != "Retain" && policy != "RetainExceptOnCreate" {
			return
		}
		n++
		name := ""
		if prop := physicalName[fmt.Sprint(res["Type"])]; prop != "" && props[prop] != nil {
			name = fmt.Sprintf(" with the fixed name %s", cfn.JSON(props[prop]))
		}
		assert.Equal(t, "RetainExceptOnCreate", policy, "%s: %s%s is retained even when its creating deploy rolls back", r, res["Type"], name)
	})
	return n
}

var localURL = regexp.MustCompile(`http://localhost:([0-9]+)(/[^ ']*)`)

// healthChecksProbeTheService ties each container health check to the
// container's port and to the health-check path of the target group the
// service registers that container with; it also checks ECS's limits on
// the check's timing and that awsvpc tasks register as IP targets.
func healthChecksProbeTheService(t checkT, w world) int {
	n := 0
	w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, _ map[string]any) {
		td, ok := w.Resolve(svc.Stack, props["TaskDefinition"])
		require.True(t, ok, "%s: task definition %s", svc, cfn.JSON(props["TaskDefinition"]))
		containers := map[string]map[string]any{}
		for _, c := range cfn.List(w.Props(td)["ContainerDefinitions"]) {
			containers[fmt.Sprint(cfn.Object(c)["Name"])] = cfn.Object(c)
		}
		for _, lb := range cfn.List(props["LoadBalancers"]) {
			n++
			lb := cfn.Object(lb)
			c := containers[fmt.Sprint(lb["ContainerName"])]
			require.NotNil(t, c, "%s registers container %v, which its task definition lacks", svc, lb["ContainerName"])
			port := fmt.Sprint(lb["ContainerPort"])
			assert.Contains(t, cfn.JSON(c["PortMappings"]), `"ContainerPort":`+port, "%s: container %v does not map port %s", svc, lb["ContainerName"], port)
			tg, ok := w.Resolve(svc.Stack, lb["TargetGroupArn"])
			require.True(t, ok, "%s: target group %s", svc, cfn.JSON(lb["TargetGroupArn"]))
			tgProps := w.Props(tg)
			if w.Props(td)["NetworkMode"] == "awsvpc" {
				assert.Equal(t, "ip", tgProps["TargetType"], "%s: awsvpc tasks register by IP; target group %s has type %v", svc, tg, tgProps["TargetType"])
			}
			hc, ok := c["HealthCheck"].(map[string]any)
			if !ok {
				t.Logf("%s: container %v has no container health check; the load balancer's check alone decides", svc, lb["ContainerName"])
				continue
			}
			command := iampolicy.Strings(hc["Command"])
			require.NotEmpty(t, command, "%s: health check without a command", svc)
			m := localURL.FindStringSubmatch(strings.Join(command, " "))
			if assert.NotNil(t, m, "%s: health check %q fetches no http://localhost URL", svc, command) {
				assert.Equal(t, port, m[1], "%s: health check probes port %s, the container listens on %s", svc, m[1], port)
				assert.Equal(t, tgProps["HealthCheckPath"], m[2], "%s: health check probes %s, the load balancer probes %v", svc, m[2], tgProps["HealthCheckPath"])
			}
			within := func(key string, lo, hi float64) {
				v, ok := hc[key].(float64)
				assert.True(t, ok && v >= lo && v <= hi, "%s: health check %s is %v, ECS accepts %g-%g", svc, key, hc[key], lo, hi)
			}
			within("Interval", 5, 300)
			within("Timeout", 2, 60)
			within("Retries", 1, 10)
			within("StartPeriod", 0, 300)
		}
	})
	return n
}

// containerSecretsAreReadable: the execution role fetches ECS secrets when
// a task starts; a secret it cannot read stops every task from starting.
func containerSecretsAreReadable(t checkT, w world) int {
	n := 0
	w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		role, ok := w.Resolve(td.Stack, props["ExecutionRoleArn"])
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			for _, s := range cfn.List(cfn.Object(c)["Secrets"]) {
				n++
				s := cfn.Object(s)
				if !assert.True(t, ok, "%s: secret %v but no execution role of this app", td, s["Name"]) {
					continue
				}
				arn := secretArnOf(s["ValueFrom"])
				may, why := w.roleAllows(role, iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: func(v any) bool {
					return slices.ContainsFunc(cfn.ListOr(v), func(e any) bool { return w.SameTarget(role.Stack, e, td.Stack, arn) || e == "*" })
				}})
				assert.True(t, may, "%s: execution role %s may not read secret %v (%s): %s", td, role, s["Name"], cfn.JSON(arn), why)
			}
		}
	})
	return n
}

// secretArnOf takes the secret ARN out of an ECS secret's valueFrom, which
// may be ARN:json-key:version-stage:version-id joined from parts.
func secretArnOf(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if join, ok := m["Fn::Join"].([]any); ok && len(join) == 2 {
		if parts, ok := join[1].([]any); ok && len(parts) > 0 {
			return parts[0]
		}
	}
	return v
}

// logsAndMetadataAreSafe: a non-blocking awslogs driver drops what does not
// fit its buffer, and awsvpc tasks reach the instance role's credentials
// through IMDS unless the agent blocks it.
func logsAndMetadataAreSafe(t checkT, w world) int {
	awsvpc := 0
	n := w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		if props["NetworkMode"] == "awsvpc" {
			awsvpc++
		}
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			lc := cfn.Object(cfn.Object(c)["LogConfiguration"])
			opts, _ := lc["Options"].(map[string]any)
			if lc["LogDriver"] != "awslogs" || opts["mode"] != "non-blocking" {
				continue
			}
			size := fmt.Sprint(opts["max-buffer-size"])
			assert.True(t, bufferBytes(size) >= 4<<20, "%s: non-blocking awslogs with max-buffer-size %s drops log bursts; set at least 4 MiB", td, size)
		}
	})
	hosts := 0
	n += w.Each("AWS::EC2::LaunchTemplate", func(lt cfn.Ref, props, _ map[string]any) {
		data, _ := props["LaunchTemplateData"].(map[string]any)
		userData := cfn.JSON(data["UserData"])
		if strings.Contains(userData, "ECS_CLUSTER=") {
			hosts++
			assert.Contains(t, userData, `ECS_AWSVPC_BLOCK_IMDS=true \u003e\u003e /etc/ecs/ecs.config`, "%s: container instances of awsvpc tasks do not block IMDS", lt)
		}
		md, _ := data["MetadataOptions"].(map[string]any)
		assert.Equal(t, "required", md["HttpTokens"], "%s: IMDSv2 is not required", lt)
	})
	if awsvpc > 0 {
		assert.Positive(t, hosts, "awsvpc tasks but no launch template whose user data joins an ECS cluster; the IMDS check saw nothing")
	}
	return n
}

// imagesArePinnedAndPullable: every image a task definition names is pinned
// (a digest, or a tag its repository cannot move: the platform's
// repository with immutable tags, or the CDK's container-asset repository,
// whose bootstrap template makes tags immutable and names each image by its
// content hash), the execution role may pull it, and an image outside
// this account's ECR needs instances that reach the internet. No
// pull-through cache rule: its prefix is account-wide, and its first pull
// over PrivateLink needs a NAT path.
func imagesArePinnedAndPullable(t checkT, w world) int {
	w.Each("AWS::ECR::PullThroughCacheRule", func(r cfn.Ref, props, _ map[string]any) {
		assert.Fail(t, "pull-through cache rule", "%s: prefix %v is account-wide (another stack or environment with the same prefix fails to create), "+
			"and the first pull through it over PrivateLink needs a NAT path (ECR User Guide, VPC endpoint considerations)", r, props["EcrRepositoryPrefix"])
	})
	immutable := map[string]bool{}
	w.Each("AWS::ECR::Repository", func(r cfn.Ref, props, _ map[string]any) {
		immutable[r.String()] = props["ImageTagMutability"] == "IMMUTABLE"
	})
	internet := false
	w.Each("AWS::EC2::LaunchTemplate", func(lt cfn.Ref, props, _ map[string]any) {
		data, _ := props["LaunchTemplateData"].(map[string]any)
		for _, id := range cfn.List(data["SecurityGroupIds"]) {
			if sg, ok := w.Resolve(lt.Stack, id); ok {
				for _, rule := range cfn.List(w.Props(sg)["SecurityGroupEgress"]) {
					r := cfn.Object(rule)
					internet = internet || (r["CidrIp"] == "0.0.0.0/0" && r["FromPort"] == 443.0)
				}
			}
		}
	})
	assets := fmt.Sprintf("%s.dkr.ecr.%s.${AWS::URLSuffix}/cdk-hnb659fds-container-assets-%s-%s:", w.account, w.region, w.account, w.region)
	return w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		role, hasRole := w.Resolve(td.Stack, props["ExecutionRoleArn"])
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			raw := cfn.Object(c)["Image"]
			image := cfn.Flatten(raw)
			if sub, ok := cfn.Object(raw)["Fn::Sub"].(string); ok {
				image = sub
			}
			var repo string // the ARN the execution role must pull from
			switch {
			case strings.Contains(image, "@sha256:"):
			case strings.HasPrefix(image, assets):
				assert.Regexp(t, `:[0-9a-f]{64}$`, image, "%s: asset image %s is not named by its content hash", td, image)
				assert.True(t, bootstrapTagsAreImmutable(t), "%s: the pinned CLI's bootstrap template no longer makes the container-asset repository's tags immutable", td)
				repo = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/cdk-hnb659fds-container-assets-%s-%s", w.region, w.account, w.account, w.region)
			default:
				ref, ok := imageRepository(w, td.Stack, raw)
				if !assert.True(t, ok, "%s: image %s is neither pinned by digest nor in a repository of this app whose tags cannot change, so a later pull (a scale-out) may run another image", td, image) {
					continue
				}
				assert.True(t, immutable[ref.String()], "%s: image %s is named by a tag that repository %s lets be pushed again", td, image, ref)
				repo = cfn.JSON(w.Props(ref)["RepositoryName"])
			}
			if !strings.Contains(image, ".dkr.ecr.") {
				assert.True(t, internet, "%s: image %s is outside ECR, but the container instances cannot reach the internet on 443", td, image)
				continue
			}
			if repo == "" || !strings.HasPrefix(repo, "arn:") || !assert.True(t, hasRole, "%s: no execution role to pull %s", td, image) {
				continue // the release repository's pull is TestServiceStack's
			}
			for _, action := range []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} {
				may, why := w.roleAllows(role, iampolicy.Request{Action: action, Resource: func(v any) bool {
					return slices.ContainsFunc(cfn.ListOr(v), func(e any) bool { s, ok := e.(string); return ok && iampolicy.Glob(s, repo) })
				}})
				assert.True(t, may, "%s: execution role %s may not %s on %s (%s)", td, role, action, repo, why)
			}
		}
	})
}

// imageRepository finds the ECR repository of this app an image names
// (through an import of the Registry stack's export).
func imageRepository(w world, stack string, image any) (cfn.Ref, bool) {
	var visit func(v any) (cfn.Ref, bool)
	visit = func(v any) (cfn.Ref, bool) {
		if r, ok := w.Resolve(stack, v); ok && w.Type(r) == "AWS::ECR::Repository" {
			return r, true
		}
		var children []any
		if m, ok := v.(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				children = append(children, m[k])
			}
		}
		children = append(children, cfn.List(v)...)
		for _, c := range children {
			if r, ok := visit(c); ok {
				return r, true
			}
		}
		return cfn.Ref{}, false
	}
	return visit(image)
}

// bootstrapTagsAreImmutable reads the pinned CLI's bootstrap template: the
// container-asset repository's tags must be immutable.
func bootstrapTagsAreImmutable(t checkT) bool {
	raw, err := os.ReadFile(filepath.Join("node_modules", "aws-cdk", "lib", "api", "bootstrap", "bootstrap-template.yaml"))
	require.NoError(t, err, "run npm ci")
	_, rest, found := strings.Cut(string(raw), "\n  ContainerAssetsRepository:\n")
	if !found {
		return false
	}
	if end := regexp.MustCompile(`\n  [A-Za-z]+:\n`).FindStringIndex(rest); end != nil {
		rest = rest[:end[0]]
	}
	return strings.Contains(rest, "ImageTagMutability: IMMUTABLE")
}

// firewallsLogAndProtect: a web ACL protects only what it is associated
// with; WAF writes logs only to a log group named aws-waf-logs-...; and the
// logs must not carry the credentials in authorization and cookie headers.
func firewallsLogAndProtect(t checkT, w world) int {
	return w.Each("AWS::WAFv2::WebACL", func(acl cfn.Ref, props, _ map[string]any) {
		assert.Equal(t, "REGIONAL", props["Scope"], "%s: an ALB takes a regional web ACL", acl)
		associated, logged := 0, 0
		w.Each("AWS::WAFv2::WebACLAssociation", func(a cfn.Ref, p, _ map[string]any) {
			if r, ok := w.Resolve(a.Stack, p["WebACLArn"]); ok && r == acl {
				associated++
				target, ok := w.Resolve(a.Stack, p["ResourceArn"])
				assert.True(t, ok && w.Resource(target)["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer", "%s: associated with %s, not this app's ALB", acl, cfn.JSON(p["ResourceArn"]))
			}
		})
		assert.Equal(t, 1, associated, "%s: associated with %d resources, want the ALB", acl, associated)
		w.Each("AWS::WAFv2::LoggingConfiguration", func(l cfn.Ref, p, _ map[string]any) {
			if r, ok := w.Resolve(l.Stack, p["ResourceArn"]); !ok || r != acl {
				return
			}
			logged++
			for _, d := range cfn.List(p["LogDestinationConfigs"]) {
				arn := cfn.Flatten(d)
				m := wafLogGroupArn.FindStringSubmatch(arn)
				if assert.NotNil(t, m, "%s: logs to %s, which is not a log group named aws-waf-logs-... (no ':*' suffix)", l, arn) {
					found := false
					w.Each("AWS::Logs::LogGroup", func(_ cfn.Ref, lp, _ map[string]any) {
						found = found || (lp["LogGroupName"] == m[1] && lp["RetentionInDays"] != nil)
					})
					assert.True(t, found, "%s: log group %s is not created by this app with a retention", l, m[1])
				}
			}
			redacted := cfn.JSON(p["RedactedFields"])
			for _, h := range []string{"authorization", "cookie"} {
				assert.Contains(t, strings.ToLower(redacted), `"name":"`+h+`"`, "%s: the %s header is not redacted", l, h)
			}
		})
		assert.Equal(t, 1, logged, "%s: %d logging configurations, want one", acl, logged)
	})
}

var (
	wafLogGroupArn = regexp.MustCompile(`:log-group:(aws-waf-logs-[A-Za-z0-9_./#-]+)$`)
	dockerSize     = regexp.MustCompile(`^(?i)([0-9]+)([kmg]?)i?b?$`)
)

// bufferBytes parses a Docker size such as 25m or 26214400b (binary units).
func bufferBytes(s string) int64 {
	m := dockerSize.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n << map[string]int{"": 0, "k": 10, "m": 20, "g": 30}[strings.ToLower(m[2])]
}

// lifecycleKeepsRunningImage: an expired image cannot be pulled, so a
// replacement task of the running service would fail. No rule may select
// the tag the service runs, and no rule may expire tagged images by count
// without a prefix that excludes it.
func lifecycleKeepsRunningImage(t checkT, w world) int {
	running := map[string]bool{}
	w.Each("AWS::ECS::TaskDefinition", func(_ cfn.Ref, props, _ map[string]any) {
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			image := cfn.JSON(cfn.Object(c)["Image"])
			if i := strings.LastIndex(image, ":"); strings.Contains(image, "dkr.ecr") && i > 0 {
				running[strings.Trim(image[i+1:], `"]}`)] = true
			}
		}
	})
	return w.Each("AWS::ECR::Repository", func(repo cfn.Ref, props, _ map[string]any) {
		lp, _ := props["LifecyclePolicy"].(map[string]any)
		var policy struct {
			Rules []struct {
				Priority  int `json:"rulePriority"`
				Selection struct {
					TagStatus   string   `json:"tagStatus"`
					Prefixes    []string `json:"tagPrefixList"`
					Patterns    []string `json:"tagPatternList"`
					CountType   string   `json:"countType"`
					StorageType string   `json:"storageClass"`
				} `json:"selection"`
			} `json:"rules"`
		}
		if text, ok := lp["LifecyclePolicyText"].(string); ok {
			require.NoError(t, json.Unmarshal([]byte(text), &policy), "%s: lifecycle policy", repo)
		}
		for _, r := range policy.Rules {
			sel := r.Selection
			switch sel.TagStatus {
			case "untagged":
				continue
			case "any":
				assert.Fail(t, "lifecycle rule selects every image", "%s: rule %d expires images whatever their tag, including the one a service runs", repo, r.Priority)
				continue
			}
			assert.True(t, len(sel.Prefixes) > 0 || !slices.Contains(sel.Patterns, "*"), "%s: rule %d selects every tagged image", repo, r.Priority)
			for tag := range running {
				// ECR selects an image only if it matches every listed
				// prefix or pattern.
				all := len(sel.Prefixes)+len(sel.Patterns) > 0
				for _, p := range sel.Prefixes {
					all = all && strings.HasPrefix(tag, p)
				}
				for _, p := range sel.Patterns {
					all = all && iampolicy.Glob(p, tag)
				}
				assert.False(t, all, "%s: rule %d may expire %s, the image a service runs", repo, r.Priority, tag)
			}
		}
	})
}

// serviceTrust lists the roles a service assumes, by what the role is
// attached to; sourceArn is the kind of ARN the service presents as
// aws:SourceArn when it assumes the role (REGION and ACCOUNT filled in).
var serviceTrust = []struct{ typ, prop, service, sourceArn string }{
	{"AWS::ECS::TaskDefinition", "ExecutionRoleArn", "ecs-tasks.amazonaws.com", "arn:aws:ecs:REGION:ACCOUNT:task/cluster/id"},
	{"AWS::ECS::TaskDefinition", "TaskRoleArn", "ecs-tasks.amazonaws.com", "arn:aws:ecs:REGION:ACCOUNT:task/cluster/id"},
	{"AWS::RDS::DBInstance", "MonitoringRoleArn", "monitoring.rds.amazonaws.com", "arn:aws:rds:REGION:ACCOUNT:db:name"},
	{"AWS::EC2::FlowLog", "DeliverLogsPermissionArn", "vpc-flow-logs.amazonaws.com", "arn:aws:ec2:REGION:ACCOUNT:vpc-flow-log/fl-id"},
	{"AWS::StepFunctions::StateMachine", "RoleArn", "states.amazonaws.com", "arn:aws:states:REGION:ACCOUNT:stateMachine:name"},
	{"AWS::IAM::InstanceProfile", "Roles", "ec2.amazonaws.com", "arn:aws:ec2:REGION:ACCOUNT:instance/i-id"},
}

// assumedBy is service assuming a role on behalf of a resource of this
// account and region, with the confused-deputy context it presents.
func (w world) assumedBy(service, sourceArn string) iampolicy.Request {
	arn := strings.NewReplacer("REGION", w.region, "ACCOUNT", w.account).Replace(sourceArn)
	return iampolicy.Request{Service: service, Action: "sts:AssumeRole", Resource: func(any) bool { return true },
		Context: map[string]string{"aws:SourceAccount": w.account, "aws:SourceArn": arn}}
}

func serviceRolesAreTrusted(t checkT, w world) int {
	n := 0
	for _, st := range serviceTrust {
		w.Each(st.typ, func(owner cfn.Ref, props, _ map[string]any) {
			for _, v := range cfn.ListOr(props[st.prop]) {
				role, ok := w.Resolve(owner.Stack, v)
				if !ok || w.Resource(role)["Type"] != "AWS::IAM::Role" {
					continue
				}
				n++
				ok, why := iampolicy.Evaluate(w.Props(role)["AssumeRolePolicyDocument"], w.assumedBy(st.service, st.sourceArn))
				assert.True(t, ok, "%s: role %s (its %s) does not trust %s (%s)", owner, role, st.prop, st.service, why)
			}
		})
	}
	return n
}

// placeholderValues are the presets' stand-ins for what a real deploy must
// provide.
var placeholderValues = regexp.MustCompile(strings.Join(config.PlaceholderAccounts, "|") + "|" + config.PlaceholderCertificateID +
	`|@(example\.(com|net|org)|[a-z0-9.-]+\.(example|test|invalid))\b`)

func noPlaceholdersInRealAccounts(t checkT, w world) int {
	if !w.cfg.RealAccount() {
		return 0 // never deployed: the placeholders are what make it synthesize
	}
	n := 0
	for _, stack := range sortedKeys(w.Templates) {
		n++
		raw := cfn.JSON(w.Templates[stack])
		assert.Empty(t, placeholderValues.FindAllString(raw, 3), "%s/%s (account %s) still holds placeholders", w.name, stack, w.account)
	}
	return n
}

// noEndpointPolicy are the interface endpoint services whose
// documentation describes no endpoint policy: EC2 refuses any policy but
// full access for such a service ("only supports the full-access endpoint
// policy"), so these endpoints keep it.
var noEndpointPolicy = map[string]string{
	"ecs-agent":     "the ECS agent's control channel; endpoint policies are documented for ecs, not ecs-agent",
	"ecs-telemetry": "the ECS agent's metrics channel; endpoint policies are documented for ecs, not ecs-telemetry",
	"ssmmessages":   "Session Manager's data channel; no endpoint policy documented",
	"ec2messages":   "the SSM agent's message channel; no endpoint policy documented",
}

// endpointsAreAPerimeter: where egress is closed to the endpoints, every
// endpoint has a policy (but those of noEndpointPolicy); no statement lets
// any principal in without this account or an AWS service acting for it,
// except reads of named AWS-owned S3 buckets; another account's
// credentials get nothing, and the platform's own calls still pass.
func endpointsAreAPerimeter(t checkT, w world) int {
	if !w.cfg.Network.InterfaceEndpoints {
		return 0
	}
	other := map[string]string{"aws:PrincipalAccount": "999999999999", "aws:PrincipalIsAWSService": "false"}
	own := map[string]string{"aws:PrincipalAccount": w.account, "aws:PrincipalIsAWSService": "false"}
	return w.Each("AWS::EC2::VPCEndpoint", func(ep cfn.Ref, props, _ map[string]any) {
		name := strings.ReplaceAll(cfn.Flatten(props["ServiceName"]), `{"Ref":"AWS::Region"}`, w.region)
		_, service, found := strings.Cut(name, "."+w.region+".")
		if !assert.True(t, found, "%s: service %s is not one of %s", ep, name, w.region) {
			return
		}
		doc := props["PolicyDocument"]
		if doc == nil {
			_, exempt := noEndpointPolicy[service]
			assert.True(t, exempt, "%s: the %s endpoint has no policy: any credentials reach %s through the VPC", ep, service, service)
			return
		}
		gateway := props["VpcEndpointType"] == "Gateway"
		for _, st := range cfn.List(cfn.Object(doc)["Statement"]) {
			s := cfn.Object(st)
			if s["Effect"] != "Allow" {
				continue
			}
			cond := cfn.JSON(s["Condition"])
			scoped := strings.Contains(cond, `"aws:PrincipalAccount":"`+w.account+`"`) || strings.Contains(cond, `"aws:PrincipalIsAWSService":"true"`)
			if gateway && !scoped {
				for _, r := range iampolicy.Strings(s["Resource"]) {
					assert.Regexp(t, `^arn:aws:s3:::[a-z0-9][a-z0-9.-]*[a-z0-9*]/\*$`, r, "%s: statement %v lets any principal reach %s", ep, s["Sid"], r)
					assert.NotEqual(t, "arn:aws:s3:::*/*", r)
				}
				continue
			}
			assert.True(t, scoped, "%s: statement %v lets any principal in without an account condition", ep, s["Sid"])
		}
		if gateway {
			layer := fmt.Sprintf("arn:aws:s3:::prod-%s-starport-layer-bucket/sha256/0", w.region)
			ok, why := iampolicy.Evaluate(doc, iampolicy.Request{Action: "s3:GetObject", Resource: globs(layer)})
			assert.True(t, ok, "%s: ECR's image layers cannot be read through the S3 endpoint (%s)", ep, why)
			ok, _ = iampolicy.Evaluate(doc, iampolicy.Request{Action: "s3:GetObject", Resource: globs("arn:aws:s3:::someone-elses-bucket/data"), Context: own})
			assert.False(t, ok, "%s: the S3 endpoint lets the VPC read any bucket", ep)
			for _, b := range w.cfg.Network.ApplicationBuckets {
				ok, why := iampolicy.Evaluate(doc, iampolicy.Request{Action: "s3:PutObject", Resource: globs("arn:aws:s3:::" + b + "/x"), Context: own})
				assert.True(t, ok, "%s: the application cannot reach its bucket %s (%s)", ep, b, why)
			}
			return
		}
		action := strings.SplitN(service, ".", 2)[0] + ":Describe"
		ok, why := iampolicy.Evaluate(doc, iampolicy.Request{Action: action, Context: own})
		assert.True(t, ok, "%s: this account's principals cannot call %s through the endpoint (%s)", ep, service, why)
		ok, _ = iampolicy.Evaluate(doc, iampolicy.Request{Action: action, Context: other})
		assert.False(t, ok, "%s: another account's credentials reach %s through the endpoint", ep, service)
	})
}

// globs covers a statement Resource value that matches arn.
func globs(arn string) func(v any) bool {
	return func(v any) bool {
		return slices.ContainsFunc(cfn.ListOr(v), func(e any) bool { s, ok := e.(string); return ok && iampolicy.Glob(s, arn) })
	}
}
