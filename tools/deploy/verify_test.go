package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/lib/config"
)

// liveEnv is one deployed environment as AWS's APIs describe it, served in
// the shapes of their responses: the query protocol's XML for
// CloudFormation, Elastic Load Balancing, RDS and ElastiCache; JSON 1.1 for
// ECS and Secrets Manager; RPC v2 CBOR for CloudWatch. The application
// answers behind the load balancer's URL.
type liveEnv struct {
	mu     sync.Mutex
	cfg    config.Config
	status map[string]string      // stack ID -> status
	drifts map[string][]fakeDrift // stack ID -> drifted resources
	polled map[string]int         // stack ID -> drift detection polls
	// undetectable is a stack whose drift detection fails for a resource
	undetectable string
	res          map[string][]fakeRes // stack ID -> resources
	outputs      map[string]map[string]string
	// the service
	desired, running int
	runningDef       string
	deployment       string // the latest deployment's status
	baking, lists    int    // it is IN_PROGRESS for the first baking lists
	images           map[string]string
	// the load balancer: the production rule's weights and each target
	// group's targets' states
	weights map[string]int
	targets map[string][]string
	// the data stores
	dbStatus    string
	dbMultiAZ   bool
	redisStatus string
	redisMulti  string
	stages      map[string]map[string][]string // secret ARN -> version -> stages
	// the alarms: state by name; the drill's action outcome and deliveries
	alarms      map[string]string
	drillAction string
	delivered   float64
	setStates   []string
	// the application behind the load balancer, and the days its
	// certificate has left
	health, probe, certificateDays int
	// scaling is how many DescribeServices answers show one task short
	scaling, described int
}

type fakeDrift struct{ logicalID, typ, status, path string }

type fakeRes struct{ logicalID, typ, physicalID string }

const (
	account           = "123456789012"
	blueTG            = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/1"
	greenTG           = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2"
	productionRuleArn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/1/2/3"
	deployed          = "arn:aws:ecs:eu-west-1:123456789012:task-definition/webapp-prod-service:7"
	hotswap           = "arn:aws:ecs:eu-west-1:123456789012:task-definition/webapp-prod-service:8"
	repoURL           = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp-prod-repository"
	appSecret         = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:webapp-prod-app-AbCdEf"
	topic             = "arn:aws:sns:eu-west-1:123456789012:webapp-prod-alarms"
)

// healthyProd is prod after a successful canary release of v1.2.0: the
// blue group serves, green is idle, so the production rule drifted.
func healthyProd() *liveEnv {
	var c config.Config
	c.AppName, c.Environment, c.Account, c.Region = "webapp", "prod", account, "eu-west-1"
	c.Service.ImageTag, c.Service.Rollout.Strategy = "v1.2.0", "CANARY"
	c.LoadBalancer.HealthCheckPath, c.LoadBalancer.Firewall.Enabled = "/health", true
	c.Database.MultiAZ, c.Cache.Replicas = true, 1
	e := &liveEnv{cfg: c, status: map[string]string{}, drifts: map[string][]fakeDrift{}, polled: map[string]int{}, outputs: map[string]map[string]string{
		"Cluster":  {"ClusterName": "webapp-prod"},
		"Registry": {"RepositoryUrl": repoURL},
	}, res: map[string][]fakeRes{
		"Service":      {{"Service", "AWS::ECS::Service", "arn:aws:ecs:eu-west-1:123456789012:service/webapp-prod/web"}, {"TaskDefinition", "AWS::ECS::TaskDefinition", deployed}},
		"LoadBalancer": {{"TargetGroup3D7CD9B8", "AWS::ElasticLoadBalancingV2::TargetGroup", blueTG}, {"GreenTargetGroupEEB2DF3E", "AWS::ElasticLoadBalancingV2::TargetGroup", greenTG}, {"ProductionRuleD96592E2", "AWS::ElasticLoadBalancingV2::ListenerRule", productionRuleArn}},
		"Database":     {{"DatabaseB269D8BB", "AWS::RDS::DBInstance", "webapp-prod-db"}, {"ApplicationRotation", "AWS::SecretsManager::RotationSchedule", appSecret}},
		"Cache":        {{"RedisFF642DF2", "AWS::ElastiCache::ReplicationGroup", "webapp-prod-redis"}},
		"Monitoring":   {{"CpuAlarm", "AWS::CloudWatch::Alarm", "webapp-prod-cpu"}},
	}, desired: 3, running: 3, runningDef: deployed, deployment: "SUCCESSFUL", images: map[string]string{deployed: repoURL + ":v1.2.0", hotswap: repoURL + ":v1.3.0-rc1"},
		weights: map[string]int{blueTG: 100, greenTG: 0}, targets: map[string][]string{blueTG: {"healthy", "healthy", "healthy"}},
		dbStatus: "available", dbMultiAZ: true, redisStatus: "available", redisMulti: "enabled",
		stages:      map[string]map[string][]string{appSecret: {"v2": {"AWSCURRENT", "AWSPENDING"}, "v1": {"AWSPREVIOUS"}}},
		alarms:      map[string]string{"webapp-prod-cpu": "OK", "webapp-prod-target-5xx": "OK"},
		drillAction: "Successfully executed action " + topic, delivered: 2, health: http.StatusOK, probe: http.StatusForbidden, certificateDays: 300,
	}
	e.res["Service"] = append(e.res["Service"], fakeRes{"Target5xxAlarm", "AWS::CloudWatch::Alarm", "webapp-prod-target-5xx"})
	for _, id := range config.StackIDs {
		e.status[id] = "UPDATE_COMPLETE"
	}
	e.drifts["LoadBalancer"] = []fakeDrift{{"ProductionRuleD96592E2", "AWS::ElasticLoadBalancingV2::ListenerRule", "MODIFIED", "/Actions/0/ForwardConfig/TargetGroups/0/Weight"}}
	return e
}

// verifyAgainst serves e and runs make verify's checks against it.
func verifyAgainst(t *testing.T, e *liveEnv, drill bool) report {
	t.Helper()
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if strings.Contains(r.URL.RawQuery, "verify=") {
			w.WriteHeader(e.probe)
			return
		}
		if r.URL.Path != e.cfg.LoadBalancer.HealthCheckPath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(e.health)
	}))
	// The listener's certificate is the application domain's, not the
	// load balancer's name (here 127.0.0.1).
	app.TLS = &tls.Config{Certificates: []tls.Certificate{certificate(t, "app.example.com", e.certificateDays)}}
	app.StartTLS()
	t.Cleanup(app.Close)
	e.outputs["LoadBalancer"] = map[string]string{"LoadBalancerUrl": app.URL}
	cfg := (&fakeAWS{}).config(t)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	cfg.BaseEndpoint = &srv.URL
	v := newVerifier(e.cfg, cfg)
	v.poll, v.patience, v.rollout, v.log = time.Millisecond, 50*time.Millisecond, 50*time.Millisecond, io.Discard
	r, err := v.Verify(context.Background(), drill)
	require.NoError(t, err)
	return r
}

// certificate is a self-signed certificate for name that expires in days.
func certificate(t *testing.T, name string, days int) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Duration(days) * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func detail(r report, name string) string {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Verdict + ": " + c.Detail
		}
	}
	return ""
}

// TestVerifyFindsWhatADeployCannotSee: one case per verdict. Each names
// the checks that must fail, and only those, so removing a check fails
// its case.
func TestVerifyFindsWhatADeployCannotSee(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(e *liveEnv)
		drill  bool
		failed []string
		says   string
	}{
		{"all healthy, with the drill", func(*liveEnv) {}, true, nil, "ECS shifts the production rule's weights in CANARY deployments"},
		{"the listener serves the application domain's certificate", func(*liveEnv) {}, false, nil, "(certificate for app.example.com, valid until"},
		{"service rolled back", func(e *liveEnv) { e.deployment = "ROLLBACK_SUCCESSFUL" }, false, []string{"deployment"}, "the latest deployment is ROLLBACK_SUCCESSFUL"},
		{"a canary still baking when CloudFormation is done", func(e *liveEnv) { e.baking = 3 }, true, nil, "the latest deployment is SUCCESSFUL"},
		{"a canary that rolls back at the end of its bake", func(e *liveEnv) { e.baking, e.deployment = 3, "ROLLBACK_SUCCESSFUL" }, false, []string{"deployment"}, "the latest deployment is ROLLBACK_SUCCESSFUL"},
		{"a target unhealthy", func(e *liveEnv) { e.targets[blueTG][1] = "unhealthy" }, false, []string{"targets"}, "TargetGroup3D7CD9B8 takes traffic (weight 100) with unhealthy targets"},
		{"weights pointing at an empty group", func(e *liveEnv) { e.weights[blueTG], e.weights[greenTG] = 0, 100 }, false, []string{"targets"},
			"GreenTargetGroupEEB2DF3E takes traffic (weight 100) but has no healthy target"},
		{"a stack rolled back", func(e *liveEnv) { e.status["Database"] = "UPDATE_ROLLBACK_COMPLETE" }, false, []string{"stacks"}, "webapp-prod-database is UPDATE_ROLLBACK_COMPLETE"},
		{"an alarm in ALARM", func(e *liveEnv) { e.alarms["webapp-prod-cpu"] = "ALARM" }, false, []string{"alarms"}, "in ALARM: webapp-prod-cpu"},
		{"the drill not delivered", func(e *liveEnv) {
			e.drillAction = "Failed to execute action " + topic + `. Received error: "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."`
		}, true, []string{"drill"}, "CloudWatch could not publish"},
		{"the drill reaches no subscriber", func(e *liveEnv) { e.delivered = 0 }, true, []string{"drill"}, "SNS delivered it to no subscriber"},
		{"a rotation that did not finish", func(e *liveEnv) {
			e.stages[appSecret] = map[string][]string{"v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}}
		}, false, []string{"rotation"},
			"the last rotation did not finish (AWSPENDING on version v3)"},
		{"the firewall lets an attack through", func(e *liveEnv) { e.probe = http.StatusOK }, false, []string{"firewall"}, "AWSManagedRulesCommonRuleSet should have blocked it"},
		{"the health path fails", func(e *liveEnv) { e.health = http.StatusBadGateway }, false, []string{"https"}, "answered 502, want 2xx"},
		{"the certificate expires in 3 days", func(e *liveEnv) { e.certificateDays = 3 }, false, []string{"https"}, "the listener's certificate for app.example.com expires"},
		{"auto scaling adds a task", func(e *liveEnv) { e.scaling = 2 }, false, nil, "3 of 3 tasks running"},
		{"a task that never starts", func(e *liveEnv) { e.scaling = 1000 }, false, []string{"tasks"}, "2 of 3 tasks running"},
		{"the database runs single-AZ", func(e *liveEnv) { e.dbMultiAZ = false }, false, []string{"database"}, "Multi-AZ false, but Database.MultiAZ commits true"},
		{"an image other than the committed one", func(e *liveEnv) { e.images[deployed] = repoURL + ":v1.1.0" }, false, []string{"image"}, "but environments/prod.json commits " + repoURL + ":v1.2.0"},
		{"a hotswap in dev", func(e *liveEnv) {
			e.cfg.Environment, e.cfg.Service.Rollout.Strategy, e.cfg.LoadBalancer.Firewall.Enabled = "dev", "ROLLING", false
			e.runningDef = hotswap
			e.drifts["LoadBalancer"] = nil
			e.drifts["Service"] = []fakeDrift{{"Service", "AWS::ECS::Service", "MODIFIED", "/TaskDefinition"}}
		}, false, []string{"drift", "image"}, "a make deploy-image hotswap drifts dev's Service until `npx cdk deploy Service --exclusively --force -c env=dev`"},
		{"a scale-out registers a target", func(e *liveEnv) { e.targets[blueTG] = append(e.targets[blueTG], "initial") }, false, nil, "TargetGroup3D7CD9B8 takes traffic (weight 100): 3 healthy"},
		{"drift detection fails for a resource", func(e *liveEnv) { e.undetectable = "LoadBalancer" }, false, []string{"drift"}, "give the role read access to them"},
		{"the production rule redirects", func(e *liveEnv) { e.drifts["LoadBalancer"][0].path = "/Actions/0/Type" }, false, []string{"drift"}, "MODIFIED /Actions/0/Type"},
		{"an alarm the stacks name is gone", func(e *liveEnv) { delete(e.alarms, "webapp-prod-cpu") }, false, []string{"alarms"}, "the stacks name alarms that do not exist: webapp-prod-cpu"},
		{"the production rule changed beyond its weights", func(e *liveEnv) {
			e.drifts["LoadBalancer"][0].path = "/Priority"
		}, false, []string{"drift"}, "LoadBalancer/ProductionRuleD96592E2 (AWS::ElasticLoadBalancingV2::ListenerRule) MODIFIED /Priority"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := healthyProd()
			tt.change(e)
			r := verifyAgainst(t, e, tt.drill)
			var b bytes.Buffer
			r.Table(&b)
			assert.Equal(t, tt.failed, r.Failed(), "%s", b.String())
			assert.Contains(t, b.String(), tt.says)
			if tt.drill {
				assert.Equal(t, []string{"webapp-prod-cpu ALARM", "webapp-prod-cpu OK"}, e.setStates, "the drill sets the alarm no deployment watches, and sets it back")
			} else {
				assert.Empty(t, e.setStates, "without the drill nothing changes")
			}
		})
	}
}

func TestTheDrillWaitsForADeployment(t *testing.T) {
	e := healthyProd()
	e.deployment = "IN_PROGRESS"
	r := verifyAgainst(t, e, true)
	assert.Equal(t, []string{"deployment", "drill"}, r.Failed())
	assert.Contains(t, detail(r, "deployment"), "the latest deployment is still IN_PROGRESS after 50ms")
	assert.Contains(t, detail(r, "drill"), "a deployment is in progress")
	assert.Empty(t, e.setStates, "no alarm is touched while ECS deploys")
}

func TestReportForTheJobSummary(t *testing.T) {
	r := report{Env: "prod", Checks: []check{{"stacks", pass, "all 10"}, {"targets", fail, "a | b"}}}
	var b bytes.Buffer
	r.Markdown(&b)
	assert.Equal(t, "### make verify ENV=prod: **NOT VERIFIED**: targets failed\n\n| check | verdict | detail |\n|---|---|---|\n| stacks | ok | all 10 |\n| targets | FAIL | a \\| b |\n", b.String())
}

func (e *liveEnv) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/"):
		e.cloudWatch(w, strings.TrimPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/operation/"), body)
	case r.Header.Get("X-Amz-Target") != "":
		e.jsonCall(w, r.Header.Get("X-Amz-Target"), body)
	default:
		form, _ := url.ParseQuery(string(body))
		e.queryCall(w, form)
	}
}

func (e *liveEnv) stackID(name string) string {
	for _, id := range config.StackIDs {
		if e.cfg.StackName(id) == name {
			return id
		}
	}
	return ""
}

const (
	cfnNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
	elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

func (e *liveEnv) queryCall(w http.ResponseWriter, form url.Values) {
	action, id := form.Get("Action"), e.stackID(form.Get("StackName"))
	switch action {
	case "DescribeStacks":
		describeStacksResult(w, account, form.Get("StackName"), fakeStack{status: e.status[id], outputs: e.outputs[id]})
	case "ListStackResources":
		var items strings.Builder
		for _, res := range e.res[id] {
			fmt.Fprintf(&items, "<member><LogicalResourceId>%s</LogicalResourceId><PhysicalResourceId>%s</PhysicalResourceId><ResourceType>%s</ResourceType>"+
				"<ResourceStatus>UPDATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-12-01T10:00:00Z</LastUpdatedTimestamp></member>", res.logicalID, res.physicalID, res.typ)
		}
		queryResult(w, cfnNS, action, "<StackResourceSummaries>"+items.String()+"</StackResourceSummaries>")
	case "DetectStackDrift":
		queryResult(w, cfnNS, action, "<StackDriftDetectionId>detection-"+id+"</StackDriftDetectionId>")
	case "DescribeStackDriftDetectionStatus":
		// Each detection runs for one poll first.
		stack := strings.TrimPrefix(form.Get("StackDriftDetectionId"), "detection-")
		status, detection := "IN_SYNC", "DETECTION_COMPLETE"
		if len(e.drifts[stack]) > 0 {
			status = "DRIFTED"
		}
		if e.polled[stack]++; e.polled[stack] == 1 {
			detection = "DETECTION_IN_PROGRESS"
		} else if stack == e.undetectable {
			detection = "DETECTION_FAILED"
		}
		queryResult(w, cfnNS, action, fmt.Sprintf("<StackId>arn:aws:cloudformation:eu-west-1:%s:stack/%s/1</StackId><StackDriftDetectionId>%s</StackDriftDetectionId>"+
			"<StackDriftStatus>%s</StackDriftStatus><DetectionStatus>%s</DetectionStatus><DetectionStatusReason>Failed to detect drift on resource [WebAcl]: not authorized</DetectionStatusReason>"+
			"<DriftedStackResourceCount>%d</DriftedStackResourceCount><Timestamp>2026-12-02T10:00:00Z</Timestamp>",
			account, e.cfg.StackName(stack), form.Get("StackDriftDetectionId"), status, detection, len(e.drifts[stack])))
	case "DescribeStackResourceDrifts":
		var items strings.Builder
		for _, d := range e.drifts[id] {
			fmt.Fprintf(&items, "<member><StackId>arn:aws:cloudformation:eu-west-1:%s:stack/x/1</StackId><LogicalResourceId>%s</LogicalResourceId><ResourceType>%s</ResourceType>"+
				"<StackResourceDriftStatus>%s</StackResourceDriftStatus><Timestamp>2026-12-02T10:00:00Z</Timestamp><PropertyDifferences><member><PropertyPath>%s</PropertyPath>"+
				"<ExpectedValue>100</ExpectedValue><ActualValue>0</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member></PropertyDifferences></member>", account, d.logicalID, d.typ, d.status, d.path)
		}
		queryResult(w, cfnNS, action, "<StackResourceDrifts>"+items.String()+"</StackResourceDrifts>")
	case "DescribeRules":
		var groups strings.Builder
		for _, tg := range []string{blueTG, greenTG} {
			fmt.Fprintf(&groups, "<member><TargetGroupArn>%s</TargetGroupArn><Weight>%d</Weight></member>", tg, e.weights[tg])
		}
		queryResult(w, elbNS, action, "<Rules><member><RuleArn>"+form.Get("RuleArns.member.1")+"</RuleArn><Priority>1</Priority><Actions><member><Type>forward</Type><Order>1</Order>"+
			"<ForwardConfig><TargetGroups>"+groups.String()+"</TargetGroups></ForwardConfig></member></Actions></member></Rules>")
	case "DescribeTargetHealth":
		var items strings.Builder
		for i, state := range e.targets[form.Get("TargetGroupArn")] {
			reason := ""
			if state != "healthy" {
				reason = "<Reason>Target.FailedHealthChecks</Reason>"
			}
			fmt.Fprintf(&items, "<member><Target><Id>i-0%d</Id><Port>3276%d</Port></Target><TargetHealth><State>%s</State>%s</TargetHealth></member>", i, i, state, reason)
		}
		queryResult(w, elbNS, action, "<TargetHealthDescriptions>"+items.String()+"</TargetHealthDescriptions>")
	case "DescribeDBInstances":
		queryResult(w, "http://rds.amazonaws.com/doc/2014-10-31/", action, fmt.Sprintf("<DBInstances><DBInstance><DBInstanceIdentifier>%s</DBInstanceIdentifier>"+
			"<DBInstanceStatus>%s</DBInstanceStatus><MultiAZ>%t</MultiAZ><Engine>postgres</Engine></DBInstance></DBInstances>", form.Get("DBInstanceIdentifier"), e.dbStatus, e.dbMultiAZ))
	case "DescribeReplicationGroups":
		queryResult(w, "http://elasticache.amazonaws.com/doc/2015-02-02/", action, fmt.Sprintf("<ReplicationGroups><ReplicationGroup><ReplicationGroupId>%s</ReplicationGroupId>"+
			"<Status>%s</Status><MultiAZ>%s</MultiAZ><AutomaticFailover>%s</AutomaticFailover></ReplicationGroup></ReplicationGroups>", form.Get("ReplicationGroupId"), e.redisStatus, e.redisMulti, e.redisMulti))
	default:
		http.Error(w, "unexpected call "+action, http.StatusNotImplemented)
	}
}

func (e *liveEnv) latestStatus() string {
	if e.lists <= e.baking {
		return "IN_PROGRESS"
	}
	return e.deployment
}

func (e *liveEnv) jsonCall(w http.ResponseWriter, target string, body []byte) {
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var out any
	switch target {
	case "AmazonEC2ContainerServiceV20141113.DescribeServices":
		running := e.running
		if e.described++; e.described <= e.scaling {
			running--
		}
		out = map[string]any{"failures": []any{}, "services": []any{map[string]any{
			"serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/webapp-prod/web", "serviceName": "web", "status": "ACTIVE",
			"desiredCount": e.desired, "runningCount": running, "taskDefinition": e.runningDef,
			"deploymentConfiguration": map[string]any{"alarms": map[string]any{"alarmNames": []string{"webapp-prod-target-5xx"}, "enable": true, "rollback": true}},
		}}}
	case "AmazonEC2ContainerServiceV20141113.ListServiceDeployments":
		// Two pages, the newest deployment on the second; it is
		// IN_PROGRESS for the first baking lists.
		if in["nextToken"] == nil {
			e.lists++
			out = map[string]any{"nextToken": "page-2", "serviceDeployments": []any{
				map[string]any{"serviceDeploymentArn": "arn:aws:ecs:eu-west-1:123456789012:service-deployment/webapp-prod/web/old", "status": "SUCCESSFUL", "createdAt": 1764500000},
			}}
			break
		}
		out = map[string]any{"serviceDeployments": []any{
			map[string]any{"serviceDeploymentArn": "arn:aws:ecs:eu-west-1:123456789012:service-deployment/webapp-prod/web/new", "status": e.latestStatus(), "createdAt": 1764600000,
				"statusReason": "alarm webapp-prod-target-5xx"},
		}}
	case "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition":
		def, _ := in["taskDefinition"].(string)
		out = map[string]any{"taskDefinition": map[string]any{"taskDefinitionArn": def, "containerDefinitions": []any{map[string]any{"name": "App", "image": e.images[def]}}}}
	case "secretsmanager.DescribeSecret":
		id, _ := in["SecretId"].(string)
		out = map[string]any{"ARN": id, "Name": "webapp-prod-app", "RotationEnabled": true, "LastRotatedDate": 1764400000, "VersionIdsToStages": e.stages[id]}
	default:
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (e *liveEnv) cloudWatch(w http.ResponseWriter, operation string, body []byte) {
	in := cbor.Map{}
	if len(body) > 0 {
		if v, err := cbor.Decode(body); err == nil {
			in, _ = v.(cbor.Map)
		}
	}
	str := func(k string) string { s, _ := in[k].(cbor.String); return string(s) }
	now := cbor.Tag{ID: 1, Value: cbor.Float64(float64(time.Now().Unix()))}
	var out cbor.Map
	switch operation {
	case "DescribeAlarms":
		// One alarm per page, as NextToken counts them.
		names, _ := in["AlarmNames"].(cbor.List)
		at := 0
		fmt.Sscan(str("NextToken"), &at)
		if at < len(names) {
			names = names[at : at+1]
		}
		var alarms cbor.List
		for _, n := range names {
			name, _ := n.(cbor.String)
			if state, ok := e.alarms[string(name)]; ok {
				alarms = append(alarms, cbor.Map{"AlarmName": name, "StateValue": cbor.String(state), "StateReason": cbor.String("Threshold Crossed"),
					"AlarmActions": cbor.List{cbor.String(topic)}})
			}
		}
		out = cbor.Map{"MetricAlarms": alarms}
		if all, _ := in["AlarmNames"].(cbor.List); at+1 < len(all) {
			out["NextToken"] = cbor.String(fmt.Sprint(at + 1))
		}
	case "SetAlarmState":
		e.setStates = append(e.setStates, str("AlarmName")+" "+str("StateValue"))
		out = cbor.Map{}
	case "DescribeAlarmHistory":
		var items cbor.List
		if slices.Contains(e.setStates, str("AlarmName")+" ALARM") {
			items = cbor.List{cbor.Map{"AlarmName": cbor.String(str("AlarmName")), "HistoryItemType": cbor.String("Action"), "HistorySummary": cbor.String(e.drillAction), "Timestamp": now}}
		}
		out = cbor.Map{"AlarmHistoryItems": items}
	case "GetMetricStatistics":
		var points cbor.List
		dims, _ := in["Dimensions"].(cbor.List)
		onTopic := false
		for _, d := range dims {
			if m, ok := d.(cbor.Map); ok && m["Name"] == cbor.String("TopicName") && m["Value"] == cbor.String(topic[strings.LastIndexByte(topic, ':')+1:]) {
				onTopic = true
			}
		}
		if onTopic && str("MetricName") == "NumberOfNotificationsDelivered" && e.delivered > 0 {
			points = cbor.List{cbor.Map{"Sum": cbor.Float64(e.delivered), "Timestamp": now}}
		}
		out = cbor.Map{"Label": cbor.String(str("MetricName")), "Datapoints": points}
	default:
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(out))
}
