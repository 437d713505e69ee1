// Package cfn reads synthesized CloudFormation templates as plain JSON
// values: resources by type, a walk over every value, the cross-stack
// references between templates and the security-group rules they hold.
// Templates are keyed by stack ID, as in the cloud assembly.
package cfn

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Template is one parsed CloudFormation template.
type Template = map[string]any

// Resources returns the resources of the given type in tpl, keyed by
// logical ID.
func Resources(tpl Template, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range Object(tpl["Resources"]) {
		if r, ok := r.(map[string]any); ok && r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// IDs returns the logical IDs of the resources of the given type in tpl,
// sorted.
func IDs(tpl Template, typ string) []string {
	ids := slices.Collect(maps.Keys(Resources(tpl, typ)))
	slices.Sort(ids)
	return ids
}

// Each calls fn for every resource of the given type ("" for any type) of
// every template, in the order of stack ID then logical ID, and returns
// how many it visited. A resource that is not an object is skipped; Check
// reports it.
func Each(templates map[string]Template, typ string, fn func(stack, id string, r map[string]any)) int {
	n := 0
	for _, stack := range slices.Sorted(maps.Keys(templates)) {
		res := Object(templates[stack]["Resources"])
		for _, id := range slices.Sorted(maps.Keys(res)) {
			r, ok := res[id].(map[string]any)
			if !ok {
				continue
			}
			if typ == "" || r["Type"] == typ {
				fn(stack, id, r)
				n++
			}
		}
	}
	return n
}

// RefID is the logical ID a {"Ref": ID} or {"Fn::GetAtt": [ID, ...]}
// names, or "" for any other value.
func RefID(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		return fmt.Sprint(ga[0])
	}
	return ""
}

// Export is one output exported across stacks: the stack that produces
// it and the value it exports.
type Export struct {
	Stack string
	Value any
}

// Exports indexes every export of templates by its name.
func Exports(templates map[string]Template) map[string]Export {
	out := map[string]Export{}
	for stack, tpl := range templates {
		for _, o := range Object(tpl["Outputs"]) {
			o := Object(o)
			if exp, ok := o["Export"].(map[string]any); ok {
				out[fmt.Sprint(exp["Name"])] = Export{stack, o["Value"]}
			}
		}
	}
	return out
}

// Walk calls visit for every key of every object below v, with the dotted
// path of the object that holds it.
func Walk(v any, path string, visit func(path, key string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			visit(path, k, child)
			Walk(child, path+k+".", visit)
		}
	case []any:
		for i, child := range v {
			Walk(child, fmt.Sprintf("%s%d.", path, i), visit)
		}
	}
}

// Import is one Fn::ImportValue: which export, produced by which stack,
// read by which stack. An export nobody imports has no Consumer.
type Import struct{ Export, Producer, Consumer string }

// Imports lists every export of templates with each place that imports it
// (one entry per Fn::ImportValue).
func Imports(templates map[string]Template) []Import {
	exports := Exports(templates)
	var out []Import
	imported := map[string]bool{}
	for stack, tpl := range templates {
		Walk(tpl["Resources"], "", func(_, key string, v any) {
			if key == "Fn::ImportValue" {
				name := fmt.Sprint(v)
				imported[name] = true
				out = append(out, Import{name, exports[name].Stack, stack})
			}
		})
	}
	for name, e := range exports {
		if !imported[name] {
			out = append(out, Import{Export: name, Producer: e.Stack})
		}
	}
	return out
}

// ExportMap renders every export and the stacks that import it, one line
// each, sorted: "PRODUCER EXPORT-WITHOUT-STACK-PREFIX -> CONSUMERS".
func ExportMap(templates map[string]Template) string {
	consumers := map[[2]string][]string{} // producer, export -> consumers
	for _, i := range Imports(templates) {
		key := [2]string{i.Producer, i.Export}
		if _, ok := consumers[key]; !ok {
			consumers[key] = nil
		}
		if i.Consumer != "" && !slices.Contains(consumers[key], i.Consumer) {
			consumers[key] = append(consumers[key], i.Consumer)
		}
	}
	var lines []string
	for key, c := range consumers {
		sort.Strings(c)
		if len(c) == 0 {
			c = []string{"(unused: kept alive with ExportValue?)"}
		}
		lines = append(lines, fmt.Sprintf("%s %s -> %s", key[0], key[1][strings.Index(key[1], ":")+1:], strings.Join(c, ", ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

var cdkHash = regexp.MustCompile(`[0-9A-F]{8}$`)

// Unhashed is a logical ID without the hash suffix the CDK appends.
func Unhashed(id string) string { return cdkHash.ReplaceAllString(id, "") }

// Flows renders every security-group rule of templates, sorted, one line
// each: "OWNER ingress|egress PROTOCOL/PORTS from|to PEER". Security groups
// are named by their logical ID without the CDK's hash; references through
// exports are followed to the producing stack. A rule whose group it cannot
// name is an error.
func Flows(templates map[string]Template) ([]string, error) {
	exports := map[string]string{}
	for name, e := range Exports(templates) {
		exports[name] = groupName(e.Value, nil)
	}
	var flows []string
	var errs []string
	for stack, tpl := range templates {
		for id, r := range Object(tpl["Resources"]) {
			r := Object(r)
			props := Props(r)
			switch r["Type"] {
			case "AWS::EC2::SecurityGroup":
				owner := Unhashed(id)
				for _, dir := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
					for _, rule := range List(props[dir]) {
						if f := flow(owner, dir == "SecurityGroupIngress", Object(rule), exports); f != "" {
							flows = append(flows, f)
						}
					}
				}
			case "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress":
				owner := groupName(props["GroupId"], exports)
				if owner == "" {
					errs = append(errs, fmt.Sprintf("%s/%s: cannot tell which security group %v is", stack, id, props["GroupId"]))
					continue
				}
				if f := flow(owner, r["Type"] == "AWS::EC2::SecurityGroupIngress", props, exports); f != "" {
					flows = append(flows, f)
				}
			}
		}
	}
	sort.Strings(flows)
	if len(errs) > 0 {
		sort.Strings(errs)
		return flows, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return flows, nil
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
		return Unhashed(fmt.Sprint(ga[0]))
	}
	if name, ok := m["Fn::ImportValue"]; ok {
		return exports[fmt.Sprint(name)]
	}
	return ""
}
