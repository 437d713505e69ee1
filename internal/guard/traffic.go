package guard

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/example/platform/internal/cfn"
)

// Reroute is a change CloudFormation carries out by writing the template's
// routing over what ECS set live: an update of the production listener
// rule, whose weights ECS moves with every blue/green, linear or canary
// deployment, or of the default action of its listener.
const Reroute Change = "reroute"

// Rerouting is one change that rewrites where live traffic goes.
type Rerouting struct {
	Env, Stack string
	LogicalID  string
	Type       string
	// What names what changes: the changed properties, "removed", or the
	// replaced resource the rule forwards to; an allow-list entry names
	// them in properties.
	What []string
}

// rerouteWhy is what a rerouting does in AWS and what to do instead.
const rerouteWhy = "ECS moves the weights of the production listener rule between the blue and green target groups with every progressive deployment, " +
	"and CloudFormation knows only the template's (the first group 100, the second 0): an update writes those back, which after an odd number of " +
	"deployments sends all traffic to the group without tasks, a full outage, or, mid-deployment, breaks the deployment (aws/aws-cdk#36649); " +
	"leave the rule and the listener's default action unchanged, or follow docs/operations.md (Changing the production listener rule: read the live " +
	"weights with aws elbv2 describe-rules first) and allow exactly this change with change \"reroute\""

func (r Rerouting) String() string {
	return fmt.Sprintf("%s/%s: reroute %s %s (changed: %s): %s", r.Env, r.Stack, r.Type, r.LogicalID, joinComma(r.What), rerouteWhy)
}

const (
	listenerRuleType = "AWS::ElasticLoadBalancingV2::ListenerRule"
	listenerType     = "AWS::ElasticLoadBalancingV2::Listener"
)

// productionRules are the listener rules of a template whose actions
// forward to two or more target groups by weight: the rules ECS shifts.
func productionRules(tpl cfn.Template) []string {
	var out []string
	for _, id := range cfn.IDs(tpl, listenerRuleType) {
		for _, a := range cfn.List(cfn.Props(cfn.Object(cfn.Object(tpl["Resources"])[id]))["Actions"]) {
			if len(cfn.List(cfn.Object(cfn.Object(a)["ForwardConfig"])["TargetGroups"])) >= 2 {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// pairReroutes lists the changes of one pair of stacks that rewrite the
// routing ECS manages: a production rule changed, removed or forwarding to
// a resource the change replaces, and a changed default action of the
// listener such a rule belongs to.
func pairReroutes(label string, reviewed, deployed Stack, replaced []string) []Rerouting {
	before, after := cfn.Object(reviewed.Template["Resources"]), cfn.Object(deployed.Template["Resources"])
	var out []Rerouting
	listeners := map[string]bool{}
	for _, id := range productionRules(reviewed.Template) {
		b, a := cfn.Object(before[id]), cfn.Object(after[id])
		listeners[cfn.RefID(cfn.Props(b)["ListenerArn"])] = true
		var what []string
		if a == nil || a["Type"] != b["Type"] {
			what = append(what, "removed")
		} else {
			what = changedProperties(cfn.Props(b), cfn.Props(a))
		}
		// A target group replaced gets a new ARN, which the rule's
		// action then names: CloudFormation updates the rule.
		cfn.Walk(cfn.Props(b)["Actions"], "", func(_, _ string, v any) {
			if ref := cfn.RefID(v); ref != "" && slices.Contains(replaced, ref) && !slices.Contains(what, ref) {
				what = append(what, ref+" replaced")
			}
		})
		if len(what) > 0 {
			out = append(out, Rerouting{Env: label, Stack: reviewed.ID, LogicalID: id, Type: listenerRuleType, What: what})
		}
	}
	for _, id := range sortedKeys(listeners) {
		b, a := cfn.Object(before[id]), cfn.Object(after[id])
		if b["Type"] != listenerType || a == nil {
			continue // removing the listener removes its rule: reported above
		}
		if !reflect.DeepEqual(cfn.Props(b)["DefaultActions"], cfn.Props(a)["DefaultActions"]) {
			out = append(out, Rerouting{Env: label, Stack: reviewed.ID, LogicalID: id, Type: listenerType, What: []string{"DefaultActions"}})
		}
	}
	return out
}

// changedProperties names the properties that differ between two
// resources' Properties.
func changedProperties(before, after map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(mergeKeys(before, after)) {
		if !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, k)
		}
	}
	return out
}

func mergeKeys(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// Migrate is a running ECS service switched from ROLLING to a progressive
// strategy in one deploy.
const Migrate Change = "migrate"

// Migration is one service switched from rolling to a progressive
// strategy without the alternate target group it needs already in place.
type Migration struct {
	Env, Stack, LogicalID string
	// To is the new strategy; an allow-list entry names it in properties.
	To string
}

func (m Migration) String() string {
	return fmt.Sprintf("%s/%s: migrate AWS::ECS::Service %s from ROLLING to %s in one deploy: the ECS Developer Guide (update-rolling-to-bluegreen) switches a running service "+
		"in two steps, first the alternate target group, the production listener rule and the role with a rolling deployment, then the strategy; "+
		"deploy Service.Rollout.AlternateTargetGroup true with the strategy still ROLLING, then the new strategy, "+
		"or allow exactly this change with change \"migrate\" and properties [%q]", m.Env, m.Stack, m.LogicalID, m.To, m.To)
}

// pairMigrations lists the services of one pair of stacks that a deploy
// switches from ROLLING to BLUE_GREEN, LINEAR or CANARY while the reviewed
// service has no alternate target group yet.
func pairMigrations(label string, reviewed, deployed Stack) []Migration {
	var out []Migration
	after := cfn.Object(deployed.Template["Resources"])
	for _, id := range cfn.IDs(reviewed.Template, "AWS::ECS::Service") {
		b := cfn.Props(cfn.Object(cfn.Object(reviewed.Template["Resources"])[id]))
		a := cfn.Object(after[id])
		if a["Type"] != "AWS::ECS::Service" {
			continue
		}
		from, to := strategyOf(b), strategyOf(cfn.Props(a))
		if from == "ROLLING" && to != "ROLLING" && !hasAlternateTarget(b) {
			out = append(out, Migration{Env: label, Stack: reviewed.ID, LogicalID: id, To: to})
		}
	}
	return out
}

// strategyOf is a service's deployment strategy; ROLLING where unset.
func strategyOf(props map[string]any) string {
	if s, ok := cfn.Object(props["DeploymentConfiguration"])["Strategy"].(string); ok {
		return s
	}
	return "ROLLING"
}

func hasAlternateTarget(props map[string]any) bool {
	for _, lb := range cfn.List(props["LoadBalancers"]) {
		if cfn.Object(lb)["AdvancedConfiguration"] != nil {
			return true
		}
	}
	return false
}
