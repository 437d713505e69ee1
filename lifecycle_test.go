package main

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
)

// transition is one step in the life of an environment in an account, and
// the rule AWS enforces during it: the templates are right at rest, and a
// transition can still break them (a first deploy into an empty account, an
// update while ECS is mid-deployment, a deployment running two revisions,
// a move to another region). Each check matches resources by type, over
// every synthesized configuration, and fails when it matches nothing.
type transition struct {
	name, rule, source string
	check              func(t checkT, w world) int
}

var transitions = []transition{
	{"first deploy: an empty repository, closed egress",
		"the first task must pull an image that exists without a push, from where the instances reach, by a reference that cannot move; " +
			"a pull-through cache's first pull over PrivateLink needs a NAT path, and its prefix is account-wide",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html (considerations); " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html (CannotPullContainerError)",
		firstDeployPullsItsImage},
	{"first deploy: a create that fails",
		"a stack the deploy creates is not termination-protected (the CLI sets the protection before it creates the stack and then cannot delete " +
			"the ROLLBACK_COMPLETE stack) and holds no deletion-protected database or load balancer (the rollback cannot delete them: ROLLBACK_FAILED)",
		"https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html; " +
			"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html (deletion protection)",
		aFailedCreateRollsBack},
	{"first deploy: the first progressive deployment",
		"ECS may shift traffic as soon as the service exists, so the role it shifts with must have its policy by then",
		"https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html; " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-permissions.html",
		trafficRoleIsReadyWithTheService},
	{"an update while ECS is mid-deployment",
		"CloudFormation writes the template's listener-rule weights and desired count over what ECS set: the production rule must carry " +
			"nothing an ordinary change updates (no tags), and the service no desired count",
		"https://github.com/aws/aws-cdk/issues/36649; https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html",
		updatesLeaveLiveRoutingAlone},
	{"a deployment running two revisions",
		"the group must hold what a deployment at the maximum task count runs: one task more for ROLLING (minimum healthy 100%), both revisions " +
			"until the bake ends otherwise, at the tasks per instance that network interfaces, CPU and memory allow",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html; " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html; " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html",
		twoRevisionsFit},
	{"an instance replacement (an AMI release)",
		"a new launch template replaces instances the capacity provider protects from scale-in only through an instance refresh that replaces " +
			"protected instances, and nothing may suspend the capacity provider's scaling meanwhile",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html; " +
			"https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.CfnAutoScalingInstanceRefresh.html",
		instancesAreRefreshed},
	{"a move to another region",
		"a template names only its own region: the S3 prefix list is the one recorded for that region, and no other region's name appears",
		"https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html",
		templatesFollowTheirRegion},
}

// TestLifecycleTransitions runs every transition's check over every
// synthesized configuration.
func TestLifecycleTransitions(t *testing.T) {
	for _, tr := range transitions {
		t.Run(tr.name, func(t *testing.T) {
			matched := 0
			for _, name := range synthesized() {
				t.Run(name, func(t *testing.T) { matched += tr.check(t, newWorld(name)) })
			}
			assert.Positive(t, matched, "the check matched nothing in any configuration; it checks nothing (%s)", tr.rule)
			if t.Failed() {
				t.Logf("rule: %s\nsource: %s", tr.rule, tr.source)
			}
		})
	}
}

// firstDeployPullsItsImage: where the deploy creates the Registry stack,
// no task may name the platform's repository (it is empty); where the
// instances cannot reach the internet, no image may be outside ECR; no
// pull-through cache rule anywhere.
func firstDeployPullsItsImage(t checkT, w world) int {
	w.Each("AWS::ECR::PullThroughCacheRule", func(r cfn.Ref, _, _ map[string]any) {
		assert.Fail(t, "pull-through cache", "%s: its first pull over PrivateLink needs a NAT path, and its prefix is account-wide", r)
	})
	creatingRegistry := slices.Contains(envs[w.name].creating, "Registry")
	closed := !config.AllowsAnyHTTPS(w.cfg.Network.InternetEgress)
	return w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			image := cfn.Object(c)["Image"]
			if _, ok := imageRepository(w, td.Stack, image); ok {
				assert.False(t, creatingRegistry, "%s: the deploy creates the Registry stack, so its repository is empty, but the task pulls %s from it", td, cfn.JSON(image))
			}
			if closed {
				assert.Contains(t, cfn.JSON(image), ".dkr.ecr.", "%s: egress is closed, but image %s is outside ECR", td, cfn.JSON(image))
			}
		}
	})
}

// aFailedCreateRollsBack: the stacks the deploy creates have no
// termination protection and no deletion-protected database or load
// balancer; the second pass (every other configuration) has them where
// configured.
func aFailedCreateRollsBack(t checkT, w world) int {
	creating := envs[w.name].creating
	if len(creating) == 0 {
		return 0
	}
	n := 0
	for id, a := range manifestArtifacts(t, w.name) {
		if a.Type == "aws:cloudformation:stack" && slices.Contains(creating, id) {
			n++
			assert.NotEqual(t, true, a.Properties["terminationProtection"], "%s/%s: created with termination protection, so a failed create cannot be retried", w.name, id)
		}
	}
	w.Each("AWS::RDS::DBInstance", func(r cfn.Ref, props, _ map[string]any) {
		if slices.Contains(creating, r.Stack) {
			assert.NotEqual(t, true, props["DeletionProtection"], "%s: created with deletion protection, so a failed create cannot roll back", r)
		}
	})
	w.Each("AWS::ElasticLoadBalancingV2::LoadBalancer", func(r cfn.Ref, props, _ map[string]any) {
		if slices.Contains(creating, r.Stack) {
			assert.NotContains(t, cfn.JSON(props["LoadBalancerAttributes"]), `{"Key":"deletion_protection.enabled","Value":"true"}`,
				"%s: created with deletion protection, so a failed create cannot roll back", r)
		}
	})
	return n
}

// trafficRoleIsReadyWithTheService: a service with an alternate target
// depends on every policy attached to the role it shifts traffic with.
func trafficRoleIsReadyWithTheService(t checkT, w world) int {
	return w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, res map[string]any) {
		for _, lb := range cfn.List(props["LoadBalancers"]) {
			adv := cfn.Object(cfn.Object(lb)["AdvancedConfiguration"])
			if adv == nil {
				continue
			}
			role, ok := w.Resolve(svc.Stack, adv["RoleArn"])
			if !assert.True(t, ok, "%s: traffic-shift role %s is not this app's", svc, cfn.JSON(adv["RoleArn"])) {
				continue
			}
			deps := cfn.ListOr(res["DependsOn"])
			w.Each("AWS::IAM::Policy", func(p cfn.Ref, pp, _ map[string]any) {
				if p.Stack == svc.Stack && slices.ContainsFunc(cfn.List(pp["Roles"]), func(v any) bool { r, ok := w.Resolve(p.Stack, v); return ok && r == role }) {
					assert.Contains(t, deps, p.ID, "%s does not depend on %s, the policy of its traffic-shift role %s", svc, p.ID, role.ID)
				}
			})
		}
	})
}

// updatesLeaveLiveRoutingAlone: every weighted listener rule carries only
// its routing, and no service sets a desired count.
func updatesLeaveLiveRoutingAlone(t checkT, w world) int {
	n := 0
	for _, stack := range w.Stacks() {
		for _, id := range productionRulesOf(w.Templates[stack]) {
			n++
			props := w.Props(cfn.Ref{Stack: stack, ID: id})
			for key := range props {
				assert.Contains(t, []string{"Actions", "Conditions", "ListenerArn", "Priority"}, key,
					"%s/%s: the production listener rule carries %s; a change of it updates the rule, which resets the weights ECS moved", stack, id, key)
			}
		}
	}
	if w.cfg.Service.Rollout.TwoTargetGroups() {
		assert.Positive(t, n, "%s: two target groups, but no listener rule forwards to both by weight", w.name)
	}
	n += w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, _ map[string]any) {
		assert.NotContains(t, props, "DesiredCount", "%s: a desired count in the template resets the task count on every update", svc)
	})
	return n
}

// productionRulesOf are the listener rules that forward to two or more
// target groups by weight.
func productionRulesOf(tpl cfn.Template) []string {
	var out []string
	for id, r := range cfn.Resources(tpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		for _, a := range cfn.List(cfn.Props(r)["Actions"]) {
			if len(cfn.List(cfn.Object(cfn.Object(a)["ForwardConfig"])["TargetGroups"])) >= 2 {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// twoRevisionsFit reads the capacity from the templates: the group's
// MaxSize, the launch template's instance type, the task's CPU and memory,
// the service's strategy and the scalable target's maximum.
func twoRevisionsFit(t checkT, w world) int {
	var maxSize int
	var typ string
	w.Each("AWS::AutoScaling::AutoScalingGroup", func(g cfn.Ref, props, _ map[string]any) {
		fmt.Sscan(fmt.Sprint(props["MaxSize"]), &maxSize)
		if lt, ok := w.Resolve(g.Stack, cfn.Object(props["LaunchTemplate"])["LaunchTemplateId"]); ok {
			typ, _ = cfn.Object(w.Props(lt)["LaunchTemplateData"])["InstanceType"].(string)
		}
	})
	var maxTasks int
	w.Each("AWS::ApplicationAutoScaling::ScalableTarget", func(_ cfn.Ref, props, _ map[string]any) {
		if props["ScalableDimension"] == "ecs:service:DesiredCount" {
			fmt.Sscan(fmt.Sprint(props["MaxCapacity"]), &maxTasks)
		}
	})
	return w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, _ map[string]any) {
		it, known := config.InstanceTypeOf(typ)
		if !assert.True(t, known, "%s: instance type %q is not in lib/config/catalog.go", svc, typ) {
			return
		}
		td, _ := w.Resolve(svc.Stack, props["TaskDefinition"])
		var s config.Service
		for _, c := range cfn.List(w.Props(td)["ContainerDefinitions"]) {
			fmt.Sscan(fmt.Sprint(cfn.Object(c)["Cpu"]), &s.Cpu)
			fmt.Sscan(fmt.Sprint(cfn.Object(c)["Memory"]), &s.MemoryMiB)
		}
		s.MaxTasks = maxTasks
		s.Rollout.Strategy = strategyOfService(props)
		per := it.Slots(s).Tasks()
		need, spare := s.DeploymentTasks(), 0
		if s.Rollout.Progressive() {
			spare = 1 // a replaced instance must not stall the deployment
		}
		assert.GreaterOrEqual(t, (maxSize-spare)*per, need, "%s: a %s deployment at %d tasks runs %d, but %d x %s (%d tasks each, one spare for a progressive deployment) hold %d",
			svc, s.Rollout.Strategy, maxTasks, need, maxSize, typ, per, (maxSize-spare)*per)
	})
}

func strategyOfService(props map[string]any) string {
	if s, ok := cfn.Object(props["DeploymentConfiguration"])["Strategy"].(string); ok {
		return s
	}
	return "ROLLING"
}

// instancesAreRefreshed: a group whose new instances are protected from
// scale-in is replaced by an instance refresh that replaces protected
// instances; no group suspends the capacity provider's alarms in a rolling
// update.
func instancesAreRefreshed(t checkT, w world) int {
	return w.Each("AWS::AutoScaling::AutoScalingGroup", func(g cfn.Ref, props, res map[string]any) {
		policy := cfn.Object(res["UpdatePolicy"])
		rolling := cfn.Object(policy["AutoScalingRollingUpdate"])
		assert.NotContains(t, cfn.JSON(rolling["SuspendProcesses"]), "AlarmNotification", "%s: a rolling update suspends the capacity provider's scaling alarms", g)
		refresh := cfn.Object(policy["AutoScalingInstanceRefresh"])
		if !assert.NotNil(t, refresh, "%s: a new launch template does not replace the instances by an instance refresh", g) {
			return
		}
		if props["NewInstancesProtectedFromScaleIn"] == true {
			assert.Equal(t, "Refresh", cfn.Object(refresh["Preferences"])["ScaleInProtectedInstances"],
				"%s: protected instances would be waited for (an hour, then the refresh fails), not replaced", g)
		}
	})
}

var regionName = regexp.MustCompile(`\b(af|ap|ca|eu|il|me|mx|sa|us)-(central|north|northeast|northwest|south|southeast|southwest|east|west|gov-east|gov-west)-[0-9]\b`)

// templatesFollowTheirRegion: the S3 prefix list in every rule is the one
// the lookups record for the stacks' region, and no template names
// another region.
func templatesFollowTheirRegion(t checkT, w world) int {
	n := 0
	for _, stack := range w.Stacks() {
		n++
		for _, r := range regionName.FindAllString(cfn.JSON(w.Templates[stack]), -1) {
			if !assert.Equal(t, w.region, r, "%s/%s names region %s, but its stacks are bound to %s", w.name, stack, r, w.region) {
				break
			}
		}
	}
	var lists []string
	for _, stack := range w.Stacks() {
		cfn.Walk(w.Templates[stack]["Resources"], "", func(_, key string, v any) {
			if pl, ok := v.(string); ok && key == "DestinationPrefixListId" {
				lists = append(lists, pl)
			}
		})
	}
	if len(lists) > 0 {
		want, err := config.S3PrefixList(envs[w.name].repo.Lookups, w.account, w.region)
		if assert.NoError(t, err) {
			for _, pl := range lists {
				assert.Equal(t, want, pl, "%s: egress to prefix list %s, but %s's S3 prefix list is %s", w.name, pl, w.region, want)
			}
		}
	}
	return n + len(lists)
}
