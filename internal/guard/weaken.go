package guard

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/example/platform/internal/cfn"
)

// protection is one property of one resource type whose change can give
// up a protection: lost reports whether going from before to after does,
// and says how.
type protection struct {
	typ, what, why string
	lost           func(before, after any) (string, bool)
}

// turnedOff is lost when a property that was true no longer is.
func turnedOff(before, after any) (string, bool) {
	return fmt.Sprintf("%v -> %v", before, orUnset(after)), truthy(before) && !truthy(after)
}

// dropped is lost when a property that was set no longer is.
func dropped(before, after any) (string, bool) {
	return "removed", before != nil && after == nil
}

// lowered is lost when a number goes down.
func lowered(before, after any) (string, bool) {
	b, okB := number(before)
	a, okA := number(after)
	return fmt.Sprintf("%v -> %v", before, orUnset(after)), okB && (!okA || a < b)
}

// attribute is lost when a load balancer attribute that was "true" no
// longer is.
func attribute(key string) func(before, after any) (string, bool) {
	value := func(v any) any {
		for _, a := range cfn.List(v) {
			if m := cfn.Object(a); m["Key"] == key {
				return m["Value"]
			}
		}
		return nil
	}
	return func(before, after any) (string, bool) { return turnedOff(value(before), value(after)) }
}

// protections are what the guard refuses to see weakened without an
// allow-list entry, per resource type and property.
var protections = []protection{
	{"AWS::RDS::DBInstance", "DeletionProtection", "the database can be deleted by accident", turnedOff},
	{"AWS::RDS::DBInstance", "MultiAZ", "the database loses its standby in another zone", turnedOff},
	{"AWS::RDS::DBInstance", "BackupRetentionPeriod", "fewer days of backups to restore from", lowered},
	{"AWS::RDS::DBInstance", "StorageEncrypted", "the data would be stored unencrypted", turnedOff},
	{"AWS::ElastiCache::ReplicationGroup", "AutomaticFailoverEnabled", "the cache no longer fails over", turnedOff},
	{"AWS::ElastiCache::ReplicationGroup", "MultiAZEnabled", "the cache loses its replica in another zone", turnedOff},
	{"AWS::ElastiCache::ReplicationGroup", "SnapshotRetentionLimit", "fewer days of cache snapshots", lowered},
	{"AWS::ElastiCache::ReplicationGroup", "TransitEncryptionEnabled", "cache traffic would travel unencrypted", turnedOff},
	{"AWS::ElastiCache::ReplicationGroup", "AtRestEncryptionEnabled", "cache data would be stored unencrypted", turnedOff},
	{"AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerAttributes", "the load balancer, and its DNS name, can be deleted by accident", attribute("deletion_protection.enabled")},
	{"AWS::SNS::Topic", "KmsMasterKeyId", "alarm notifications would be stored unencrypted", dropped},
	{"AWS::S3::Bucket", "BucketEncryption", "objects would be stored without the bucket's encryption", dropped},
	{"AWS::S3::Bucket", "PublicAccessBlockConfiguration", "the bucket could be made public", dropped},
	{"AWS::Logs::LogGroup", "KmsKeyId", "the logs would be stored without the customer-managed key", dropped},
	{"AWS::KMS::Key", "EnableKeyRotation", "the key is no longer rotated", turnedOff},
}

// guards are resource types whose removal from a stack gives up a
// protection, each with a name for the thing and why it matters; an
// endpoint is told apart by its service.
var guards = []struct{ typ, what, why string }{
	{"AWS::WAFv2::WebACL", "web ACL", "the load balancer loses its firewall (AWS WAF)"},
	{"AWS::WAFv2::WebACLAssociation", "web ACL association", "the load balancer loses its firewall (AWS WAF)"},
	{"AWS::WAFv2::LoggingConfiguration", "web ACL logging", "blocked and allowed requests are no longer logged"},
	{"AWS::EC2::VPCEndpoint", "VPC endpoint", "AWS is then reached through the internet, or not at all where egress is closed"},
	{"AWS::EC2::FlowLog", "flow log", "the VPC's traffic is no longer logged"},
}

// pairWeakenings lists what one pair of stacks (reviewed, deployed) gives
// up: protective properties turned off, protective resources removed, and
// termination protection.
func pairWeakenings(label string, reviewed, deployed Stack) []Weakening {
	var out []Weakening
	before, after := cfn.Object(reviewed.Template["Resources"]), cfn.Object(deployed.Template["Resources"])
	for _, id := range sortedKeys(before) {
		b := cfn.Object(before[id])
		typ, _ := b["Type"].(string)
		a := cfn.Object(after[id])
		if a == nil || a["Type"] != typ {
			continue // replaced or removed: the diff engine reports that
		}
		for _, p := range protections {
			if p.typ != typ {
				continue
			}
			if detail, lost := p.lost(cfn.Props(b)[p.what], cfn.Props(a)[p.what]); lost {
				out = append(out, Weakening{Env: label, Stack: reviewed.ID, LogicalID: id, Type: typ, What: p.what, Detail: detail, Why: p.why})
			}
		}
	}
	for _, g := range guards {
		had, has := guardNames(before, g.typ), guardNames(after, g.typ)
		for _, name := range had {
			if i := slices.Index(has, name); i >= 0 {
				has = slices.Delete(has, i, i+1)
				continue
			}
			out = append(out, Weakening{Env: label, Stack: reviewed.ID, LogicalID: name, Type: g.typ, What: g.what, Detail: "removed", Why: g.why})
		}
	}
	if reviewed.Identity.TerminationProtection && !deployed.Identity.TerminationProtection {
		out = append(out, Weakening{Env: label, Stack: reviewed.ID, LogicalID: "(stack)", Type: "AWS::CloudFormation::Stack", What: "TerminationProtection",
			Detail: "true -> false", Why: "the stack, and everything in it that is not retained, can be deleted by accident"})
	}
	return out
}

// guardNames names the resources of typ: an endpoint by its service (so
// a renamed construct is not a removal), anything else by its logical ID
// without the CDK's hash.
func guardNames(res map[string]any, typ string) []string {
	var out []string
	for _, id := range sortedKeys(res) {
		r := cfn.Object(res[id])
		if r["Type"] != typ {
			continue
		}
		name := cfn.Unhashed(id)
		if typ == "AWS::EC2::VPCEndpoint" {
			name = cfn.Flatten(cfn.Props(r)["ServiceName"])
		}
		out = append(out, name)
	}
	return out
}

// cidrPeer matches a flow whose peer is an address range: what opens a
// port to networks rather than to another group of the app.
var cidrPeer = regexp.MustCompile(` (from|to) ([0-9a-f.:]+/[0-9]+)$`)

// openedFlows lists the security-group rules to or from an address range
// that the deployed templates have and the reviewed ones do not.
func openedFlows(label string, reviewed, deployed map[string]cfn.Template) []Weakening {
	before, _ := cfn.Flows(reviewed)
	after, _ := cfn.Flows(deployed)
	var out []Weakening
	for _, f := range after {
		if slices.Contains(before, f) || !cidrPeer.MatchString(f) {
			continue
		}
		owner, rule, _ := strings.Cut(f, " ")
		stack := "(network)"
		for _, id := range sortedKeys(deployed) {
			for rid := range cfn.Resources(deployed[id], "AWS::EC2::SecurityGroup") {
				if cfn.Unhashed(rid) == owner {
					stack, owner = id, rid
				}
			}
		}
		why := "a port opens to an address range"
		if strings.HasSuffix(f, " 0.0.0.0/0") || strings.HasSuffix(f, " ::/0") {
			why = "a port opens to the whole internet"
		}
		out = append(out, Weakening{Env: label, Stack: stack, LogicalID: owner, Type: "AWS::EC2::SecurityGroup", What: rule, Detail: "added", Why: why})
	}
	return out
}

func truthy(v any) bool { return v == true || v == "true" }

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		var f float64
		_, err := fmt.Sscan(n, &f)
		return f, err == nil
	}
	return 0, false
}

func orUnset(v any) any {
	if v == nil {
		return "unset"
	}
	return v
}
