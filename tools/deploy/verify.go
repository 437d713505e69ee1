package main

// make verify ENV=...: after a deploy, read the live environment and say
// whether it runs what was committed, and works. Every check reads; only
// the alarm drill (-drill alarms) changes anything: one alarm's state, for
// a minute, and back.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/platform/lib/config"
)

// Verdicts of a check.
const (
	pass = "ok"
	fail = "FAIL"
	// skipped: the check does not apply to this environment, or could not
	// run because an earlier check failed.
	skipped = "skip"
)

// check is one line of the report.
type check struct {
	Name, Verdict, Detail string
}

// report is what make verify prints.
type report struct {
	Env    string
	Checks []check
}

func (r *report) add(name, verdict, format string, args ...any) {
	r.Checks = append(r.Checks, check{Name: name, Verdict: verdict, Detail: fmt.Sprintf(format, args...)})
}

// Failed names the checks that failed.
func (r report) Failed() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Verdict == fail {
			out = append(out, c.Name)
		}
	}
	return out
}

// Table is the report for a terminal.
func (r report) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tVERDICT\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Verdict, c.Detail)
	}
	tw.Flush()
	if failed := r.Failed(); len(failed) > 0 {
		fmt.Fprintf(w, "\n%s: NOT VERIFIED (%s failed); docs/operations.md#verify says what to do for each\n", r.Env, strings.Join(failed, ", "))
	} else {
		fmt.Fprintf(w, "\n%s: verified\n", r.Env)
	}
}

// Markdown is the report for a GitHub job summary.
func (r report) Markdown(w io.Writer) {
	verdict := "verified"
	if failed := r.Failed(); len(failed) > 0 {
		verdict = "**NOT VERIFIED**: " + strings.Join(failed, ", ") + " failed"
	}
	fmt.Fprintf(w, "### make verify ENV=%s: %s\n\n| check | verdict | detail |\n|---|---|---|\n", r.Env, verdict)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.Name, c.Verdict, strings.ReplaceAll(c.Detail, "|", "\\|"))
	}
}

// verifier reads one environment through the AWS SDK.
type verifier struct {
	cfg   config.Config
	cfn   *cloudformation.Client
	ecs   *ecs.Client
	elb   *elbv2.Client
	rds   *rds.Client
	cache *elasticache.Client
	sm    *secretsmanager.Client
	cw    *cloudwatch.Client
	http  *http.Client
	// poll is the pause between two reads of something that takes time
	// (drift detection, the drill's delivery); patience how long the
	// drill waits for it.
	poll, patience time.Duration
	// rollout is how long it waits for the service's deployment to end.
	rollout time.Duration
	now     func() time.Time
	// log says what it waits for.
	log io.Writer
}

func newVerifier(cfg config.Config, aws aws.Config) *verifier {
	return &verifier{
		cfg: cfg, cfn: cloudformation.NewFromConfig(aws), ecs: ecs.NewFromConfig(aws), elb: elbv2.NewFromConfig(aws),
		rds: rds.NewFromConfig(aws), cache: elasticache.NewFromConfig(aws), sm: secretsmanager.NewFromConfig(aws), cw: cloudwatch.NewFromConfig(aws),
		http: loadBalancerClient(), poll: 5 * time.Second, patience: 10 * time.Minute, rollout: 30 * time.Minute, now: time.Now, log: os.Stderr,
	}
}

// loadBalancerClient requests the load balancer by its own DNS name, which
// the listener's certificate (issued for the application's domain, never
// for the ALB's name) does not cover: it checks reachability, not the
// name; endpoint checks the certificate's validity period itself.
func loadBalancerClient() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec // see above
	}}
}

// resource is one resource of a live stack.
type resource struct {
	stack, logicalID, typ, physicalID string
}

// live is what the checks share: each stack's outputs and resources.
type live struct {
	outputs   map[string]map[string]string // stack ID -> output key -> value
	resources []resource
	service   *ecstypes.Service
	latest    *ecstypes.ServiceDeploymentBrief
}

func (l live) of(stack, typ string) []resource {
	var out []resource
	for _, r := range l.resources {
		if r.stack == stack && r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

// Verify runs every check; drill adds the alarm drill. Only failing to
// read the stacks at all is an error: each other problem is a failed check.
func (v *verifier) Verify(ctx context.Context, drill bool) (report, error) {
	r := report{Env: v.cfg.Environment}
	l, err := v.stacks(ctx, &r)
	if err != nil {
		return r, err
	}
	v.drift(ctx, &r, l)
	v.service(ctx, &r, &l)
	v.traffic(ctx, &r, l)
	v.endpoint(ctx, &r, l)
	v.data(ctx, &r, l)
	names := v.alarms(ctx, &r, l)
	if drill {
		v.drill(ctx, &r, l, names)
	}
	return r, nil
}

// Drift runs the drift check alone, for the scheduled drift workflow.
func (v *verifier) Drift(ctx context.Context) (report, error) {
	r := report{Env: v.cfg.Environment}
	l, err := v.stacks(ctx, &r)
	if err == nil {
		v.drift(ctx, &r, l)
	}
	return r, err
}

// stacks checks that every stack is deployed and settled, and reads its
// outputs and resources.
func (v *verifier) stacks(ctx context.Context, r *report) (live, error) {
	l := live{outputs: map[string]map[string]string{}}
	var bad []string
	for _, id := range config.StackIDs {
		name := v.cfg.StackName(id)
		out, err := v.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				bad = append(bad, name+" does not exist")
				continue
			}
			return l, fmt.Errorf("reading stack %s: %w", name, err)
		}
		if len(out.Stacks) == 0 {
			bad = append(bad, name+" does not exist")
			continue
		}
		s := out.Stacks[0]
		st := string(s.StackStatus)
		if !strings.HasSuffix(st, "_COMPLETE") || strings.Contains(st, "ROLLBACK") || strings.HasPrefix(st, "DELETE") {
			bad = append(bad, name+" is "+st)
		}
		l.outputs[id] = map[string]string{}
		for _, o := range s.Outputs {
			l.outputs[id][aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
		pages := cloudformation.NewListStackResourcesPaginator(v.cfn, &cloudformation.ListStackResourcesInput{StackName: aws.String(name)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return l, fmt.Errorf("listing the resources of %s: %w", name, err)
			}
			for _, s := range page.StackResourceSummaries {
				l.resources = append(l.resources, resource{stack: id, logicalID: aws.ToString(s.LogicalResourceId), typ: aws.ToString(s.ResourceType), physicalID: aws.ToString(s.PhysicalResourceId)})
			}
		}
	}
	if len(bad) > 0 {
		r.add("stacks", fail, "%s: a deploy that rolled back left the previous version running; `aws cloudformation describe-stack-events --stack-name NAME` says why", strings.Join(bad, "; "))
	} else {
		r.add("stacks", pass, "all %d stacks are in a *_COMPLETE state that is not a rollback", len(config.StackIDs))
	}
	return l, nil
}

// expectedDrift says why a drifted resource is expected, or "".
// Under ECS-native blue/green, canary and linear deployments ECS itself
// rewrites the weights of the production listener rule's forward action
// (ECS Developer Guide, "ECS blue/green deployments": ECS "shifts traffic"
// by modifying the listener rule); CloudFormation only knows the weights
// in the template. Any other difference on that rule is not expected.
func (v *verifier) expectedDrift(d cfntypes.StackResourceDrift) string {
	if v.cfg.Service.Rollout.Strategy == "ROLLING" || aws.ToString(d.ResourceType) != "AWS::ElasticLoadBalancingV2::ListenerRule" ||
		!strings.HasPrefix(aws.ToString(d.LogicalResourceId), "ProductionRule") || d.StackResourceDriftStatus != cfntypes.StackResourceDriftStatusModified {
		return ""
	}
	for _, p := range d.PropertyDifferences {
		if !weightPath.MatchString(aws.ToString(p.PropertyPath)) {
			return ""
		}
	}
	return "ECS shifts the production rule's weights in " + v.cfg.Service.Rollout.Strategy + " deployments"
}

// weightPath is a property of the forward action that ECS rewrites when it
// shifts traffic: the weighted target groups (it replaces the single
// TargetGroupArn by a ForwardConfig). A changed action type, redirect or
// fixed response is not one of them.
var weightPath = regexp.MustCompile(`^/Actions/\d+/(TargetGroupArn|ForwardConfig(/TargetGroups(/\d+(/Weight|/TargetGroupArn)?)?|/TargetGroupStickinessConfig(/Enabled|/DurationSeconds)?)?)$`)

// drift runs CloudFormation drift detection on every stack, side by side.
func (v *verifier) drift(ctx context.Context, r *report, l live) {
	ids := map[string]string{}
	var errs []string
	for _, id := range config.StackIDs {
		if _, ok := l.outputs[id]; !ok {
			continue
		}
		out, err := v.cfn.DetectStackDrift(ctx, &cloudformation.DetectStackDriftInput{StackName: aws.String(v.cfg.StackName(id))})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		ids[id] = aws.ToString(out.StackDriftDetectionId)
	}
	var drifted, expected []string
	for _, id := range config.StackIDs {
		detection, ok := ids[id]
		if !ok {
			continue
		}
		status, err := v.detection(ctx, detection)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", id, err))
			continue
		}
		if status != cfntypes.StackDriftStatusDrifted {
			continue
		}
		pages := cloudformation.NewDescribeStackResourceDriftsPaginator(v.cfn, &cloudformation.DescribeStackResourceDriftsInput{
			StackName:                       aws.String(v.cfg.StackName(id)),
			StackResourceDriftStatusFilters: []cfntypes.StackResourceDriftStatus{cfntypes.StackResourceDriftStatusModified, cfntypes.StackResourceDriftStatusDeleted},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", id, err))
				break
			}
			for _, d := range page.StackResourceDrifts {
				what := fmt.Sprintf("%s/%s (%s) %s", id, aws.ToString(d.LogicalResourceId), aws.ToString(d.ResourceType), d.StackResourceDriftStatus)
				var paths []string
				for _, p := range d.PropertyDifferences {
					paths = append(paths, aws.ToString(p.PropertyPath))
				}
				if len(paths) > 0 {
					what += " " + strings.Join(paths, ", ")
				}
				if why := v.expectedDrift(d); why != "" {
					expected = append(expected, what+": expected, "+why)
					continue
				}
				drifted = append(drifted, what)
			}
		}
	}
	switch {
	case len(errs) > 0:
		r.add("drift", fail, "drift detection did not finish: %s", strings.Join(errs, "; "))
	case len(drifted) > 0:
		r.add("drift", fail, "changed outside CloudFormation: %s; a make deploy-image hotswap drifts dev's Service until `npx cdk deploy Service --exclusively --force -c env=%s` (or a deploy that changes its template) puts the committed state back; "+
			"anything else: find who changed it (CloudTrail), then commit the change or force a deploy of its stack to undo it", strings.Join(drifted, "; "), v.cfg.Environment)
	case len(expected) > 0:
		r.add("drift", pass, "no unexpected drift; %s", strings.Join(expected, "; "))
	default:
		r.add("drift", pass, "no resource drifted")
	}
}

// detection waits for one drift detection to end.
func (v *verifier) detection(ctx context.Context, id string) (cfntypes.StackDriftStatus, error) {
	for deadline := v.now().Add(2 * v.patience); ; {
		out, err := v.cfn.DescribeStackDriftDetectionStatus(ctx, &cloudformation.DescribeStackDriftDetectionStatusInput{StackDriftDetectionId: aws.String(id)})
		if err != nil {
			return "", err
		}
		switch out.DetectionStatus {
		case cfntypes.StackDriftDetectionStatusDetectionComplete:
			return out.StackDriftStatus, nil
		case cfntypes.StackDriftDetectionStatusDetectionFailed:
			// It failed for at least one resource (DescribeStackDriftDetectionStatus):
			// usually a read permission the credentials lack, so that
			// resource is unchecked.
			return "", fmt.Errorf("detection failed for some resources (%s): give the role read access to them", aws.ToString(out.DetectionStatusReason))
		}
		if v.now().After(deadline) {
			return "", fmt.Errorf("detection still running after %s", 2*v.patience)
		}
		if err := v.sleep(ctx); err != nil {
			return "", err
		}
	}
}

func (v *verifier) sleep(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(v.poll):
		return nil
	}
}

// service checks the ECS service: its latest deployment succeeded, it runs
// as many tasks as it wants, and it runs the task definition and image
// that were deployed.
func (v *verifier) service(ctx context.Context, r *report, l *live) {
	services, defs := l.of("Service", "AWS::ECS::Service"), l.of("Service", "AWS::ECS::TaskDefinition")
	cluster := l.outputs["Cluster"]["ClusterName"]
	if len(services) != 1 || len(defs) != 1 || cluster == "" {
		serviceFailed(r, "the Service stack has no service or task definition, or the Cluster stack no ClusterName output: deploy the environment first")
		return
	}
	// A canary or linear rollout bakes for minutes after CloudFormation
	// is done (whether CloudFormation waits for the bake is unverified):
	// wait for the latest deployment to end before judging the service.
	latest, err := v.latestDeployment(ctx, cluster, services[0].physicalID)
	for deadline := v.now().Add(v.rollout); err == nil && latest != nil && inProgress(latest.Status) && v.now().Before(deadline); {
		fmt.Fprintf(v.log, ">> waiting for the service's deployment to end (%s)\n", latest.Status)
		if err = v.sleep(ctx); err == nil {
			latest, err = v.latestDeployment(ctx, cluster, services[0].physicalID)
		}
	}
	s, derr := v.describeService(ctx, cluster, services[0].physicalID)
	if derr != nil {
		serviceFailed(r, "cannot describe service %s in %s: %v", services[0].physicalID, cluster, derr)
		return
	}
	// Auto scaling may be adding or removing tasks: look again for a while.
	for deadline := v.now().Add(v.patience); s.RunningCount != s.DesiredCount && v.now().Before(deadline); {
		if v.sleep(ctx) != nil {
			break
		}
		again, err := v.describeService(ctx, cluster, services[0].physicalID)
		if err != nil {
			break
		}
		s = again
	}
	l.service = &s
	switch {
	case err != nil:
		r.add("deployment", fail, "cannot list the service's deployments: %v", err)
	case latest == nil:
		r.add("deployment", fail, "the service has no deployment")
	default:
		l.latest = latest
		switch st := latest.Status; st {
		case ecstypes.ServiceDeploymentStatusSuccessful:
			r.add("deployment", pass, "the latest deployment is SUCCESSFUL")
		case ecstypes.ServiceDeploymentStatusPending, ecstypes.ServiceDeploymentStatusInProgress:
			r.add("deployment", fail, "the latest deployment is still %s after %s: run make verify ENV=%s again when it ends", st, v.rollout, v.cfg.Environment)
		default:
			r.add("deployment", fail, "the latest deployment is %s (%s): ECS rolled back or stopped it, so the service does not run what was deployed; "+
				"`aws ecs describe-service-deployments --service-deployment-arns %s` says why (circuit breaker or a deployment alarm); fix the release, then deploy again",
				st, aws.ToString(latest.StatusReason), aws.ToString(latest.ServiceDeploymentArn))
		}
	}
	if s.RunningCount == s.DesiredCount && s.DesiredCount > 0 {
		r.add("tasks", pass, "%d of %d tasks running", s.RunningCount, s.DesiredCount)
	} else {
		r.add("tasks", fail, "%d of %d tasks running: `aws ecs describe-services --cluster %s --services %s` lists the service's events (placement, pulls, health checks)",
			s.RunningCount, s.DesiredCount, cluster, aws.ToString(s.ServiceName))
	}
	running := aws.ToString(s.TaskDefinition)
	if running != defs[0].physicalID {
		r.add("image", fail, "the service runs %s, but the Service stack deployed %s: it was changed outside CloudFormation "+
			"(a make deploy-image hotswap in dev, or ECS rolled back); `npx cdk deploy Service --exclusively --force -c env=%s` puts the committed revision back "+
			"(make deploy skips a stack whose template did not change)", revision(running), revision(defs[0].physicalID), v.cfg.Environment)
		return
	}
	td, err := v.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(running)})
	if err != nil {
		r.add("image", fail, "cannot describe %s: %v", revision(running), err)
		return
	}
	var image string
	for _, c := range td.TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) == "App" {
			image = aws.ToString(c.Image)
		}
	}
	want, ok := v.expectedImage(l.outputs["Registry"]["RepositoryUrl"], image)
	if ok {
		r.add("image", pass, "%s runs %s, as committed", revision(running), image)
	} else {
		r.add("image", fail, "%s runs %q, but environments/%s.json commits %s", revision(running), image, v.cfg.Environment, want)
	}
}

// serviceFailed fails the three rows of the service check for one reason.
func serviceFailed(r *report, format string, args ...any) {
	for _, name := range []string{"deployment", "tasks", "image"} {
		r.add(name, fail, format, args...)
	}
}

// describeService is one ECS service as DescribeServices reports it.
func (v *verifier) describeService(ctx context.Context, cluster, service string) (ecstypes.Service, error) {
	out, err := v.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return ecstypes.Service{}, err
	}
	if len(out.Services) != 1 {
		return ecstypes.Service{}, fmt.Errorf("%d services, failures %s", len(out.Services), ecsFailures(out.Failures))
	}
	return out.Services[0], nil
}

// latestDeployment is the service's newest deployment, or nil. Up to 20
// come per page in no documented order: it reads every page.
func (v *verifier) latestDeployment(ctx context.Context, cluster, service string) (*ecstypes.ServiceDeploymentBrief, error) {
	var all []ecstypes.ServiceDeploymentBrief
	var token *string
	for {
		page, err := v.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(service), NextToken: token})
		if err != nil {
			return nil, err
		}
		all = append(all, page.ServiceDeployments...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	latest := slices.MaxFunc(all, func(a, b ecstypes.ServiceDeploymentBrief) int {
		return aws.ToTime(a.CreatedAt).Compare(aws.ToTime(b.CreatedAt))
	})
	return &latest, nil
}

func inProgress(s ecstypes.ServiceDeploymentStatus) bool {
	return s == ecstypes.ServiceDeploymentStatusPending || s == ecstypes.ServiceDeploymentStatusInProgress
}

func ecsFailures(fs []ecstypes.Failure) string {
	var out []string
	for _, f := range fs {
		out = append(out, aws.ToString(f.Arn)+": "+aws.ToString(f.Reason))
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// expectedImage is the image the committed configuration runs, and
// whether image is it: the release tag in the platform's repository, or
// the placeholder (an image asset in the CDK's bootstrap repository).
func (v *verifier) expectedImage(repository, image string) (string, bool) {
	if tag := v.cfg.Service.ImageTag; tag != "" {
		want := repository + ":" + tag
		return want, repository != "" && image == want
	}
	return "the placeholder, from the CDK's container-assets repository", strings.Contains(image, "container-assets")
}

// orMissing is err, or that the resource was not found.
func orMissing(err error) error {
	if err == nil {
		return errors.New("not found")
	}
	return err
}

// revision is family:revision of a task definition ARN.
func revision(arn string) string {
	_, after, ok := strings.Cut(arn, ":task-definition/")
	if !ok {
		return arn
	}
	return after
}

// traffic checks where the load balancer sends requests: every target
// group that gets a share of the traffic has targets, all healthy. With
// the production rule of an ECS-native rollout the shares are its live
// weights, which ECS changes; without it, the one target group takes all.
func (v *verifier) traffic(ctx context.Context, r *report, l live) {
	groups := l.of("LoadBalancer", "AWS::ElasticLoadBalancingV2::TargetGroup")
	if len(groups) == 0 {
		r.add("targets", fail, "the LoadBalancer stack has no target group")
		return
	}
	weights := map[string]int32{}
	var rules []resource
	for _, rule := range l.of("LoadBalancer", "AWS::ElasticLoadBalancingV2::ListenerRule") {
		if strings.HasPrefix(rule.logicalID, "ProductionRule") {
			rules = append(rules, rule)
		}
	}
	switch {
	case len(rules) == 1:
		out, err := v.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rules[0].physicalID}})
		if err != nil || len(out.Rules) != 1 {
			r.add("targets", fail, "cannot read the production listener rule %s: %v", rules[0].physicalID, err)
			return
		}
		for _, a := range out.Rules[0].Actions {
			if a.ForwardConfig != nil {
				for _, tg := range a.ForwardConfig.TargetGroups {
					weights[aws.ToString(tg.TargetGroupArn)] += aws.ToInt32(tg.Weight)
				}
			} else if a.TargetGroupArn != nil {
				weights[aws.ToString(a.TargetGroupArn)] = 1
			}
		}
	case len(groups) == 1:
		weights[groups[0].physicalID] = 1
	default:
		r.add("targets", fail, "%d target groups but no production listener rule to say which takes traffic", len(groups))
		return
	}
	var problems, fine []string
	for _, g := range groups {
		w := weights[g.physicalID]
		out, err := v.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(g.physicalID)})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", g.logicalID, err))
			continue
		}
		healthy, unhealthy := 0, []string{}
		for _, d := range out.TargetHealthDescriptions {
			state := d.TargetHealth.State
			switch state {
			case "healthy":
				healthy++
			case "draining", "unhealthy.draining", "initial":
				// Leaving, or registered moments ago and not yet checked
				// (a scale-out): neither serves requests yet or still.
			default:
				if w > 0 {
					unhealthy = append(unhealthy, fmt.Sprintf("%s:%d %s (%s)", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port), state, d.TargetHealth.Reason))
				}
			}
		}
		switch {
		case w == 0:
			fine = append(fine, fmt.Sprintf("%s takes no traffic (%d healthy)", g.logicalID, healthy))
		case healthy == 0:
			problems = append(problems, fmt.Sprintf("%s takes traffic (weight %d) but has no healthy target: every request fails (503); "+
				"if an ECS deployment's weights were reset by a stack update, `aws elbv2 describe-rules --rule-arns %s` shows them: see docs/operations.md#changing-the-production-listener-rule", g.logicalID, w, ruleArn(rules)))
		case len(unhealthy) > 0:
			problems = append(problems, fmt.Sprintf("%s takes traffic (weight %d) with unhealthy targets: %s", g.logicalID, w, strings.Join(unhealthy, ", ")))
		default:
			fine = append(fine, fmt.Sprintf("%s takes traffic (weight %d): %d healthy", g.logicalID, w, healthy))
		}
	}
	sort.Strings(problems)
	sort.Strings(fine)
	if len(problems) > 0 {
		r.add("targets", fail, "%s", strings.Join(append(problems, fine...), "; "))
	} else {
		r.add("targets", pass, "%s", strings.Join(fine, "; "))
	}
}

func ruleArn(rules []resource) string {
	if len(rules) == 0 {
		return "RULE_ARN"
	}
	return rules[0].physicalID
}

// wafProbes are requests an AWS managed rule group blocks, by group: a
// cross-site scripting query (CommonRuleSet's CrossSiteScripting_QUERYARGUMENTS)
// and a SQL injection query (SQLiRuleSet's SQLi_QUERYARGUMENTS).
var wafProbes = []struct{ group, query string }{
	{"CommonRuleSet", "verify=" + url.QueryEscape("<script>alert(1)</script>")},
	{"SQLiRuleSet", "verify=" + url.QueryEscape("1' OR '1'='1' --")},
}

// endpoint requests the health path through the load balancer, as users
// do, and where the firewall is on, a request it must block.
func (v *verifier) endpoint(ctx context.Context, r *report, l live) {
	base := l.outputs["LoadBalancer"]["LoadBalancerUrl"]
	if base == "" {
		r.add("https", fail, "the LoadBalancer stack has no LoadBalancerUrl output")
		return
	}
	var certificate string
	get := func(u string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return 0, err
		}
		resp, err := v.http.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 && certificate == "" {
			leaf := resp.TLS.PeerCertificates[0]
			certificate = fmt.Sprintf(" (certificate for %s, valid until %s)", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.UTC().Format("2006-01-02"))
			if left := leaf.NotAfter.Sub(v.now()); left < 14*24*time.Hour {
				return resp.StatusCode, fmt.Errorf("the listener's certificate for %s expires %s: ACM renews DNS-validated certificates by itself; check its validation records", strings.Join(leaf.DNSNames, ", "), leaf.NotAfter.UTC().Format("2006-01-02"))
			}
		}
		return resp.StatusCode, nil
	}
	health := strings.TrimSuffix(base, "/") + v.cfg.LoadBalancer.HealthCheckPath
	name := "https"
	if strings.HasPrefix(base, "http://") {
		name = "http"
	}
	switch code, err := get(health); {
	case err != nil:
		r.add(name, fail, "GET %s: %v", health, err)
	case code < 200 || code > 299:
		r.add(name, fail, "GET %s answered %d, want 2xx", health, code)
	default:
		r.add(name, pass, "GET %s answered %d%s", health, code, certificate)
	}
	if !v.cfg.LoadBalancer.Firewall.Enabled {
		r.add("firewall", skipped, "no web ACL in %s (LoadBalancer.Firewall.Enabled)", v.cfg.Environment)
		return
	}
	for _, p := range wafProbes {
		if slices.Contains(v.cfg.LoadBalancer.Firewall.CountOnly, p.group) {
			continue
		}
		probe := strings.TrimSuffix(base, "/") + "/?" + p.query
		switch code, err := get(probe); {
		case err != nil:
			r.add("firewall", fail, "GET %s: %v", probe, err)
		case code != http.StatusForbidden:
			r.add("firewall", fail, "GET %s answered %d: AWSManagedRules%s should have blocked it (403); check the web ACL's association with the load balancer", probe, code, p.group)
		default:
			r.add("firewall", pass, "AWSManagedRules%s blocked a probe (403)", p.group)
		}
		return
	}
	r.add("firewall", skipped, "every probed rule group only counts (LoadBalancer.Firewall.CountOnly)")
}

// data checks the database, the cache and the rotation of their secrets.
func (v *verifier) data(ctx context.Context, r *report, l live) {
	if dbs := l.of("Database", "AWS::RDS::DBInstance"); len(dbs) != 1 {
		r.add("database", fail, "the Database stack has %d DB instances, want 1", len(dbs))
	} else if out, err := v.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(dbs[0].physicalID)}); err != nil || len(out.DBInstances) != 1 {
		r.add("database", fail, "cannot describe %s: %v", dbs[0].physicalID, orMissing(err))
	} else {
		db := out.DBInstances[0]
		dataStore(r, "database", dbs[0].physicalID, aws.ToString(db.DBInstanceStatus), []string{"available", "backing-up", "storage-optimization"},
			fmt.Sprint(aws.ToBool(db.MultiAZ)), fmt.Sprint(v.cfg.Database.MultiAZ), "Database.MultiAZ")
	}
	wantMulti := "disabled"
	if v.cfg.Cache.Replicas > 0 {
		wantMulti = "enabled"
	}
	if groups := l.of("Cache", "AWS::ElastiCache::ReplicationGroup"); len(groups) != 1 {
		r.add("redis", fail, "the Cache stack has %d replication groups, want 1", len(groups))
	} else if out, err := v.cache.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String(groups[0].physicalID)}); err != nil || len(out.ReplicationGroups) != 1 {
		r.add("redis", fail, "cannot describe %s: %v", groups[0].physicalID, orMissing(err))
	} else {
		g := out.ReplicationGroups[0]
		dataStore(r, "redis", groups[0].physicalID, aws.ToString(g.Status), []string{"available", "snapshotting", "modifying"},
			string(g.MultiAZ), wantMulti, fmt.Sprintf("Cache.Replicas %d", v.cfg.Cache.Replicas))
	}
	var problems, fine []string
	for _, s := range l.resources {
		if s.typ != "AWS::SecretsManager::RotationSchedule" {
			continue
		}
		// A rotation schedule's physical ID is its secret's ARN.
		out, err := v.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.physicalID)})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", s.physicalID, err))
			continue
		}
		name := aws.ToString(out.Name)
		if !aws.ToBool(out.RotationEnabled) {
			problems = append(problems, name+" has rotation turned off")
			continue
		}
		// RotateSecret (Secrets Manager API Reference): when rotation is
		// unsuccessful, AWSPENDING may stay on a version that is not
		// AWSCURRENT, and every later rotation then fails as still in
		// progress.
		pending := ""
		for version, stages := range out.VersionIdsToStages {
			if slices.Contains(stages, "AWSPENDING") && !slices.Contains(stages, "AWSCURRENT") {
				pending = version
			}
		}
		if pending != "" {
			problems = append(problems, fmt.Sprintf("%s: the last rotation did not finish (AWSPENDING on version %s); its rotation function's log group says why; "+
				"after fixing it, `aws secretsmanager rotate-secret --secret-id %s` rotates again", name, pending, name))
			continue
		}
		// A schedule whose next rotation is past by more than a day has
		// failed its rotations (or cannot start them).
		if next := out.NextRotationDate; next != nil && next.Before(v.now().Add(-24*time.Hour)) {
			problems = append(problems, fmt.Sprintf("%s: the rotation due %s has not happened; its rotation function's log group says why", name, next.UTC().Format("2006-01-02")))
			continue
		}
		last := "not rotated yet"
		if out.LastRotatedDate != nil {
			last = "last rotated " + out.LastRotatedDate.UTC().Format("2006-01-02")
		}
		fine = append(fine, name+" "+last)
	}
	sort.Strings(fine)
	switch {
	case len(problems) > 0:
		r.add("rotation", fail, "%s", strings.Join(problems, "; "))
	case len(fine) == 0:
		r.add("rotation", fail, "no rotation schedule found in the stacks")
	default:
		r.add("rotation", pass, "%s", strings.Join(fine, "; "))
	}
}

// dataStore reports one database or cache: in a state in which it serves
// (status one of serving), and Multi-AZ as setting commits.
func dataStore(r *report, name, id, status string, serving []string, multi, wantMulti, setting string) {
	switch {
	case !slices.Contains(serving, status):
		r.add(name, fail, "%s is %s, want available", id, status)
	case multi != wantMulti:
		r.add(name, fail, "%s has Multi-AZ %s, but %s commits %s", id, multi, setting, wantMulti)
	default:
		r.add(name, pass, "%s is available, Multi-AZ %s", id, multi)
	}
}

// alarms checks that no alarm of the environment is in ALARM, and returns
// the alarms by name.
func (v *verifier) alarms(ctx context.Context, r *report, l live) map[string]cwtypes.MetricAlarm {
	var names []string
	for _, a := range l.resources {
		if a.typ == "AWS::CloudWatch::Alarm" {
			names = append(names, a.physicalID)
		}
	}
	sort.Strings(names)
	alarms := map[string]cwtypes.MetricAlarm{}
	for chunk := range slices.Chunk(names, 100) {
		pages := cloudwatch.NewDescribeAlarmsPaginator(v.cw, &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				r.add("alarms", fail, "cannot describe the alarms: %v", err)
				return alarms
			}
			for _, a := range out.MetricAlarms {
				alarms[aws.ToString(a.AlarmName)] = a
			}
		}
	}
	var firing, missing []string
	for _, n := range names {
		a, ok := alarms[n]
		switch {
		case !ok:
			missing = append(missing, n)
		case a.StateValue == cwtypes.StateValueAlarm:
			firing = append(firing, fmt.Sprintf("%s (%s)", n, aws.ToString(a.StateReason)))
		}
	}
	if len(missing) > 0 {
		r.add("alarms", fail, "the stacks name alarms that do not exist: %s", strings.Join(missing, ", "))
	} else if len(firing) > 0 {
		r.add("alarms", fail, "in ALARM: %s; the runbook in docs/operations.md#alarms says what each means", strings.Join(firing, "; "))
	} else {
		r.add("alarms", pass, "none of %d alarms is in ALARM", len(names))
	}
	return alarms
}

// drill sets one alarm that no deployment watches to ALARM and confirms
// that its action reached the topic (the alarm's history records whether
// CloudWatch could publish: the topic policy and the topic key's policy
// must both let it) and that SNS delivered the notification to a
// subscriber; then it sets the alarm back to OK.
func (v *verifier) drill(ctx context.Context, r *report, l live, alarms map[string]cwtypes.MetricAlarm) {
	// Only once the service's deployments are known and all finished: an
	// alarm in ALARM during a deployment can roll it back.
	if l.service == nil || l.latest == nil {
		r.add("drill", fail, "the service's deployments could not be read, so the drill cannot know that none is running")
		return
	}
	switch l.latest.Status {
	case ecstypes.ServiceDeploymentStatusSuccessful, ecstypes.ServiceDeploymentStatusRollbackSuccessful,
		ecstypes.ServiceDeploymentStatusRollbackFailed, ecstypes.ServiceDeploymentStatusStopped:
	default:
		r.add("drill", fail, "a deployment is in progress (%s): the drill waits until it ends, so that no alarm can roll it back", l.latest.Status)
		return
	}
	var watched []string
	if c := l.service.DeploymentConfiguration; c != nil && c.Alarms != nil {
		watched = c.Alarms.AlarmNames
	}
	var names []string
	for n, a := range alarms {
		toSNS := len(a.AlarmActions) > 0
		for _, action := range a.AlarmActions {
			toSNS = toSNS && strings.HasPrefix(action, "arn:aws:sns:")
		}
		if !slices.Contains(watched, n) && toSNS && a.StateValue != cwtypes.StateValueAlarm {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		r.add("drill", fail, "no alarm that notifies a topic and that no deployment watches")
		return
	}
	sort.Strings(names)
	name := names[0]
	topic := alarms[name].AlarmActions[0]
	start := v.now()
	if _, err := v.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("make verify --drill alarms: a test of alarm delivery")}); err != nil {
		r.add("drill", fail, "cannot set %s to ALARM: %v", name, err)
		return
	}
	defer func() {
		_, _ = v.cw.SetAlarmState(context.WithoutCancel(ctx), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: cwtypes.StateValueOk,
			StateReason: aws.String("make verify --drill alarms: the drill is over; the next evaluation sets the real state")})
	}()
	action, err := v.actionOutcome(ctx, name, topic, start)
	if err != nil {
		r.add("drill", fail, "%s: %v", name, err)
		return
	}
	if !strings.HasPrefix(action, "Successfully executed action") {
		r.add("drill", fail, "%s: CloudWatch could not publish: %q; the fix belongs in the topic policy or the topic key's policy (lib/alerts.go)", name, action)
		return
	}
	delivered, failed, err := v.deliveries(ctx, topic, start)
	switch {
	case err != nil:
		r.add("drill", fail, "%s reached the topic, but reading its deliveries failed: %v", name, err)
	case delivered == 0:
		r.add("drill", fail, "%s reached %s, but SNS delivered it to no subscriber (%g failed): confirm the e-mail subscriptions (Monitoring.AlarmEmails) and check the topic's delivery logs", name, topicName(topic), failed)
	default:
		r.add("drill", pass, "%s reached %s and SNS delivered %g notifications (%g failed)", name, topicName(topic), delivered, failed)
	}
}

// actionOutcome waits for the alarm history's record of the action that
// the drill's state change ran.
func (v *verifier) actionOutcome(ctx context.Context, name, topic string, start time.Time) (string, error) {
	for deadline := v.now().Add(v.patience); ; {
		out, err := v.cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String(name),
			HistoryItemType: cwtypes.HistoryItemTypeAction, StartDate: aws.Time(start.Add(-time.Minute))})
		if err != nil {
			return "", err
		}
		// The action of the drill's transition: after it started (a
		// little clock skew allowed), on the topic it chose; the alarm's
		// OK action, after the drill, comes later.
		for _, h := range out.AlarmHistoryItems {
			if !aws.ToTime(h.Timestamp).Before(start.Add(-5*time.Second)) && strings.Contains(aws.ToString(h.HistorySummary), topic) {
				return aws.ToString(h.HistorySummary), nil
			}
		}
		if v.now().After(deadline) {
			return "", fmt.Errorf("no action recorded in the alarm's history within %s", v.patience)
		}
		if err := v.sleep(ctx); err != nil {
			return "", err
		}
	}
}

// deliveries sums SNS's delivered and failed notifications of the topic
// since start, waiting until either is counted.
func (v *verifier) deliveries(ctx context.Context, topic string, start time.Time) (delivered, failed float64, err error) {
	sum := func(metric string) (float64, error) {
		out, err := v.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/SNS"), MetricName: aws.String(metric), Dimensions: []cwtypes.Dimension{{Name: aws.String("TopicName"), Value: aws.String(topicName(topic))}},
			StartTime: aws.Time(start.Add(-time.Minute)), EndTime: aws.Time(v.now().Add(time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		})
		if err != nil {
			return 0, err
		}
		var total float64
		for _, d := range out.Datapoints {
			total += aws.ToFloat64(d.Sum)
		}
		return total, nil
	}
	for deadline := v.now().Add(v.patience); ; {
		if delivered, err = sum("NumberOfNotificationsDelivered"); err != nil {
			return 0, 0, err
		}
		if failed, err = sum("NumberOfNotificationsFailed"); err != nil {
			return 0, 0, err
		}
		if delivered > 0 || v.now().After(deadline) {
			return delivered, failed, nil
		}
		if err := v.sleep(ctx); err != nil {
			return 0, 0, err
		}
	}
}

func topicName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// printReport prints r, and appends it to the GitHub job summary when
// there is one; it returns an error naming what failed.
func printReport(r report) error {
	r.Table(os.Stdout)
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			r.Markdown(f)
			f.Close()
		}
	}
	if failed := r.Failed(); len(failed) > 0 {
		return errors.New(r.Env + " is not verified: " + strings.Join(failed, ", ") + " failed")
	}
	return nil
}
