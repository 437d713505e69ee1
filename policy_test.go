package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/example/platform/lib/config"
)

// expectedFlows is the network policy of DESIGN.md written out as the rules
// it must produce: every ingress and egress rule of every security group of
// an environment, in a canonical form. cfg decides the container port and
// whether interface endpoints exist.
func expectedFlows(cfg config.Config) []string {
	app := fmt.Sprint(cfg.Service.ContainerPort)
	flows := []string{
		"LoadBalancerSecurityGroup ingress tcp/443 from 0.0.0.0/0",
		"LoadBalancerSecurityGroup ingress tcp/80 from 0.0.0.0/0",
		"LoadBalancerSecurityGroup egress tcp/" + app + " to ServiceSecurityGroup",
		"ServiceSecurityGroup ingress tcp/" + app + " from LoadBalancerSecurityGroup",
		"ServiceSecurityGroup egress tcp/5432 to DatabaseSecurityGroup",
		"DatabaseSecurityGroup ingress tcp/5432 from ServiceSecurityGroup",
		"ServiceSecurityGroup egress tcp/6379 to CacheSecurityGroup",
		"CacheSecurityGroup ingress tcp/6379 from ServiceSecurityGroup",
		"ServiceSecurityGroup egress tcp/443 to 0.0.0.0/0",
		"InstanceSecurityGroup egress tcp/443 to 0.0.0.0/0",
		"RotationSecurityGroup egress tcp/5432 to DatabaseSecurityGroup",
		"DatabaseSecurityGroup ingress tcp/5432 from RotationSecurityGroup",
		"RotationSecurityGroup egress tcp/443 to 0.0.0.0/0",
	}
	if cfg.Network.InterfaceEndpoints {
		flows = append(flows,
			"EndpointSecurityGroup ingress tcp/443 from ServiceSecurityGroup",
			"ServiceSecurityGroup egress tcp/443 to EndpointSecurityGroup",
			"EndpointSecurityGroup ingress tcp/443 from InstanceSecurityGroup",
			"InstanceSecurityGroup egress tcp/443 to EndpointSecurityGroup",
			"EndpointSecurityGroup ingress tcp/443 from RotationSecurityGroup",
			"RotationSecurityGroup egress tcp/443 to EndpointSecurityGroup",
		)
	}
	sort.Strings(flows)
	return flows
}

// TestNetworkPolicy reads every security-group rule from every synthesized
// template of an environment, inline and standalone, ingress and egress, and
// compares the complete set with expectedFlows: an extra open port anywhere,
// or a missing flow, fails.
func TestNetworkPolicy(t *testing.T) {
	for _, env := range config.Names() {
		t.Run(env, func(t *testing.T) {
			got := actualFlows(t, envs[env].templates)
			want := expectedFlows(envs[env].cfg)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("security-group rules differ from the network policy\n%s", lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
			}
		})
	}
}

// TestNetworkPolicyReaderSeesEveryRuleKind guards the reader itself: a rule
// of each shape it must understand is rendered as expected.
func TestNetworkPolicyReaderSeesEveryRuleKind(t *testing.T) {
	templates := map[string]map[string]any{
		"A": {
			"Resources": map[string]any{
				"WebSecurityGroup0123ABCD": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{
					"SecurityGroupIngress": []any{map[string]any{"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0, "CidrIp": "0.0.0.0/0"}},
					"SecurityGroupEgress":  []any{map[string]any{"IpProtocol": "-1", "CidrIpv6": "::/0"}},
				}},
			},
			"Outputs": map[string]any{"Out": map[string]any{
				"Value":  map[string]any{"Fn::GetAtt": []any{"WebSecurityGroup0123ABCD", "GroupId"}},
				"Export": map[string]any{"Name": "a:web"},
			}},
		},
		"B": {
			"Resources": map[string]any{
				"DbSecurityGroup89ABCDEF": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{}},
				"Rule": map[string]any{"Type": "AWS::EC2::SecurityGroupIngress", "Properties": map[string]any{
					"GroupId": map[string]any{"Fn::GetAtt": []any{"DbSecurityGroup89ABCDEF", "GroupId"}}, "IpProtocol": "tcp", "FromPort": 5432.0, "ToPort": 5433.0,
					"SourceSecurityGroupId": map[string]any{"Fn::ImportValue": "a:web"},
				}},
				"Out": map[string]any{"Type": "AWS::EC2::SecurityGroupEgress", "Properties": map[string]any{
					"GroupId": map[string]any{"Fn::ImportValue": "a:web"}, "IpProtocol": "tcp", "FromPort": 443.0, "ToPort": 443.0,
					"DestinationPrefixListId": "pl-123",
				}},
			},
		},
	}
	got := strings.Join(actualFlows(t, templates), "\n")
	want := strings.Join([]string{
		"DbSecurityGroup ingress tcp/5432-5433 from WebSecurityGroup",
		"WebSecurityGroup egress -1/all to ::/0",
		"WebSecurityGroup egress tcp/443 to pl-123",
		"WebSecurityGroup ingress tcp/22 from 0.0.0.0/0",
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

var cdkHash = regexp.MustCompile(`[0-9A-F]{8}$`)

// actualFlows renders every security-group rule of the given templates.
// Security groups are named by their logical ID without the CDK's hash
// suffix; references through exports are followed to the producing stack.
func actualFlows(t *testing.T, templates map[string]map[string]any) []string {
	t.Helper()
	exports := map[string]string{}
	for _, tpl := range templates {
		outputs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outputs {
			o := o.(map[string]any)
			if exp, ok := o["Export"].(map[string]any); ok {
				exports[fmt.Sprint(exp["Name"])] = groupName(o["Value"], nil)
			}
		}
	}
	var flows []string
	for stack, tpl := range templates {
		res, _ := tpl["Resources"].(map[string]any)
		for id, r := range res {
			r := r.(map[string]any)
			props, _ := r["Properties"].(map[string]any)
			switch r["Type"] {
			case "AWS::EC2::SecurityGroup":
				owner := cdkHash.ReplaceAllString(id, "")
				for _, dir := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
					rules, _ := props[dir].([]any)
					for _, rule := range rules {
						if f := flow(owner, dir == "SecurityGroupIngress", rule.(map[string]any), exports); f != "" {
							flows = append(flows, f)
						}
					}
				}
			case "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress":
				owner := groupName(props["GroupId"], exports)
				if owner == "" {
					t.Errorf("%s/%s: cannot tell which security group %v is", stack, id, props["GroupId"])
					continue
				}
				if f := flow(owner, r["Type"] == "AWS::EC2::SecurityGroupIngress", props, exports); f != "" {
					flows = append(flows, f)
				}
			}
		}
	}
	sort.Strings(flows)
	return flows
}

// flow renders one rule; the CDK's placeholder that denies all egress of a
// group with no outbound rules opens nothing and is skipped.
func flow(owner string, ingress bool, rule map[string]any, exports map[string]string) string {
	if rule["CidrIp"] == "255.255.255.255/32" && rule["IpProtocol"] == "icmp" && rule["FromPort"] == 252.0 && rule["ToPort"] == 86.0 {
		return ""
	}
	ports := "all"
	if from, ok := rule["FromPort"].(float64); ok {
		ports = fmt.Sprint(from)
		if to, _ := rule["ToPort"].(float64); to != from {
			ports += fmt.Sprintf("-%v", to)
		}
	}
	dir, peerKeys := "egress", []string{"DestinationSecurityGroupId", "CidrIp", "CidrIpv6", "DestinationPrefixListId"}
	if ingress {
		dir, peerKeys = "ingress", []string{"SourceSecurityGroupId", "CidrIp", "CidrIpv6", "SourcePrefixListId"}
	}
	peer := "?"
	for _, k := range peerKeys {
		if v, ok := rule[k]; ok {
			if s, ok := v.(string); ok {
				peer = s
			} else {
				peer = groupName(v, exports)
			}
		}
	}
	prep := "to"
	if ingress {
		prep = "from"
	}
	return fmt.Sprintf("%s %s %v/%s %s %s", owner, dir, rule["IpProtocol"], ports, prep, peer)
}

// groupName resolves {"Fn::GetAtt": [ID, "GroupId"]} or {"Fn::ImportValue":
// NAME} to the name of the security group.
func groupName(v any, exports map[string]string) string {
	m, _ := v.(map[string]any)
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		return cdkHash.ReplaceAllString(fmt.Sprint(ga[0]), "")
	}
	if name, ok := m["Fn::ImportValue"]; ok {
		return exports[fmt.Sprint(name)]
	}
	return ""
}
