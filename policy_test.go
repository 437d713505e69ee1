package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/example/platform/internal/linediff"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expectedFlows is the network policy of DESIGN.md written out as the rules
// it must produce: every ingress and egress rule of every security group of
// an environment, in a canonical form. cfg decides the container port and
// whether interface endpoints exist.
func expectedFlows(t *testing.T, cfg config.Config, lookups map[string]any) []string {
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
		"RotationSecurityGroup egress tcp/5432 to DatabaseSecurityGroup",
		"DatabaseSecurityGroup ingress tcp/5432 from RotationSecurityGroup",
	}
	// What the application may reach on the internet, as configured.
	for _, e := range cfg.Network.InternetEgress {
		flows = append(flows, fmt.Sprintf("ServiceSecurityGroup egress tcp/%d to %s", e.Port, e.CIDR))
	}
	if !cfg.Network.InterfaceEndpoints {
		// AWS APIs through the NAT gateways.
		flows = append(flows,
			"InstanceSecurityGroup egress tcp/443 to 0.0.0.0/0",
			"RotationSecurityGroup egress tcp/443 to 0.0.0.0/0",
		)
	} else {
		// AWS only through the interface endpoints and the S3 gateway
		// endpoint's prefix list, the one recorded for the stacks' region.
		s3, err := config.S3PrefixList(lookups, cfg.Account, cfg.Region)
		require.NoError(t, err)
		if len(cfg.Network.ApplicationBuckets) > 0 {
			flows = append(flows, "ServiceSecurityGroup egress tcp/443 to "+s3)
		}
		flows = append(flows,
			"EndpointSecurityGroup ingress tcp/443 from ServiceSecurityGroup",
			"ServiceSecurityGroup egress tcp/443 to EndpointSecurityGroup",
			"EndpointSecurityGroup ingress tcp/443 from InstanceSecurityGroup",
			"InstanceSecurityGroup egress tcp/443 to EndpointSecurityGroup",
			"EndpointSecurityGroup ingress tcp/443 from RotationSecurityGroup",
			"RotationSecurityGroup egress tcp/443 to EndpointSecurityGroup",
			"InstanceSecurityGroup egress tcp/443 to "+s3,
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
	for _, env := range synthesized() {
		t.Run(env, func(t *testing.T) {
			got := flowsOf(t, env)
			want := expectedFlows(t, envs[env].cfg, envs[env].repo.Lookups)
			if w, g := strings.Join(want, "\n"), strings.Join(got, "\n"); w != g {
				assert.Fail(t, "security-group rules differ from the network policy", "%s", linediff.Diff(w, g))
			}
		})
	}
}

// TestProdEgressIsClosed: no security group of prod (as committed, and as
// the runbooks leave it) opens connections to 0.0.0.0/0 or ::/0; prod's
// preset promises it whatever its file says (Network.InternetEgress names
// destinations). The only ingress from anywhere is the load balancer's
// listeners.
func TestProdEgressIsClosed(t *testing.T) {
	for _, env := range configsOf("prod") {
		for _, f := range flowsOf(t, env) {
			if strings.Contains(f, " egress ") && (strings.HasSuffix(f, " to 0.0.0.0/0") || strings.HasSuffix(f, " to ::/0")) {
				assert.Fail(t, "egress to the internet", "%s: %s", env, f)
			}
			if strings.Contains(f, " ingress ") && strings.HasSuffix(f, " from 0.0.0.0/0") {
				assert.True(t, strings.HasPrefix(f, "LoadBalancerSecurityGroup ingress tcp/443 ") || strings.HasPrefix(f, "LoadBalancerSecurityGroup ingress tcp/80 "), "%s: %s", env, f)
			}
		}
	}
}
