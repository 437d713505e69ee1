package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var (
	imageTag         = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	amiID            = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
	instanceType     = regexp.MustCompile(`^(t3|t3a|m5|m5a|m6i|m6a|m7i|m7a|c5|c6i|c6a|c7i|c7a|r5|r6i|r6a|r7i|r7a)\.(micro|small|medium|large|xlarge|[1-9][0-9]?xlarge)$`)
	certificateArn   = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):([0-9]{12}):certificate/([0-9a-f-]{36})$`)
	httpCodes        = regexp.MustCompile(`^([1-5][0-9]{2})(-[1-5][0-9]{2})?(,([1-5][0-9]{2})(-[1-5][0-9]{2})?)*$`)
	scratchPrefix    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,29}$`)
	healthPath       = regexp.MustCompile(`^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,999}$`)
	healthCheckTools = []string{"wget", "curl", "none"}
	// Instance types too small to host an awsvpc task next to the agent.
	tooSmall = []string{"micro", "small"}
)

func (c Config) validateCompute(v *validator) {
	s, k, r, lb := c.Service, c.Cluster, c.Registry, c.LoadBalancer

	v.check(s.ImageTag == "" || imageTag.MatchString(s.ImageTag), "Service.ImageTag", s.ImageTag, "empty (placeholder image) or a Docker tag: letters, digits, _ . -, up to 128 characters")
	v.check(!(r.ImmutableTags && s.ImageTag == "latest"), "Service.ImageTag", s.ImageTag,
		"a version tag: with Registry.ImmutableTags a tag such as latest can be pushed only once")
	v.check(s.Cpu >= 128 && s.Cpu <= 10240, "Service.Cpu", s.Cpu, "from 128 to 10240 CPU units")
	v.check(s.MemoryMiB >= 128 && s.MemoryMiB <= 30720, "Service.MemoryMiB", s.MemoryMiB, "from 128 to 30720 MiB")
	v.check(slices.Contains(healthCheckTools, s.HealthCheckTool), "Service.HealthCheckTool", s.HealthCheckTool,
		fmt.Sprintf("one of %v (none for images without a shell)", healthCheckTools))
	v.check(s.HealthCheckGraceSeconds >= 0 && s.HealthCheckGraceSeconds <= 600, "Service.HealthCheckGraceSeconds", s.HealthCheckGraceSeconds, "from 0 to 600")
	v.check(s.CPUTargetPercent >= 10 && s.CPUTargetPercent <= 90, "Service.CPUTargetPercent", s.CPUTargetPercent, "from 10 to 90")
	v.check(s.RequestsPerTarget >= 1 && s.RequestsPerTarget <= 100000, "Service.RequestsPerTarget", s.RequestsPerTarget, "from 1 to 100000")
	v.check(slices.Contains(RetentionDays, s.LogRetentionDays), "Service.LogRetentionDays", s.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))

	size := ""
	if parts := strings.SplitN(k.InstanceType, ".", 2); len(parts) == 2 {
		size = parts[1]
	}
	v.check(instanceType.MatchString(k.InstanceType) && !slices.Contains(tooSmall, size), "Cluster.InstanceType", k.InstanceType,
		"a current x86_64 instance type of medium size or larger, such as t3.medium or m6i.large")
	v.check(k.AmiID == "" || amiID.MatchString(k.AmiID), "Cluster.AmiID", k.AmiID, "empty (recommended ECS-optimized AMI) or an AMI ID such as ami-0123456789abcdef0")
	v.check(k.RootVolumeGiB >= 30 && k.RootVolumeGiB <= 1000, "Cluster.RootVolumeGiB", k.RootVolumeGiB, "from 30 (the AMI's snapshot size) to 1000")

	v.check(len(r.ScratchTagPrefixes) >= 1 && len(r.ScratchTagPrefixes) <= 5, "Registry.ScratchTagPrefixes", r.ScratchTagPrefixes, "1 to 5 tag prefixes")
	for i, p := range r.ScratchTagPrefixes {
		field := fmt.Sprintf("Registry.ScratchTagPrefixes[%d]", i)
		v.check(scratchPrefix.MatchString(p), field, p, "1-30 tag characters (letters, digits, _ . -) such as pr-")
		v.check(!slices.Contains(r.ScratchTagPrefixes[:i], p), field, p, "each prefix listed once")
		// The lifecycle rules expire old images of these prefixes; the
		// image the service runs must never be one of them.
		v.check(s.ImageTag == "" || !strings.HasPrefix(s.ImageTag, p), "Service.ImageTag", s.ImageTag,
			fmt.Sprintf("a release tag: tags starting with %q are scratch images that lifecycle rules expire (Registry.ScratchTagPrefixes)", p))
	}
	v.check(r.KeepImages >= 1 && r.KeepImages <= 1000, "Registry.KeepImages", r.KeepImages, "from 1 to 1000")
	v.check(r.UntaggedExpiryDays >= 1 && r.UntaggedExpiryDays <= 365, "Registry.UntaggedExpiryDays", r.UntaggedExpiryDays, "from 1 to 365")

	c.validateCertificate(v)
	v.check(!lb.RequireHTTPS || lb.CertificateArn != "", "LoadBalancer.CertificateArn", lb.CertificateArn,
		"a certificate ARN: LoadBalancer.RequireHTTPS is on (set it with -c certificateArn=ARN)")
	v.check(healthPath.MatchString(lb.HealthCheckPath), "LoadBalancer.HealthCheckPath", lb.HealthCheckPath, "an absolute URL path such as /healthz")
	v.check(httpCodes.MatchString(lb.HealthyHTTPCodes), "LoadBalancer.HealthyHTTPCodes", lb.HealthyHTTPCodes, `HTTP codes or ranges such as "200" or "200-299,302"`)
	v.check(lb.HealthCheckIntervalSeconds >= 5 && lb.HealthCheckIntervalSeconds <= 300, "LoadBalancer.HealthCheckIntervalSeconds", lb.HealthCheckIntervalSeconds, "from 5 to 300")
	v.check(lb.HealthyThreshold >= 2 && lb.HealthyThreshold <= 10, "LoadBalancer.HealthyThreshold", lb.HealthyThreshold, "from 2 to 10")
	v.check(lb.UnhealthyThreshold >= 2 && lb.UnhealthyThreshold <= 10, "LoadBalancer.UnhealthyThreshold", lb.UnhealthyThreshold, "from 2 to 10")
	v.check(lb.DeregistrationDelaySeconds >= 0 && lb.DeregistrationDelaySeconds <= 3600, "LoadBalancer.DeregistrationDelaySeconds", lb.DeregistrationDelaySeconds, "from 0 to 3600")
	v.check(lb.IdleTimeoutSeconds >= 1 && lb.IdleTimeoutSeconds <= 4000, "LoadBalancer.IdleTimeoutSeconds", lb.IdleTimeoutSeconds, "from 1 to 4000")
	v.check(lb.AccessLogRetentionDays >= 1 && lb.AccessLogRetentionDays <= 3650, "LoadBalancer.AccessLogRetentionDays", lb.AccessLogRetentionDays, "from 1 to 3650")
}

// validateCertificate accepts only a certificate the load balancer of this
// deployment can use: ACM attaches certificates of the listener's own
// account and region, and the prod preset's all-zero placeholder exists in
// no account.
func (c Config) validateCertificate(v *validator) {
	arn := c.LoadBalancer.CertificateArn
	if arn == "" {
		return
	}
	const hint = " (set it with -c certificateArn=ARN)"
	m := certificateArn.FindStringSubmatch(arn)
	switch {
	case m == nil:
		v.add("LoadBalancer.CertificateArn", arn, "empty or an ACM certificate ARN"+hint)
	case m[1] != c.Region:
		v.add("LoadBalancer.CertificateArn", arn, fmt.Sprintf("a certificate in the stacks' region %s%s", c.Region, hint))
	case m[2] != c.Account:
		v.add("LoadBalancer.CertificateArn", arn, fmt.Sprintf("a certificate of the stacks' account %s%s", c.Account, hint))
	case c.RealAccount() && m[3] == placeholderCertificateID:
		v.add("LoadBalancer.CertificateArn", arn, "a real certificate: the all-zero ID is the presets' placeholder"+hint)
	}
}
