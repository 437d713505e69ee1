package config

import (
	"fmt"
	"reflect"
	"strings"
)

// validateInert refuses a value the file or the command line sets that has
// no effect because a switch it depends on is off: it reads as if it
// configured something while nothing changes, and turning the switch on
// later would bring a value nobody reviewed for it.
func (c Config) validateInert(v *validator, set origins) {
	r := c.Service.Rollout
	for _, rule := range []struct {
		fields []string
		off    bool
		why    string
	}{
		{[]string{"LoadBalancer.Firewall.RateLimitPer5Minutes", "LoadBalancer.Firewall.CountOnly", "LoadBalancer.Firewall.LogRetentionDays", "Monitoring.Thresholds.FirewallBlockedRequests"},
			!c.LoadBalancer.Firewall.Enabled, "LoadBalancer.Firewall.Enabled is off"},
		{[]string{"Service.Rollout.StepPercent", "Service.Rollout.StepBakeMinutes"},
			r.Strategy != "CANARY" && r.Strategy != "LINEAR", fmt.Sprintf("Service.Rollout.Strategy %s shifts no traffic in steps", r.Strategy)},
		{[]string{"Service.Rollout.BakeMinutes"}, !r.Progressive(), "Service.Rollout.Strategy ROLLING keeps no old tasks to bake"},
		{[]string{"Monitoring.Thresholds.RedisReplicationLagSeconds"}, c.Cache.Replicas == 0, "Cache.Replicas is 0, so nothing replicates"},
		{[]string{"Network.ApplicationBuckets"}, !c.Network.InterfaceEndpoints, "Network.InterfaceEndpoints is off (the tasks reach S3 through NAT, by Network.InternetEgress)"},
	} {
		if !rule.off {
			continue
		}
		for _, f := range rule.fields {
			if _, ok := set[f]; ok {
				v.add(f, fieldValue(c, f), "no value: it has no effect while "+rule.why+" (remove it, or turn that on)")
			}
		}
	}
}

// fieldValue is the value of the field at a dotted path of Config.
func fieldValue(c Config, path string) any {
	v := reflect.ValueOf(c)
	for _, name := range strings.Split(path, ".") {
		v = v.FieldByName(name)
	}
	return v.Interface()
}
